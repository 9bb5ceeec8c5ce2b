"""Who may use the control API: the guard in front of every ``/_mock`` route.

The control API can reset the mock, read every tenant's request bodies and register webhooks,
so it must never be reachable cross-site. It trusts:

* with ``--control-token``: only requests carrying ``X-Codat-Mock-Token`` with that token
  (``/_mock/health`` and the dashboard's data-free page shells excepted), 401 otherwise;
* without a token: only requests whose ``Host`` is a loopback name or address (or the host the
  mock was bound to), which stops DNS rebinding; anything else is 403.

And whatever the token: a request a browser marks as coming from another origin (``Origin``,
``Sec-Fetch-Site``) is 403, and a state-changing request whose body is not JSON is 415, so that
a web page can neither post a form nor send a ``text/plain`` "simple request" at it. Unknown
``/_mock`` routes and wrong methods answer 404 and 405 in the same error shape.

Being middleware on the ``/_mock`` mount, the guard covers every route mounted there, the
dashboard's included.
"""

from __future__ import annotations

import hmac
import ipaddress
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver.errors import (
    ApiError,
    Forbidden,
    MethodNotAllowed,
    NotFound,
    Unauthorized,
    UnsupportedMediaType,
)

#: The header that carries the control token.
TOKEN_HEADER = "X-Codat-Mock-Token"
#: The environment variable the CLI and the contract suites read the token from.
TOKEN_ENV = "CODAT_MOCK_CONTROL_TOKEN"
#: The one route anyone may read: it tells a tool that a codat-mock answers here.
OPEN_PATHS = frozenset({"/_mock/health"})
#: Loopback names. ``testserver`` is the host Starlette's and httpx's in-process clients send;
#: no request over a socket reaches an in-process app, and no browser page is served from it.
LOOPBACK_NAMES = frozenset({"localhost", "testserver"})
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_BROWSER_SAME_ORIGIN = frozenset({"same-origin", "none"})

ErrorResponder = Callable[[ApiError], ASGIApp]

NEEDS_TOKEN = f"The control API needs the {TOKEN_HEADER} header with the mock's control token."
LOOPBACK_ONLY = (
    "The control API answers loopback host names only (127.0.0.1, localhost); start the "
    "mock with --control-token to reach it by another name."
)
CROSS_SITE = "The control API does not take cross-site requests."
JSON_ONLY = "The control API takes JSON bodies: send Content-Type: application/json."
NO_ROUTE = "No control route was found at this path; see /_mock/openapi.json."


def control_headers(token: str | None) -> dict[str, str]:
    """The headers a client of the control API sends: the token when there is one."""
    return {TOKEN_HEADER: token} if token else {}


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` (a name or an address, without port) names this machine's loopback."""
    name = host.strip("[]").lower().rstrip(".")
    if name in LOOPBACK_NAMES or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def exposure_problem(host: str, token: str | None) -> str | None:
    """Why binding to ``host`` must be refused (a non-loopback address without a token)."""
    if token:
        return None
    if is_loopback_host(host):
        return None
    try:
        # A name that resolves to loopback only (an /etc/hosts alias) is as private.
        found = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except (OSError, UnicodeError):
        found = set()
    if found and all(is_loopback_host(str(address)) for address in found):
        return None
    return (
        f"--host {host} is reachable from other machines, and the control API (/_mock) can "
        "reset the mock and read every request; set --control-token TOKEN (or "
        f"{TOKEN_ENV}) to bind beyond loopback"
    )


class ControlGuard:
    """ASGI middleware for the ``/_mock`` mount: refuses what the control API must not serve,
    and answers routing misses (404, 405) in Codat's error shape.

    ``allowed_host`` is the address the mock was bound to; ``respond`` turns an ApiError
    into the response to send; ``open_to_read`` names full paths anyone may GET without the
    token (the host and same-origin checks still apply).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        token: str | None,
        allowed_host: str,
        respond: ErrorResponder,
        open_to_read: Callable[[str], bool] = lambda _: False,
    ) -> None:
        self.app = app
        self._open_to_read = open_to_read
        self._token = token.encode("utf-8") if token else None
        self._allowed_host = allowed_host.strip("[]").lower()
        self._respond = respond

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self.refusal(scope)
        if refusal is not None:
            await self._respond(refusal)(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        except HTTPException as exc:  # raised by the router before any response started
            await self._respond(_routing_error(exc))(scope, receive, send)

    def refusal(self, scope: Scope) -> ApiError | None:
        """The error a request gets before it reaches a control route, if any."""
        headers = Headers(scope=scope)
        path = _full_path(scope)
        if self._token is not None:
            # With a token the mock may be bound beyond loopback, under any name: the token,
            # not the Host, is what keeps a rebound page out.
            if not self._open(path, scope["method"]) and not self._token_matches(
                headers.get(TOKEN_HEADER)
            ):
                return Unauthorized(NEEDS_TOKEN)
        elif not self._host_allowed(headers.get("host")):
            return Forbidden(LOOPBACK_ONLY)
        if not _same_origin(headers):
            return Forbidden(CROSS_SITE)
        if scope["method"] not in _SAFE_METHODS and not _json_or_empty(headers):
            return UnsupportedMediaType(JSON_ONLY)
        return None

    def _open(self, path: str, method: str) -> bool:
        """Whether the request needs no token: health, and reads ``open_to_read`` allows (the
        dashboard's page shells, which hold no data; their data calls carry the token)."""
        return path in OPEN_PATHS or (method in _SAFE_METHODS and self._open_to_read(path))

    def _token_matches(self, given: str | None) -> bool:
        assert self._token is not None
        # Constant time, so the answer's timing does not leak how much of a guess was right.
        return hmac.compare_digest((given or "").encode("utf-8"), self._token)

    def _host_allowed(self, host: str | None) -> bool:
        if host is None:
            return True  # HTTP/1.0 without Host: not a browser, which always sends one
        name = _host_name(host)
        return name == self._allowed_host or is_loopback_host(name)


def _full_path(scope: Scope) -> str:
    # Inside a Mount, Starlette keeps the full path and puts the mount's prefix in root_path.
    root, path = scope.get("root_path", ""), scope["path"]
    return str(path) if path.startswith(root) else f"{root}{path}"


def _host_name(authority: str) -> str:
    """The host part of a ``Host`` header value (port and IPv6 brackets removed)."""
    try:
        parsed = urlsplit(f"//{authority.strip()}")
        return (parsed.hostname or "").lower()
    except ValueError:
        return ""


def _same_origin(headers: Headers) -> bool:
    site = headers.get("sec-fetch-site")
    if site is not None and site.lower() not in _BROWSER_SAME_ORIGIN:
        return False
    origin = headers.get("origin")
    if origin is None:
        return True
    try:
        origin_authority = urlsplit(origin).netloc.lower()
    except ValueError:
        return False
    # "null" (a sandboxed frame, a file:// page) has no authority and never matches.
    return bool(origin_authority) and origin_authority == headers.get("host", "").lower()


def _json_or_empty(headers: Headers) -> bool:
    content_type = headers.get("content-type")
    if content_type is None:
        # No declared type is fine only when there is no body at all.
        return headers.get("content-length", "0").strip() == "0" and (
            "transfer-encoding" not in headers
        )
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def _routing_error(exc: HTTPException) -> ApiError:
    if exc.status_code == 405:
        return MethodNotAllowed(headers=dict(exc.headers or {}))
    if exc.status_code == 404:
        return NotFound(NO_ROUTE)
    return ApiError(exc.detail, status=exc.status_code, headers=dict(exc.headers or {}))
