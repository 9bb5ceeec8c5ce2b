"""Resolve a Codat request once, at the front: headers, operation, caller.

The app's outermost layer calls :meth:`Resolver.resolve` for every HTTP request to the Codat
surface; the :class:`~mockserver.exchange.Exchange` it puts into the scope carries the parsed
headers, the matched operation (or why none matched) and the authenticated client (or none).
The journal, the fault layer, the rate-limit layer and the surface all read it from there, so
no layer parses, routes or authenticates a request a second time.
"""

from __future__ import annotations

from starlette.types import Scope, Send

from mockserver.auth import authenticate
from mockserver.errors import ApiError, Unauthorized
from mockserver.exchange import SCOPE_KEY, Exchange
from mockserver.faults.connection import RawConnection
from mockserver.routing import Router

#: Paths outside the Codat surface: the control API and the contract documents.
NOT_CODAT = ("/_mock", "/openapi.")


class Resolver:
    """Builds each Codat request's :class:`Exchange` from the contract's routes."""

    __slots__ = ("router", "skip_prefixes")

    def __init__(self, router: Router, *, skip_prefixes: tuple[str, ...] = NOT_CODAT) -> None:
        self.router = router
        self.skip_prefixes = skip_prefixes

    def is_codat(self, scope: Scope) -> bool:
        """Whether ``scope`` is an HTTP request to the Codat surface."""
        return scope["type"] == "http" and not str(scope.get("path", "")).startswith(
            self.skip_prefixes
        )

    def resolve(self, scope: Scope, send: Send | None = None) -> Exchange:
        """Parse, route and authenticate the request once; the result rides on the scope.

        ``send`` is the server's own send callable (before any layer wraps it), from which
        the raw connection is found for faults that drop it.
        """
        headers = {
            k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", ())
        }
        exchange = Exchange(headers=headers)
        try:
            match = self.router.match(str(scope["method"]), str(scope.get("path", "/")))
        except ApiError as err:
            exchange.route_error = err
        else:
            exchange.match = match
            exchange.operation_id = match.operation.operation_id
        try:
            client = authenticate(headers.get("authorization"))
        except Unauthorized:
            pass
        else:
            exchange.client = client
            exchange.client_id = client.client_id
        if send is not None:
            exchange.connection = RawConnection.from_send(send)
        scope[SCOPE_KEY] = exchange
        return exchange
