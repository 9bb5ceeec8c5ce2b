"""The dashboard's routes: one shell per page, and the static files its scripts and styles
live in. Nothing here reads the mock's state; the pages fetch it from the control API."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import jinja2
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from mockserver.render import SHAPES

HERE = Path(__file__).resolve().parent

#: The pages forbid every source but the mock itself: no CDN, no inline script, no framing.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)


@dataclass(frozen=True, slots=True)
class Page:
    """One page of the dashboard: its name (template and script), path and title."""

    name: str
    path: str
    title: str


PAGES: tuple[Page, ...] = (
    Page("requests", "/ui", "Requests"),
    Page("world", "/ui/world", "World"),
    Page("faults", "/ui/faults", "Faults"),
    Page("retries", "/ui/retries", "Retries"),
    Page("webhooks", "/ui/webhooks", "Webhooks"),
)
_PAGE_PATHS = frozenset(page.path for page in PAGES)
STATIC_PREFIX = "/ui/static/"


def is_shell(path: str, mount: str = "/_mock") -> bool:
    """Whether ``path`` (full, under ``mount``) is a page shell or a static file of the
    dashboard: they hold no data, so a browser may load them without the control token; the
    data they then fetch needs it like any control call."""
    if not path.startswith(f"{mount}/ui"):
        return False
    inner = path[len(mount) :]
    return inner in _PAGE_PATHS or (inner.startswith(STATIC_PREFIX) and ".." not in inner)


def ui_routes(operation_ids: Sequence[str]) -> list[BaseRoute]:
    """The dashboard's routes, to mount under ``/_mock`` beside the control API.

    ``operation_ids`` fill the operation pickers of the filter and fault forms.
    """
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    templates = Jinja2Templates(env=env)
    operations = sorted(operation_ids)

    def shell(page: Page) -> Route:
        async def endpoint(request: Request) -> Response:
            # Under a mount, root_path ends at /_mock: links and API calls start there.
            base = request.scope.get("root_path", "")
            return templates.TemplateResponse(
                request,
                f"{page.name}.html",
                {
                    "page": page,
                    "pages": PAGES,
                    "base": base,
                    "static": f"{base}/ui/static",
                    "operations": operations,
                    "shapes": SHAPES,
                },
                headers={
                    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
                    "Cache-Control": "no-store",
                    "X-Content-Type-Options": "nosniff",
                    "Referrer-Policy": "no-referrer",
                },
            )

        return Route(page.path, endpoint, methods=["GET"], name=f"ui-{page.name}")

    return [
        *(shell(page) for page in PAGES),
        Mount(
            STATIC_PREFIX.rstrip("/"),
            app=StaticFiles(directory=HERE / "static"),
            name="ui-static",
        ),
    ]
