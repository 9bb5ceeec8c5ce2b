"""The rate-limit layer: plain ASGI middleware in front of the Codat surface.

When the emulation is on, every Codat request is admitted or refused by the app's
:class:`~mockserver.faults.ratelimit.RateLimiter` (on the mock clock); admitted responses carry
the ``X-Rate-Limit-*`` headers, refused ones are a 429 with ``Retry-After``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.auth import authenticate
from mockserver.errors import ApiError, error_body
from mockserver.exchange import exchange_of
from mockserver.jsonio import json_response

if TYPE_CHECKING:
    from mockserver.app import MockState


class RateLimitMiddleware:
    """Admit or refuse each Codat request; add the quota headers to what is admitted."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        state: MockState,
        skip_prefixes: tuple[str, ...] = ("/_mock", "/openapi."),
    ) -> None:
        self.app = app
        self.state = state
        self.skip_prefixes = skip_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limiter = self.state.rate_limiter
        if (
            scope["type"] != "http"
            or not limiter.config.enabled
            or scope["path"].startswith(self.skip_prefixes)
        ):
            await self.app(scope, receive, send)
            return
        header = next(
            (
                v.decode("latin-1")
                for k, v in scope.get("headers", [])
                if k.lower() == b"authorization"
            ),
            None,
        )
        try:
            client_id: str | None = authenticate(header).client_id
        except ApiError:
            client_id = None  # unauthenticated calls count against the IP limit only
        active = self.state.world.tenant(client_id).active_company_count() if client_id else 0
        peer = scope.get("client")
        admission = limiter.admit(
            client_id=client_id, ip=peer[0] if peer else None, active_companies=active
        )
        if not admission.allowed:
            exchange_of(scope).fault_action = f"rate-limit:{admission.reason}"
            err = admission.error()
            body = error_body(err, self.state.correlation_id())
            await json_response(body, err.status, err.headers)(scope, receive, send)
            return
        extra = [
            (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in admission.headers.items()
        ]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            limiter.release(admission)
