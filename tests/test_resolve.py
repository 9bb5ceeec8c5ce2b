"""Tests of mockserver/resolve.py (the front layer) and mockserver/http_errors.py (the one
place an ApiError becomes a response)."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient
from starlette.types import Scope

from mockserver.app import Components, create_app
from mockserver.auth import authorization_for, client_id_for
from mockserver.errors import (
    ApiError,
    CodatMockError,
    ContractViolation,
    MethodNotAllowed,
    NotFound,
    TooManyRequests,
)
from mockserver.exchange import exchange_of
from mockserver.http_errors import CorrelationIds, error_response
from mockserver.jsonio import loads
from mockserver.resolve import Resolver
from mockserver.routing import Router
from mockserver.settings import Settings
from mockserver.spec import Spec
from tests.conftest import API_KEY


@pytest.fixture(scope="module")
def resolver(spec: Spec) -> Resolver:
    return Resolver(Router(spec.operations.values()))


def scope_for(method: str, path: str, headers: dict[str, str] | None = None) -> Scope:
    raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
    return {"type": "http", "method": method, "path": path, "headers": raw}


def test_only_codat_requests_are_resolved(resolver: Resolver) -> None:
    assert resolver.is_codat(scope_for("GET", "/companies"))
    assert resolver.is_codat(scope_for("GET", "/anything/else"))
    assert not resolver.is_codat(scope_for("GET", "/_mock/health"))
    assert not resolver.is_codat(scope_for("GET", "/openapi.yaml"))
    assert not resolver.is_codat({"type": "lifespan"})


def test_resolve_parses_routes_and_authenticates_once(resolver: Resolver) -> None:
    scope = scope_for(
        "GET",
        "/companies/8a210b68-6988-11ed-a1eb-0242ac120002/connections",
        {"Authorization": authorization_for(API_KEY), "Prefer": "code=503"},
    )
    exchange = resolver.resolve(scope)
    assert exchange_of(scope) is exchange
    assert exchange.headers["prefer"] == "code=503"
    assert exchange.operation_id == "list-connections"
    assert exchange.match is not None
    assert exchange.match.path_params == {"companyId": "8a210b68-6988-11ed-a1eb-0242ac120002"}
    assert exchange.route_error is None
    assert exchange.client_id == client_id_for(API_KEY)
    assert exchange.connection is None  # no server transport in-process


@pytest.mark.parametrize(
    ("method", "path", "error"),
    [("GET", "/nowhere", NotFound), ("PATCH", "/companies", MethodNotAllowed)],
)
def test_resolve_keeps_why_no_operation_matched(
    resolver: Resolver, method: str, path: str, error: type[ApiError]
) -> None:
    exchange = resolver.resolve(scope_for(method, path, {"Authorization": "Bearer nope"}))
    assert (exchange.match, exchange.operation_id) == (None, None)
    assert isinstance(exchange.route_error, error)
    assert (exchange.client, exchange.client_id) == (None, None)


def test_correlation_ids_are_seeded_and_start_over_on_reset() -> None:
    ids = CorrelationIds(7)
    first = [ids(), ids()]
    assert all(len(value) == 32 for value in first) and first[0] != first[1]
    assert [CorrelationIds(7)(), CorrelationIds(8)()] != [first[0], first[0]]
    ids.reset()
    assert [ids(), ids()] == first


def test_error_response_carries_status_headers_and_the_error_message() -> None:
    err = TooManyRequests(headers={"Retry-After": "3"})
    response = error_response(err, "c" * 32)
    assert response.status_code == 429
    assert response.headers["retry-after"] == "3"
    body = loads(bytes(response.body))
    assert (body["statusCode"], body["correlationId"], body["canBeRetried"]) == (
        429,
        "c" * 32,
        "True",
    )


def test_a_failed_check_answers_the_violation_instead() -> None:
    def check(status: int, body: dict[str, Any]) -> None:
        raise ContractViolation(f"{status} is not documented")

    response = error_response(NotFound(), "c" * 32, check=check)
    assert response.status_code == 500
    assert loads(bytes(response.body))["error"] == "404 is not documented"


def test_every_library_error_shares_one_root() -> None:
    from mockserver.faults import ConnectionDropped, FaultRuleError
    from mockserver.fixtures import FixtureError
    from mockserver.spec import SpecError
    from mockserver.webhooks import SecretError

    for cls in (ApiError, ConnectionDropped, FaultRuleError, FixtureError, SpecError, SecretError):
        assert issubclass(cls, CodatMockError)


def test_reset_works_in_place_on_the_components_the_layers_hold(spec: Spec) -> None:
    app = create_app(Settings(seed=3), spec=spec)
    parts: Components = app.state.mock
    held = (parts.world, parts.faults, parts.journal)
    with TestClient(app, headers={"Authorization": authorization_for(API_KEY)}) as client:
        first = client.post("/companies", json={"name": "Before"}).json()["id"]
        client.post("/_mock/faults", json={"operationId": "list-companies", "status": 503})
        assert client.post("/_mock/reset").status_code == 200
        assert (parts.world, parts.faults, parts.journal) == held
        assert parts.faults.rules() == [] and len(parts.journal) == 0
        assert client.get("/companies").json()["totalResults"] == 0
        # The seeded stream starts over too: the same first id as a fresh app.
        assert client.post("/companies", json={"name": "After"}).json()["id"] == first
