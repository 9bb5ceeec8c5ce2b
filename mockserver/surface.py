"""The Codat surface: the ASGI app that answers every operation of ``openapi.yaml``.

A request passes, top to bottom: the route (404/405) and the caller (401) as the front layer
resolved them -> read the body (413) -> validate against the contract (400/415) -> the
handler -> the answer in its response shape (mockserver.render) -> (strict mode) validate the
response (loud 500). Errors raised anywhere on the way are answered through
:func:`mockserver.http_errors.error_response`, in the same shape.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qs

from starlette.types import Receive, Scope, Send

from mockserver.bodies import BodyIncomplete, read_body
from mockserver.errors import ApiError, InternalServerError, Unauthorized
from mockserver.exchange import exchange_of
from mockserver.handlers import Call, Registry
from mockserver.http_errors import BodyCheck, CorrelationIds, error_response
from mockserver.jsonio import json_response
from mockserver.render import DEFAULT_SHAPE, ERROR_SCHEMA, Shaper, check_shape
from mockserver.resolve import Resolver
from mockserver.routing import Match
from mockserver.spec import Spec
from mockserver.store import World
from mockserver.validation import check_response, locate, validate_request

log = logging.getLogger("codat_mock")


class CodatSurface:
    """Plain ASGI app serving the Codat API from the contract, the registry and the world."""

    def __init__(
        self,
        *,
        spec: Spec,
        registry: Registry,
        world: World,
        resolver: Resolver,
        correlation: CorrelationIds,
        strict: bool,
        max_body_bytes: int,
        shaper: Shaper | None = None,
        shape: str = DEFAULT_SHAPE,
    ) -> None:
        self.spec = spec
        self.registry = registry
        self.world = world
        self.resolver = resolver
        self.correlation = correlation
        self.strict = strict
        self.max_body_bytes = max_body_bytes
        self.shaper = shaper or Shaper(spec)
        #: The server's response shape; a shape fault rule may choose another per answer.
        self.shape = check_shape(shape)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # pragma: no cover - lifespan is handled by Starlette
            return
        # Resolved at the front; a path outside the surface's prefixes (``/openapi.x``) that
        # no other route took is resolved here, to be answered in Codat's shape all the same.
        exchange = exchange_of(scope) or self.resolver.resolve(scope)
        path = str(scope.get("path", "/"))
        match = exchange.match
        check: BodyCheck | None = None
        shape = exchange.shape = exchange.shape or self.shape
        try:
            if match is None:
                assert exchange.route_error is not None
                raise exchange.route_error
            if self.strict:
                operation = match.operation

                def check(status: int, body: dict[str, Any]) -> None:
                    # Error answers are part of the contract too: an undocumented status or
                    # a malformed body must not slip out unnoticed.
                    if status < 500:
                        check_response(operation, status, body)

            client = exchange.client
            if client is None:
                raise Unauthorized()
            headers = exchange.headers
            body = await read_body(receive, headers.get("content-length"), self.max_body_bytes)
            query_string = scope.get("query_string", b"")
            query = (
                parse_qs(query_string.decode("latin-1"), keep_blank_values=True)
                if query_string
                else {}
            )
            try:
                valid = validate_request(
                    match.operation,
                    match.path_params,
                    query,
                    headers.get("content-type"),
                    body,
                )
            except ApiError as err:
                # What the client sent off-contract is worth keeping beyond the 400 itself:
                # the journal lists it, so a client conformance suite can assert on it.
                exchange.violations.extend(item.to_json() for item in err.validation)
                if not err.validation:
                    exchange.violations.append({"itemId": None, "message": err.message})
                raise
            world = self.world
            call = Call(
                operation=match.operation,
                client=client,
                tenant=world.tenant(client.client_id),
                world=world,
                spec=self.spec,
                path=valid.path,
                query=valid.query,
                extra_query={
                    name: values[-1]
                    for name, values in query.items()
                    if name not in match.operation.query_names
                },
                body=valid.body,
                has_body=valid.has_body,
                url_path=path,
            )
            try:
                result: Any = self.registry.get(match.operation.operation_id)(call)
            except ApiError as err:
                raise locate(err, match.operation) from None
            if shape != DEFAULT_SHAPE:  # the default is how the store built it: no walk
                result = self.shaper.shape(result, shape, _schema_of(match, 200))
            if self.strict:
                check_response(match.operation, 200, result)
            response = json_response(result)
        except ApiError as err:
            render = None
            if shape != DEFAULT_SHAPE:
                render = self.shaper.renderer(shape, _schema_of(match, err.status))
            response = error_response(err, self.correlation(), check=check, render=render)
        except BodyIncomplete:
            # The client left before its body fully arrived: nothing ran, nothing changed,
            # and nobody is there to answer. The journal records the drop, not a status.
            exchange.dropped = "client-left"
            return
        except Exception:
            log.exception("unhandled error in %s %s", scope["method"], path)
            response = error_response(
                InternalServerError(),
                self.correlation(),
                render=self.shaper.renderer(shape, ERROR_SCHEMA),
            )
        await response(scope, receive, send)


def _schema_of(match: Match | None, status: int) -> str:
    """Where the contract describes the body of a ``status`` answer to ``match``: Codat's
    ErrorMessage for answers the operation does not document (and for unrouted requests)."""
    documented = match.operation.responses.get(status) if match is not None else None
    if documented is not None and documented.validator is not None:
        return documented.validator.pointer
    return ERROR_SCHEMA
