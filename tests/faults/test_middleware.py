"""Tests of mockserver/faults/middleware.py through the in-process app with Starlette's
TestClient: status and latency faults before and after the handler, the rule filters,
the Prefer header, and drops as a test client meets them (ConnectionDropped)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from starlette.testclient import TestClient

from mockserver.app import create_app
from mockserver.auth import authorization_for, client_id_for
from mockserver.clock import Clock
from mockserver.errors import error_for_status
from mockserver.faults.connection import ConnectionDropped
from mockserver.faults.middleware import prefer_rule
from mockserver.faults.rules import rule_from
from mockserver.settings import Settings
from mockserver.spec import Spec
from tests.conftest import API_KEY, OTHER_KEY
from tests.handlers.support import client_id, has_error_keys, ok

CORRELATION = re.compile(r"[0-9a-f]{32}")


def add_rule(client: TestClient, **rule: Any) -> dict[str, Any]:
    stored: dict[str, Any] = ok(client.post("/_mock/faults", json=rule))
    return stored


def journal(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    requests: list[dict[str, Any]] = ok(client.get("/_mock/requests", params=params))["requests"]
    return requests


def company_count(client: TestClient) -> int:
    count: int = ok(client.get("/companies"))["totalResults"]
    return count


def assert_codat_error(body: dict[str, Any], status: int, message: str | None = None) -> None:
    assert has_error_keys(body)
    expected = error_for_status(status, message)
    assert body["statusCode"] == status
    assert body["error"] == expected.message
    assert body["service"] == "PublicApi"
    assert body["canBeRetried"] == expected.can_be_retried
    assert "validation" not in body
    assert body["detailedErrorCode"] == 0
    assert CORRELATION.fullmatch(body["correlationId"])


# -- status faults through the app -------------------------------------------------------------


def test_a_before_status_fault_answers_codats_error_with_that_status(client: TestClient) -> None:
    for status in (400, 408, 418, 429, 500, 502, 503, 504):
        add_rule(client, operationId="list-companies", status=status)
        response = client.get("/companies")
        assert response.status_code == status
        assert_codat_error(response.json(), status)
        assert "retry-after" not in response.headers
        assert response.headers["content-type"] == "application/json; charset=utf-8"
        assert int(response.headers["content-length"]) == len(response.content)
        ok(client.delete("/_mock/faults"))


def test_the_rule_message_replaces_the_error_text(client: TestClient) -> None:
    add_rule(client, status=503, message="Down for maintenance")
    assert_codat_error(client.get("/companies").json(), 503, "Down for maintenance")


def test_retry_after_is_sent_in_integer_or_fractional_form(client: TestClient) -> None:
    for retry_after, header in ((2, "2"), (2.0, "2"), (0, "0"), (1.5, "1.5"), (0.25, "0.25")):
        add_rule(client, status=429, retryAfter=retry_after)
        response = client.get("/companies")
        assert response.status_code == 429
        assert response.headers["retry-after"] == header
        assert journal(client)[-1]["retryAfter"] == header
        ok(client.delete("/_mock/faults"))


def test_a_before_fault_changes_nothing_and_is_journaled_in_full(client: TestClient) -> None:
    rule = add_rule(client, operationId="create-company", status=503)
    response = client.post("/companies", json={"name": "Never Made"})
    assert response.status_code == 503
    assert company_count(client) == 0
    entry = journal(client, operationId="create-company")[0]
    assert entry["status"] == 503
    assert entry["faultId"] == rule["id"] == "rule-1"
    assert entry["faultAction"] == "status"
    assert entry["operationId"] == "create-company"
    assert entry["clientId"] == client_id(client) == client_id_for(API_KEY)
    assert entry["handlerStatus"] is None
    assert entry["dropped"] is None
    # The body was read although the handler never ran, so retries can be told apart.
    assert "Never Made" in entry["requestBody"]
    assert entry["responseBody"] == response.text


def test_an_after_fault_commits_and_the_client_gets_the_fault(client: TestClient) -> None:
    add_rule(client, operationId="create-company", status=503, when="after", retryAfter=1)
    response = client.post("/companies", json={"name": "Made Anyway"})
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert_codat_error(response.json(), 503)
    names = [c["name"] for c in ok(client.get("/companies"))["results"]]
    assert names == ["Made Anyway"]
    entry = journal(client, operationId="create-company")[0]
    assert (entry["status"], entry["handlerStatus"], entry["faultId"]) == (503, 200, "rule-1")


def test_an_after_fault_on_a_failing_handler_still_records_the_handlers_status(
    client: TestClient,
) -> None:
    add_rule(client, operationId="create-company", status=503, when="after")
    assert client.post("/companies", json={"name": ""}).status_code == 503
    assert company_count(client) == 0
    assert journal(client, operationId="create-company")[0]["handlerStatus"] == 400


def test_a_latency_rule_still_returns_the_real_answer(client: TestClient) -> None:
    add_rule(client, operationId="create-company", latencyMs=1)
    response = client.post("/companies", json={"name": "Slow Ltd"})
    assert response.status_code == 200
    assert response.json()["name"] == "Slow Ltd"
    assert company_count(client) == 1
    entry = journal(client, operationId="create-company")[0]
    assert (entry["status"], entry["faultId"], entry["faultAction"]) == (200, "rule-1", "latency")
    assert entry["handlerStatus"] is None
    assert ok(client.get("/_mock/faults"))["rules"][0]["fired"] == 1


@pytest.mark.parametrize("when", ["before", "after"])
def test_a_latency_rule_with_a_status_answers_the_status(client: TestClient, when: str) -> None:
    add_rule(client, operationId="create-company", status=502, latencyMs=1, when=when)
    assert client.post("/companies", json={"name": "Late"}).status_code == 502
    assert company_count(client) == (1 if when == "after" else 0)


def test_times_lets_the_call_through_afterwards(client: TestClient) -> None:
    add_rule(client, operationId="list-companies", status=429, times=2)
    statuses = [client.get("/companies").status_code for _ in range(3)]
    assert statuses == [429, 429, 200]
    entries = journal(client)
    assert [(e["status"], e["faultId"]) for e in entries] == [
        (429, "rule-1"),
        (429, "rule-1"),
        (200, None),
    ]
    shown = ok(client.get("/_mock/faults"))["rules"][0]
    assert (shown["matched"], shown["fired"], shown["retired"]) == (2, 2, True)


def test_method_and_path_filters_through_the_app(client: TestClient) -> None:
    add_rule(client, method="post", path="/companies", status=500)
    assert client.get("/companies").status_code == 200
    assert client.post("/companies", json={"name": "X"}).status_code == 500


def test_api_key_and_client_id_rules_hit_only_that_client(
    client: TestClient, other_auth: dict[str, str]
) -> None:
    add_rule(client, apiKey=OTHER_KEY, status=503)
    add_rule(client, clientId=client_id_for("nobody").upper(), status=500)
    assert client.get("/companies").status_code == 200
    assert client.get("/companies", headers=other_auth).status_code == 503
    shown = ok(client.get("/_mock/faults"))["rules"]
    assert shown[0]["apiKey"] == "********"
    assert [rule["matched"] for rule in shown] == [1, 0]


def test_unauthenticated_requests_match_only_rules_without_a_caller(client: TestClient) -> None:
    add_rule(client, clientId=client_id_for(API_KEY), status=500)
    add_rule(client, operationId="list-companies", status=503)
    response = client.get("/companies", headers={"Authorization": ""})
    assert response.status_code == 503
    entry = journal(client)[0]
    assert (entry["clientId"], entry["operationId"], entry["faultId"]) == (
        None,
        "list-companies",
        "rule-2",
    )


@pytest.mark.parametrize(
    "path", ["/_mock/health", "/_mock/faults", "/_mock/requests", "/openapi.json", "/openapi.yaml"]
)
def test_control_routes_and_contract_documents_are_never_faulted(
    client: TestClient, path: str
) -> None:
    add_rule(client, operationId="*", status=503)
    add_rule(client, operationId="*", drop="reset")
    assert client.get(path, headers={"Prefer": "code=500"}).status_code == 200
    assert [rule["matched"] for rule in ok(client.get("/_mock/faults"))["rules"]] == [0, 0]
    assert client.get("/companies").status_code == 503


# -- Prefer ------------------------------------------------------------------------------------


def test_prefer_code_answers_that_status_for_one_request(client: TestClient) -> None:
    response = client.get("/companies", headers={"Prefer": "code=503"})
    assert response.status_code == 503
    assert_codat_error(response.json(), 503)
    assert client.get("/companies").status_code == 200
    first = journal(client)[0]
    assert (first["faultId"], first["faultAction"], first["status"]) == ("prefer", "status", 503)
    assert ok(client.get("/_mock/faults")) == {"rules": []}


def test_prefer_code_before_the_handler_changes_nothing(client: TestClient) -> None:
    response = client.post("/companies", json={"name": "No"}, headers={"Prefer": "code=500"})
    assert response.status_code == 500
    assert company_count(client) == 0


def test_prefer_delay_still_answers(client: TestClient) -> None:
    response = client.get("/companies", headers={"Prefer": "delay=1"})
    assert response.status_code == 200
    entry = journal(client)[0]
    assert (entry["faultId"], entry["faultAction"], entry["status"]) == ("prefer", "latency", 200)


def test_a_firing_rule_wins_over_prefer(client: TestClient) -> None:
    add_rule(client, operationId="list-companies", status=429)
    assert client.get("/companies", headers={"Prefer": "code=503"}).status_code == 429


def test_prefer_applies_when_the_matching_rule_does_not_fire(client: TestClient) -> None:
    add_rule(client, operationId="list-companies", status=429, after=1)
    assert client.get("/companies", headers={"Prefer": "code=503"}).status_code == 503
    assert client.get("/companies", headers={"Prefer": "code=503"}).status_code == 429


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("", None),
        ("code=503", {"status": 503}),
        ("CODE=429", {"status": 429}),
        ("delay=250", {"latencyMs": 250}),
        ("code=503, delay=10", {"status": 503, "latencyMs": 10}),
        ("code=502; delay=5", {"status": 502, "latencyMs": 5}),
        ("return=minimal, code=500", {"status": 500}),
        ("code=200", None),
        ("code=302", None),
        ("code=abc", None),
        ("delay=-5", None),
        ("respond-async", None),
        ("code=200, delay=7", {"latencyMs": 7}),
    ],
)
def test_prefer_rule(header: str | None, expected: dict[str, Any] | None) -> None:
    rule = prefer_rule(header)
    if expected is None:
        assert rule is None
    else:
        assert rule is not None
        assert rule == rule_from({"id": "prefer", **expected})


def test_an_impossible_prefer_code_is_not_a_server_error(spec: Spec, clock: Clock) -> None:
    app = create_app(Settings(seed=7), clock=clock, spec=spec)
    headers = {"Authorization": authorization_for(API_KEY), "Prefer": "code=600"}
    with TestClient(app, raise_server_exceptions=False) as plain:
        assert plain.get("/companies", headers=headers).status_code < 500


# -- drops through the test client -------------------------------------------------------------


@pytest.mark.parametrize("drop", ["reset", "empty", "truncate"])
def test_in_process_a_drop_raises_connection_dropped(client: TestClient, drop: str) -> None:
    add_rule(client, operationId="create-company", drop=drop)
    with pytest.raises(ConnectionDropped, match=drop):
        client.post("/companies", json={"name": "Lost"})
    assert company_count(client) == 0
    entry = journal(client, operationId="create-company")[0]
    assert (entry["dropped"], entry["faultAction"], entry["faultId"]) == (
        drop,
        f"drop:{drop}",
        "rule-1",
    )
    assert entry["clientId"] == client_id_for(API_KEY)
    # A truncated answer started (a placeholder 503); the others sent nothing at all.
    assert entry["status"] == (503 if drop == "truncate" else None)


def test_an_after_drop_commits_before_the_connection_goes(client: TestClient) -> None:
    add_rule(client, operationId="create-company", drop="reset", when="after")
    with pytest.raises(ConnectionDropped):
        client.post("/companies", json={"name": "Committed"})
    assert company_count(client) == 1
    entry = journal(client, operationId="create-company")[0]
    assert (entry["status"], entry["handlerStatus"], entry["dropped"]) == (None, 200, "reset")
