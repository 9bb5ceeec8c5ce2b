"""Tests of mockserver/faults/throttle.py: the rate-limit layer in the in-process app, switched
on through ``PUT /_mock/rate-limit`` (the limiter's own arithmetic is in test_ratelimit.py)."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from mockserver.auth import client_id_for
from mockserver.faults.connection import ConnectionDropped
from tests.conftest import API_KEY
from tests.handlers.support import create_company, create_connection, link_connection, ok

LIMIT = "x-rate-limit-limit"
REMAINING = "x-rate-limit-remaining"
RESET = "x-rate-limit-reset"
NEXT_MIDNIGHT = "2026-03-03T00:00:00Z"
TO_MIDNIGHT = 15 * 3600  # the test clock stands at 09:00 UTC
NO_AUTH = {"Authorization": ""}


def limit(client: TestClient, **settings: Any) -> dict[str, Any]:
    shown: dict[str, Any] = ok(client.put("/_mock/rate-limit", json={"enabled": True, **settings}))
    return shown


def journal(client: TestClient) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = ok(client.get("/_mock/requests"))["requests"]
    return entries


def in_flight(client: TestClient) -> int:
    status = client.app.state.mock.rate_limiter.status(client_id_for(API_KEY))  # type: ignore[attr-defined]
    count: int = status["clients"][client_id_for(API_KEY)]["inFlight"]
    return count


def test_off_by_default_no_headers(client: TestClient) -> None:
    response = client.get("/companies")
    assert response.status_code == 200
    assert not {LIMIT, REMAINING, RESET} & set(response.headers)


def test_admitted_responses_carry_the_quota_headers(client: TestClient) -> None:
    limit(client, dailyBase=3)
    seen = []
    for _ in range(3):
        response = client.get("/companies")
        assert response.status_code == 200
        seen.append((response.headers[LIMIT], response.headers[REMAINING], response.headers[RESET]))
        assert "retry-after" not in response.headers
    assert seen == [("3", "2", NEXT_MIDNIGHT), ("3", "1", NEXT_MIDNIGHT), ("3", "0", NEXT_MIDNIGHT)]


def test_error_answers_of_the_handler_carry_the_headers_too(client: TestClient) -> None:
    limit(client, dailyBase=3)
    response = client.get("/companies/00000000-0000-4000-8000-000000000000")
    assert response.status_code == 404
    assert response.headers[REMAINING] == "2"


def test_past_the_daily_quota_a_429_with_retry_after_and_the_reason_journaled(
    client: TestClient,
) -> None:
    limit(client, dailyBase=1)
    assert client.get("/companies").status_code == 200
    refused = client.get("/companies")
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == str(TO_MIDNIGHT)
    assert (refused.headers[LIMIT], refused.headers[REMAINING]) == ("1", "0")
    body = refused.json()
    assert body["statusCode"] == 429
    assert body["canBeRetried"] == "True"
    last = journal(client)[-1]
    assert (last["status"], last["faultAction"], last["faultId"]) == (
        429,
        "rate-limit:daily quota",
        None,
    )
    assert last["retryAfter"] == str(TO_MIDNIGHT)
    assert last["operationId"] == "list-companies"


def test_a_refused_call_never_reaches_the_handler(client: TestClient) -> None:
    limit(client, dailyBase=1)
    client.get("/companies")
    assert client.post("/companies", json={"name": "Refused"}).status_code == 429
    client.put("/_mock/rate-limit", json={"enabled": False})
    assert ok(client.get("/companies"))["totalResults"] == 0


def test_linked_companies_raise_the_quota(client: TestClient) -> None:
    limit(client, dailyBase=10)
    company = create_company(client)
    connection = create_connection(client, company["id"])
    link_connection(client, company["id"], connection["id"])
    # Three calls so far against a base quota; the fourth sees one active company.
    response = client.get("/companies")
    assert (response.headers[LIMIT], response.headers[REMAINING]) == ("20", "16")


def test_the_control_api_is_neither_limited_nor_counted(client: TestClient) -> None:
    limit(client, dailyBase=1, perIpPerMinute=1)
    for _ in range(3):
        response = client.get("/_mock/health")
        assert response.status_code == 200
        assert LIMIT not in response.headers
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/companies").headers[REMAINING] == "0"


def test_unauthenticated_requests_count_against_the_ip_only(client: TestClient) -> None:
    limit(client, dailyBase=100, perIpPerMinute=3)
    for _ in range(2):
        anonymous = client.get("/companies", headers=NO_AUTH)
        assert anonymous.status_code == 401
        assert not {LIMIT, REMAINING, RESET} & set(anonymous.headers)
    counted = client.get("/companies")
    assert counted.status_code == 200
    assert counted.headers[REMAINING] == "99"  # the client's own quota saw one call
    refused = client.get("/companies")
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "60"
    assert journal(client)[-1]["faultAction"] == "rate-limit:per-IP"
    anonymous = client.get("/companies", headers=NO_AUTH)
    assert anonymous.status_code == 429
    assert journal(client)[-1]["clientId"] is None


def test_a_refused_call_of_a_new_client_leaves_no_tenant_behind(
    client: TestClient, other_auth: dict[str, str]
) -> None:
    limit(client, perIpPerMinute=1)
    assert client.get("/companies").status_code == 200  # the IP's one call: API_KEY's tenant
    assert client.get("/companies", headers=other_auth).status_code == 429
    tenants = ok(client.get("/_mock/state"))["tenants"]
    assert [tenant["clientId"] for tenant in tenants] == [client_id_for(API_KEY)]


def test_the_ip_window_runs_on_the_mock_clock(client: TestClient) -> None:
    limit(client, perIpPerMinute=1)
    assert client.get("/companies").status_code == 200
    assert client.get("/companies").status_code == 429
    ok(client.post("/_mock/clock", json={"advance": 59}))
    assert client.get("/companies").status_code == 429
    ok(client.post("/_mock/clock", json={"advance": 1}))
    assert client.get("/companies").status_code == 200


def test_each_request_releases_its_concurrency_slot(client: TestClient) -> None:
    limit(client, perCompanyConcurrency=1)
    for _ in range(5):
        assert client.get("/companies").status_code == 200
        assert in_flight(client) == 0
    assert client.get("/companies/not-a-company").status_code == 404
    assert in_flight(client) == 0
    assert client.post("/companies", json={"name": "Fine"}).status_code == 200
    assert client.get("/companies").status_code == 200


def test_a_held_slot_refuses_with_the_concurrency_reason(client: TestClient) -> None:
    limit(client, perCompanyConcurrency=1)
    limiter = client.app.state.mock.rate_limiter  # type: ignore[attr-defined]
    held = limiter.admit(client_id=client_id_for(API_KEY), ip="10.9.9.9", active_companies=0)
    assert held.allowed
    refused = client.get("/companies")
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "1"
    assert journal(client)[-1]["faultAction"] == "rate-limit:concurrency"
    limiter.release(held)
    assert client.get("/companies").status_code == 200


def test_a_before_fault_uses_no_quota(client: TestClient) -> None:
    limit(client, dailyBase=2)
    ok(
        client.post(
            "/_mock/faults", json={"operationId": "list-companies", "status": 503, "times": 1}
        )
    )
    faulted = client.get("/companies")
    assert faulted.status_code == 503
    assert client.get("/companies").headers[REMAINING] == "1"


def test_an_after_fault_counts_and_releases(client: TestClient) -> None:
    limit(client, dailyBase=5, perCompanyConcurrency=1)
    ok(
        client.post(
            "/_mock/faults",
            json={"operationId": "create-company", "drop": "reset", "when": "after"},
        )
    )
    with pytest.raises(ConnectionDropped):
        client.post("/companies", json={"name": "Committed"})
    assert in_flight(client) == 0
    assert client.get("/companies").headers[REMAINING] == "3"


def test_a_reset_restores_the_startup_settings_and_clears_the_counts(
    client: TestClient,
) -> None:
    # A shared server must not carry one test's limits into the next: reset goes back to
    # what the server started with (here: emulation off).
    limit(client, dailyBase=1)
    client.get("/companies")
    assert client.get("/companies").status_code == 429
    ok(client.post("/_mock/reset"))
    assert ok(client.get("/_mock/rate-limit"))["enabled"] is False
    response = client.get("/companies")
    assert response.status_code == 200
    assert REMAINING not in response.headers
