"""The first check every request meets: the size of its URL and headers.

uvicorn takes in request lines and headers of any size, so the app bounds them itself,
before any layer reads them: headers (every name and value together) over the limit are a
431, a path and query string over theirs a 414, both in Codat's error shape. This runs for
the Codat surface and the control API alike, at the very front (``MockApp`` puts it before
the resolver and every middleware), so that nothing of an over-large request is parsed or
kept. Bodies are bounded where they are read (mockserver.bodies).
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver.errors import ApiError, HeadersTooLarge, UriTooLong


class RequestBounds:
    """ASGI middleware refusing over-large headers (431) and URLs (414)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_header_bytes: int,
        max_url_bytes: int,
        respond: Callable[[ApiError], Response],
    ) -> None:
        self.app = app
        self.max_header_bytes = max_header_bytes
        self.max_url_bytes = max_url_bytes
        self.respond = respond

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            problem = self.problem(scope)
            if problem is not None:
                await self.respond(problem)(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def problem(self, scope: Scope) -> ApiError | None:
        """What is too large about the request in ``scope`` (None when nothing is)."""
        header_bytes = sum(len(name) + len(value) for name, value in scope.get("headers", []))
        if header_bytes > self.max_header_bytes:
            return HeadersTooLarge(
                f"The request's headers are larger than {self.max_header_bytes} bytes."
            )
        path = scope.get("raw_path") or str(scope.get("path", "")).encode("utf-8", "replace")
        url_bytes = len(path) + len(scope.get("query_string", b""))
        if url_bytes > self.max_url_bytes:
            return UriTooLong(
                f"The request's path and query string are longer than {self.max_url_bytes} bytes."
            )
        return None
