"""Tests of mockserver/control.py: where the mock stands, the clock, and the control API's own
OpenAPI document against the routes it describes; through the in-process app. The other
``/_mock`` areas have test files of their own (``test_control_*.py``)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

from starlette.routing import Mount, Route
from starlette.testclient import TestClient

from mockserver.auth import client_id_for
from mockserver.clock import Clock
from mockserver.settings import Settings
from mockserver.spec import Spec
from tests.conftest import API_KEY, T0
from tests.control_support import invalid, journal
from tests.handlers.support import (
    create_company,
    expect_error,
    ok,
)

# -- where the mock stands ---------------------------------------------------------------------


def test_health(client: TestClient) -> None:
    assert ok(client.get("/_mock/health")) == {"status": "ok"}


def test_whoami_names_the_callers_client(client: TestClient, other_auth: dict[str, str]) -> None:
    assert ok(client.get("/_mock/whoami")) == {"clientId": client_id_for(API_KEY)}
    other = ok(client.get("/_mock/whoami", headers=other_auth))["clientId"]
    assert other != client_id_for(API_KEY)


def test_whoami_without_a_usable_key_is_401(client: TestClient) -> None:
    for header in ("", "Bearer abc", "Basic !!!"):
        response = client.get("/_mock/whoami", headers={"Authorization": header})
        expect_error(response, 401, "Unauthorized")


def test_control_calls_are_never_faulted_nor_journaled(client: TestClient) -> None:
    everything = ok(client.post("/_mock/faults", json={"operationId": "*", "status": 500}))
    ok(client.post("/_mock/faults", json={"path": "/_mock/*", "drop": "reset"}))
    for path in (
        "/_mock/health",
        "/_mock/faults",
        "/_mock/requests",
        "/_mock/report",
        "/_mock/state",
        "/_mock/clock",
        "/_mock/rate-limit",
        "/_mock/openapi.json",
    ):
        assert client.get(path).status_code == 200, path
    client.post("/_mock/clock", json={"advance": 1})
    assert journal(client) == []
    assert ok(client.get("/_mock/report"))["totals"]["requests"] == 0
    # The Codat surface is faulted (and journaled) all the same.
    assert client.get("/companies").status_code == 500
    assert [(e["path"], e["status"], e["faultId"]) for e in journal(client)] == [
        ("/companies", 500, everything["id"])
    ]


# -- the clock ---------------------------------------------------------------------------------


def test_get_clock(client: TestClient) -> None:
    assert ok(client.get("/_mock/clock")) == {"now": "2026-03-02T09:00:00Z", "frozen": True}


def test_advance_the_clock(client: TestClient, clock: Clock) -> None:
    moved = 0.0
    for seconds, now in ((0, "09:00:00"), (90, "09:01:30"), (1.5, "09:01:31")):
        moved += seconds
        assert ok(client.post("/_mock/clock", json={"advance": seconds})) == {
            "now": f"2026-03-02T{now}Z",
            "frozen": True,
        }
        assert clock.now() == T0 + timedelta(seconds=moved)


def test_set_the_clock(client: TestClient, clock: Clock) -> None:
    shown = ok(client.post("/_mock/clock", json={"set": "2027-01-15T12:30:00+01:00"}))
    assert shown == {"now": "2027-01-15T11:30:00Z", "frozen": True}
    assert clock.now() == datetime(2027, 1, 15, 11, 30, tzinfo=timezone.utc)


def test_return_the_clock_to_real_time(client: TestClient, clock: Clock) -> None:
    before = datetime.now(timezone.utc)
    shown = ok(client.post("/_mock/clock", json={"realTime": True}))
    assert shown["frozen"] is False
    assert not clock.is_frozen
    assert abs((clock.now() - before).total_seconds()) < 60


def test_the_new_time_drives_the_api(client: TestClient) -> None:
    ok(client.post("/_mock/clock", json={"set": "2030-05-06T07:08:09Z"}))
    assert create_company(client)["created"] == "2030-05-06T07:08:09Z"


BAD_CLOCK_MOVES: list[tuple[dict[str, Any], str, str]] = [
    ({"advance": -1}, "advance", "zero or more"),
    ({"advance": "60"}, "advance", "number of seconds"),
    ({"advance": True}, "advance", "number of seconds"),
    ({"advance": None}, "advance", "number of seconds"),
    ({"set": "next tuesday"}, "set", "ISO 8601"),
    ({"set": 5}, "set", "ISO 8601"),
    ({"realTime": False}, "body", '{"advance": seconds}'),
    ({"realTime": "yes"}, "body", '{"advance": seconds}'),
    ({}, "body", '{"advance": seconds}'),
    ({"rewind": 5}, "body", '{"advance": seconds}'),
]


def test_bad_clock_moves_are_400_and_leave_the_clock(client: TestClient, clock: Clock) -> None:
    for body, field, fragment in BAD_CLOCK_MOVES:
        invalid(client.post("/_mock/clock", json=body), field, fragment)
        assert clock.now() == T0, body


def test_a_clock_body_that_is_not_a_json_object_is_400(client: TestClient) -> None:
    for content, fragment in (
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (b'"advance"', "JSON object"),
    ):
        response = client.post(
            "/_mock/clock", content=content, headers={"Content-Type": "application/json"}
        )
        invalid(response, "body", fragment)


def test_advancing_past_the_end_of_time_is_400(spec: Spec, clock: Clock) -> None:
    from mockserver.app import create_app

    app = create_app(Settings(seed=7), clock=clock, spec=spec)
    with TestClient(app, raise_server_exceptions=False) as plain:
        response = plain.post("/_mock/clock", json={"advance": 1e12})
    invalid(response, "advance", "")


# -- the control API's own document ------------------------------------------------------------

HTTP_METHODS = {"get", "put", "post", "delete", "patch"}


def _shape(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


def test_the_document_lists_exactly_the_control_routes(client: TestClient) -> None:
    document = ok(client.get("/_mock/openapi.json"))
    assert document["openapi"] == "3.1.0"
    documented = {
        (_shape(path), method.upper())
        for path, item in document["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }
    (mount,) = [r for r in client.app.routes if isinstance(r, Mount) and r.path == "/_mock"]  # type: ignore[attr-defined]
    routed = {
        (_shape("/_mock" + route.path), method)
        for route in mount.routes
        # The dashboard's pages are beside the control API, not part of its document.
        if isinstance(route, Route) and not route.path.startswith("/ui")
        for method in route.methods or ()
        if method != "HEAD"
    }
    assert documented == routed
    assert len(routed) == 36
    ids = [
        operation["operationId"]
        for item in document["paths"].values()
        for method, operation in item.items()
        if method in HTTP_METHODS
    ]
    assert len(ids) == len(set(ids)) == len(routed)


def test_the_document_is_valid_openapi_3_1(client: TestClient) -> None:
    from schemathesis.specs.openapi.definitions import OPENAPI_31_VALIDATOR

    document = ok(client.get("/_mock/openapi.json"))
    errors = [error.message for error in OPENAPI_31_VALIDATOR.iter_errors(document)]
    assert errors == []
