"""The rate-limit layer: plain ASGI middleware in front of the Codat surface.

When the emulation is on, every Codat request is admitted or refused by the app's
:class:`~mockserver.faults.ratelimit.RateLimiter` (on the mock clock); admitted responses carry
the ``X-Rate-Limit-*`` headers, refused ones are a 429 with ``Retry-After``.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.exchange import exchange_of
from mockserver.faults.ratelimit import RateLimiter
from mockserver.http_errors import error_response
from mockserver.render import Render
from mockserver.store import World


class RateLimitMiddleware:
    """Admit or refuse each Codat request; add the quota headers to what is admitted."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        limiter: RateLimiter,
        world: World,
        correlation_id: Callable[[], str],
        render_error: Render | None = None,
    ) -> None:
        self.app = app
        self.limiter = limiter
        self.world = world
        self.correlation_id = correlation_id
        self.render_error = render_error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limiter = self.limiter
        exchange = exchange_of(scope)
        if exchange is None or not limiter.config.enabled:
            await self.app(scope, receive, send)
            return
        # Unauthenticated calls count against the IP limit only. A client not seen before
        # has no companies yet; its tenant is made by the surface, if the call gets there.
        client_id = exchange.client_id
        tenant = self.world.existing_tenant(client_id) if client_id else None
        active = tenant.active_company_count() if tenant is not None else 0
        peer = scope.get("client")
        admission = limiter.admit(
            client_id=client_id, ip=peer[0] if peer else None, active_companies=active
        )
        if not admission.allowed:
            exchange.fault_action = f"rate-limit:{admission.reason}"
            response = error_response(
                admission.error(), self.correlation_id(), render=self.render_error
            )
            await response(scope, receive, send)
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
