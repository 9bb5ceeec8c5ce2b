"""The Codat surface: the ASGI app that answers every operation of ``openapi.yaml``.

A request passes, top to bottom: route (404/405) -> authenticate (401) -> read the body
(413) -> validate against the contract (400/415) -> the handler -> (strict mode) validate the
response (loud 500). Errors raised anywhere become Codat's ErrorMessage here, in one place.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from starlette.types import Receive, Scope, Send

from mockserver.auth import authenticate
from mockserver.bodies import BodyIncomplete, read_body
from mockserver.errors import ApiError, InternalServerError, error_body
from mockserver.exchange import exchange_of
from mockserver.handlers import Call, Registry
from mockserver.jsonio import json_response
from mockserver.routing import Match, Router
from mockserver.validation import check_response, locate, validate_request

if TYPE_CHECKING:
    from mockserver.app import MockState

log = logging.getLogger("codat_mock")


class CodatSurface:
    """Plain ASGI app serving the Codat API from the contract, the registry and the state."""

    def __init__(self, state: MockState, registry: Registry) -> None:
        self.state = state
        self.registry = registry
        self.router = Router(state.spec.operations.values())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # pragma: no cover - lifespan is handled by Starlette
            return
        method: str = scope["method"]
        path: str = scope.get("path", "/")
        headers = _headers(scope)
        match: Match | None = None
        extra_headers: dict[str, str] = {}
        exchange = exchange_of(scope)
        try:
            match = self.router.match(method, path)
            exchange.operation_id = match.operation.operation_id
            client = authenticate(headers.get("authorization"))
            exchange.client_id = client.client_id
            body = await read_body(
                receive, headers.get("content-length"), self.state.settings.max_body_bytes
            )
            query = parse_qs(
                scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True
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
            world = self.state.world
            call = Call(
                operation=match.operation,
                client=client,
                tenant=world.tenant(client.client_id),
                world=world,
                spec=self.state.spec,
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
            status = 200
            if self.state.settings.strict:
                check_response(match.operation, status, result)
        except ApiError as err:
            status, result, extra_headers = self._error(err, match)
        except BodyIncomplete:
            # The client left before its body fully arrived: nothing ran, nothing changed,
            # and nobody is there to answer. The journal records the drop, not a status.
            exchange.dropped = "client-left"
            return
        except Exception:
            log.exception("unhandled error in %s %s", method, path)
            status, result, extra_headers = self._error(InternalServerError(), None)
        response = json_response(result, status, extra_headers)
        await response(scope, receive, send)

    def _error(self, err: ApiError, match: Match | None) -> tuple[int, Any, dict[str, str]]:
        body = error_body(err, self.state.correlation_id())
        if self.state.settings.strict and match is not None and err.status < 500:
            # Error answers are part of the contract too: an undocumented status or a
            # malformed body must not slip out unnoticed.
            try:
                check_response(match.operation, err.status, body)
            except ApiError as violation:
                return violation.status, error_body(violation, self.state.correlation_id()), {}
        return err.status, body, err.headers


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
