"""Tests of mockserver/control.py: every ``/_mock`` route, its answers and its refusals,
through the in-process app; and its OpenAPI document against the routes it describes."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

from starlette.routing import Mount, Route
from starlette.testclient import TestClient

from mockserver.auth import authorization_for, client_id_for
from mockserver.clock import Clock
from mockserver.faults.rules import parse_fault_string
from mockserver.journal import JournalEntry
from mockserver.settings import Settings
from mockserver.spec import Spec
from mockserver.store.limits import MAX_MESSAGE
from tests.conftest import API_KEY, T0
from tests.handlers.support import (
    UNKNOWN_ID,
    create_company,
    create_connection,
    expect_error,
    link_connection,
    ok,
    request_sync,
)

INVALID = "Error processing request - not valid."


def invalid(response: Any, field: str, fragment: str) -> None:
    """A 400 from the control API naming ``field``."""
    expect_error(response, 400, INVALID, items=[(field, fragment, "control")])


def journal(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = ok(client.get("/_mock/requests", params=params))["requests"]
    return entries


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


# -- faults ------------------------------------------------------------------------------------


def test_faults_start_empty(client: TestClient) -> None:
    assert ok(client.get("/_mock/faults")) == {"rules": []}


def test_post_a_rule_answers_it_stored_with_its_id(client: TestClient) -> None:
    stored = ok(client.post("/_mock/faults", json={"operationId": "list-companies", "status": 429}))
    assert stored == {
        "operationId": "list-companies",
        "status": 429,
        "when": "before",
        "id": "rule-1",
        "matched": 0,
        "fired": 0,
        "retired": False,
    }
    assert ok(client.get("/_mock/faults")) == {"rules": [stored]}


def test_post_a_list_answers_every_rule(client: TestClient) -> None:
    rules = [{"id": "two", "status": 502}, {"status": 503}, {"drop": "hang", "method": "post"}]
    answer = ok(client.post("/_mock/faults", json=rules))
    # Ids given keep their place; the others are numbered around them.
    assert [rule["id"] for rule in answer["rules"]] == ["two", "rule-1", "rule-2"]
    assert answer["rules"][2]["method"] == "POST"
    assert ok(client.get("/_mock/faults"))["rules"] == answer["rules"]


def test_listed_rules_show_their_counters(client: TestClient) -> None:
    ok(
        client.post(
            "/_mock/faults", json={"operationId": "list-companies", "status": 503, "times": 1}
        )
    )
    client.get("/companies")
    client.get("/companies")
    (shown,) = ok(client.get("/_mock/faults"))["rules"]
    assert (shown["matched"], shown["fired"], shown["retired"]) == (1, 1, True)


BAD_RULES: list[tuple[Any, str]] = [
    ({}, "needs an action"),
    ({"operationId": "list-companies"}, "needs an action"),
    ({"status": 600}, "status: "),
    ({"status": 999}, "status"),
    ({"status": 503, "colour": "red"}, "colour: Extra inputs are not permitted"),
    ({"stauts": 500}, "stauts"),
    ({"status": 503, "drop": "reset"}, "status and drop exclude each other"),
    ({"drop": "explode"}, "drop"),
    ({"status": 500, "probability": 1.5}, "probability"),
    ({"status": 500, "when": "during"}, "when"),
    ({"latency": {"min": 5}}, "latency"),
    ({"retryAfter": 1, "latencyMs": 5}, "retryAfter"),
    ("list-companies:503", "rule: "),
    ([{"status": 503}, {"times": 0}], "times: "),
    ([{"id": "x", "status": 500}, {"id": "x"}], "needs an action"),
]


def test_a_bad_rule_is_400_naming_the_problem_and_nothing_is_added(client: TestClient) -> None:
    for body, fragment in BAD_RULES:
        invalid(client.post("/_mock/faults", json=body), "rule", fragment)
        assert ok(client.get("/_mock/faults")) == {"rules": []}, body


def test_a_rule_body_that_is_not_json_is_400(client: TestClient) -> None:
    response = client.post(
        "/_mock/faults", content=b"status=503", headers={"Content-Type": "application/json"}
    )
    invalid(response, "body", "not valid JSON")


def test_a_duplicate_id_is_409(client: TestClient) -> None:
    ok(client.post("/_mock/faults", json={"id": "mine", "status": 503}))
    response = client.post("/_mock/faults", json={"id": "mine", "status": 500})
    expect_error(response, 409, "A fault rule with id 'mine' already exists.")
    assert [rule["status"] for rule in ok(client.get("/_mock/faults"))["rules"]] == [503]


def test_a_list_refused_for_a_duplicate_id_adds_nothing(client: TestClient) -> None:
    response = client.post(
        "/_mock/faults", json=[{"id": "x", "status": 500}, {"id": "x", "status": 502}]
    )
    assert response.status_code == 409
    assert ok(client.get("/_mock/faults")) == {"rules": []}


def test_delete_one_rule(client: TestClient) -> None:
    ok(client.post("/_mock/faults", json=[{"status": 503}, {"status": 500}]))
    removed = ok(client.delete("/_mock/faults/rule-1"))
    assert (removed["id"], removed["status"]) == ("rule-1", 503)
    assert [rule["id"] for rule in ok(client.get("/_mock/faults"))["rules"]] == ["rule-2"]


def test_delete_an_unknown_rule_is_404(client: TestClient) -> None:
    expect_error(
        client.delete("/_mock/faults/nope"), 404, "No fault rule was found with id 'nope'."
    )


def test_delete_every_rule(client: TestClient) -> None:
    ok(client.post("/_mock/faults", json=[{"status": 503}, {"status": 500}]))
    assert ok(client.delete("/_mock/faults")) == {"rules": []}
    assert ok(client.get("/_mock/faults")) == {"rules": []}
    assert client.get("/companies").status_code == 200


# -- the journal and the report ----------------------------------------------------------------


def test_requests_filters(client: TestClient) -> None:
    ok(
        client.post(
            "/_mock/faults", json={"operationId": "create-company", "status": 503, "times": 1}
        )
    )
    client.get("/companies")
    client.post("/companies", json={"name": "A"})
    ok(client.post("/_mock/clock", json={"advance": 60}))
    client.post("/companies", json={"name": "A"})
    everything = journal(client)
    assert [(e["operationId"], e["status"]) for e in everything] == [
        ("list-companies", 200),
        ("create-company", 503),
        ("create-company", 200),
    ]
    assert [e["seq"] for e in everything] == sorted(e["seq"] for e in everything)
    assert [e["status"] for e in journal(client, operationId="create-company")] == [503, 200]
    assert [e["operationId"] for e in journal(client, status=503)] == ["create-company"]
    since = journal(client, since="2026-03-02T09:01:00Z")
    assert [(e["operationId"], e["status"]) for e in since] == [("create-company", 200)]
    assert journal(client, since="2026-03-02T09:00:00Z") == everything  # inclusive
    assert journal(client, operationId="create-company", status=200) == since
    assert journal(client, operationId="get-sync-status") == []


def _fill_journal(client: TestClient, count: int) -> None:
    """Record ``count`` entries straight into the app's journal (the HTTP path is slow)."""
    state = client.app.state.mock
    for seq in range(1, count + 1):
        state.journal.record(
            JournalEntry(
                seq=seq,
                mock_at=T0 + timedelta(seconds=seq),
                wall_at=T0,
                method="GET",
                path="/companies",
                operation_id="list-companies" if seq % 2 else "create-company",
                status=200,
            )
        )


def _window(client: TestClient, **params: Any) -> tuple[list[int], bool, int]:
    answer = ok(client.get("/_mock/requests", params=params))
    return [e["seq"] for e in answer["requests"]], answer["hasMore"], answer["lastSeq"]


def test_a_full_journal_answers_in_windows(client: TestClient) -> None:
    _fill_journal(client, 10_500)  # 500 past the bound: the oldest have fallen out
    assert _window(client) == (list(range(10_401, 10_501)), True, 10_500)
    assert _window(client, limit=10_000) == (list(range(501, 10_501)), False, 10_500)
    # A poller asks for what came after its mark; more than fits says so.
    assert _window(client, sinceSeq=0, limit=3) == ([10_498, 10_499, 10_500], True, 10_500)
    assert _window(client, sinceSeq=10_497) == ([10_498, 10_499, 10_500], False, 10_500)
    assert _window(client, sinceSeq=10_497, limit=3) == ([10_498, 10_499, 10_500], False, 10_500)
    assert _window(client, sinceSeq=10_500) == ([], False, 10_500)
    # Filters apply before the window is cut.
    seqs, more, _ = _window(client, operationId="create-company", limit=2)
    assert (seqs, more) == ([10_498, 10_500], True)
    since = (T0 + timedelta(seconds=10_496)).isoformat()
    assert _window(client, since=since)[0] == [10_496, 10_497, 10_498, 10_499, 10_500]


def test_the_journal_keeps_headers_with_the_key_masked(client: TestClient) -> None:
    client.get("/companies", headers={"X-Trace": "t-1"})
    [entry] = journal(client)
    request_headers = dict(entry["requestHeaders"])
    assert request_headers["authorization"] == "Basic ****"
    assert request_headers["x-trace"] == "t-1"
    assert API_KEY not in str(entry)
    assert authorization_for(API_KEY).split()[1] not in str(entry)
    assert dict(entry["responseHeaders"])["content-type"].startswith("application/json")


def test_bad_request_filters_are_400(client: TestClient) -> None:
    for params, field, fragment in (
        ({"status": "teapot"}, "status", "HTTP status code"),
        ({"status": "-1"}, "status", "HTTP status code"),
        ({"since": "yesterday"}, "since", "ISO 8601"),
        ({"limit": "-1"}, "limit", "whole number"),
        ({"limit": "10001"}, "limit", "whole number"),
        ({"limit": "ten"}, "limit", "whole number"),
        ({"sinceSeq": "-1"}, "sinceSeq", "whole number"),
        ({"sinceSeq": "9" * 40}, "sinceSeq", "whole number"),
    ):
        invalid(client.get("/_mock/requests", params=params), field, fragment)


def test_a_non_ascii_digit_status_filter_is_400(spec: Spec, clock: Clock) -> None:
    from mockserver.app import create_app

    app = create_app(Settings(seed=7), clock=clock, spec=spec)
    with TestClient(app, raise_server_exceptions=False) as plain:
        response = plain.get("/_mock/requests", params={"status": "²"})
    invalid(response, "status", "HTTP status code")


def test_clear_the_journal(client: TestClient) -> None:
    client.get("/companies")
    assert ok(client.delete("/_mock/requests")) == {"requests": []}
    assert journal(client) == []


def test_report_of_an_empty_journal(client: TestClient) -> None:
    report = ok(client.get("/_mock/report"))
    assert report["operations"] == []
    assert report["duplicates"] == []
    assert report["totals"]["requests"] == 0


def test_report_groups_retries_within_its_window(client: TestClient) -> None:
    ok(
        client.post(
            "/_mock/faults",
            json={"operationId": "create-company", "status": 503, "when": "after", "times": 1},
        )
    )
    client.post("/companies", json={"name": "Twice"})
    client.post("/companies", json={"name": "Twice"})
    default = ok(client.get("/_mock/report"))
    (operation,) = default["operations"]
    assert [call["attempts"] for call in operation["logicalCalls"]] == [2]
    assert [d["count"] for d in default["duplicates"]] == [2]
    # A negative window is shorter than any gap: every attempt is a call of its own and no
    # commit is near enough to another to be its duplicate.
    narrow = ok(client.get("/_mock/report", params={"window": "-1"}))
    assert [call["attempts"] for call in narrow["operations"][0]["logicalCalls"]] == [1, 1]
    assert narrow["duplicates"] == []


def test_report_window_must_be_a_number(client: TestClient) -> None:
    invalid(client.get("/_mock/report", params={"window": "a minute"}), "window", "number")


# -- the world ---------------------------------------------------------------------------------


def test_reset_restores_fixtures_and_clears_faults_and_journal(
    client: TestClient, clock: Clock
) -> None:
    create_company(client)
    ok(client.post("/_mock/faults", json={"operationId": "get-sync-status", "status": 503}))
    ok(client.post("/_mock/clock", json={"advance": 30}))
    ok(client.put("/_mock/rate-limit", json={"enabled": True, "dailyBase": 3}))
    assert ok(client.post("/_mock/reset")) == {"status": "reset"}
    assert ok(client.get("/_mock/faults")) == {"rules": []}
    assert journal(client) == []
    assert ok(client.get("/companies"))["totalResults"] == 0
    assert clock.now() == T0 + timedelta(seconds=30)  # the clock keeps its time
    # Rate limits go back to the startup settings (off).
    assert ok(client.get("/_mock/rate-limit")) == DEFAULT_LIMITS


def startup_client(spec: Spec, clock: Clock) -> TestClient:
    from mockserver.app import create_app
    from mockserver.auth import authorization_for

    settings = Settings(seed=7, fault_rules=[parse_fault_string("list-integrations:500")])
    app = create_app(settings, clock=clock, spec=spec)
    return TestClient(app, headers={"Authorization": authorization_for(API_KEY)})


def test_reset_brings_back_the_startup_rules(spec: Spec, clock: Clock) -> None:
    with startup_client(spec, clock) as client:
        ok(client.post("/_mock/faults", json={"status": 503}))
        ok(client.post("/_mock/reset"))
        rules = ok(client.get("/_mock/faults"))["rules"]
        assert [(rule["operationId"], rule["status"]) for rule in rules] == [
            ("list-integrations", 500)
        ]


def test_reset_keeps_the_startup_rules_ids(spec: Spec, clock: Clock) -> None:
    with startup_client(spec, clock) as client:
        before = [rule["id"] for rule in ok(client.get("/_mock/faults"))["rules"]]
        ok(client.post("/_mock/faults", json={"status": 503}))
        ok(client.post("/_mock/reset"))
        after = [rule["id"] for rule in ok(client.get("/_mock/faults"))["rules"]]
        assert after == before == ["rule-1"]


def test_state_export_and_import(client: TestClient) -> None:
    company = create_company(client, "Kept Ltd")
    snapshot = ok(client.get("/_mock/state"))
    assert snapshot["version"] == 1
    assert [t["clientId"] for t in snapshot["tenants"]] == [client_id_for(API_KEY)]
    create_company(client, "Dropped Ltd")
    assert ok(client.put("/_mock/state", json=snapshot)) == snapshot
    assert [c["id"] for c in ok(client.get("/companies"))["results"]] == [company["id"]]


BAD_SNAPSHOTS: list[tuple[dict[str, Any], str, str]] = [
    ({"version": 99, "tenants": []}, "version", "must be 1"),
    ({"tenants": []}, "version", "must be 1"),
    ({"version": 1}, "tenants", "is required"),
    ({"version": 1, "tenants": 5}, "tenants", "must be a list"),
    ({"version": 1, "tenants": [{"companies": []}]}, "tenants[0].clientId", "is required"),
]


def test_a_bad_snapshot_is_400_naming_the_field_and_changes_nothing(client: TestClient) -> None:
    create_company(client, "Still Here")
    before = ok(client.get("/_mock/state"))
    for body, field, message in BAD_SNAPSHOTS:
        response = client.put("/_mock/state", json=body)
        assert response.status_code == 400, body
        assert response.json()["error"] == f"The snapshot cannot be restored: {field}: {message}"
        assert response.json()["validation"]["errors"] == [
            {"itemId": field, "message": message, "validatorName": "snapshot"}
        ]
        assert ok(client.get("/_mock/state")) == before


def test_a_snapshot_must_be_a_json_object(client: TestClient) -> None:
    invalid(client.put("/_mock/state", json=[]), "body", "JSON object")


def synced_company(client: TestClient) -> tuple[str, str]:
    company = create_company(client)
    return company["id"], request_sync(client, company["id"])["commerceSyncId"]


def test_force_a_sync_outcome(client: TestClient) -> None:
    company_id, sync_id = synced_company(client)
    forced = ok(
        client.post(f"/_mock/syncs/{sync_id.upper()}/outcome", json={"syncStatusCode": 5130})
    )
    assert (forced["syncId"], forced["syncStatusCode"], forced["syncStatus"]) == (
        sync_id,
        5130,
        "PushError",
    )
    assert forced["errorMessage"] == "The data could not be written to the accounting software."
    latest = ok(client.get(f"/companies/{company_id}/sync/commerce/syncs/latest/status"))
    assert latest["syncStatusCode"] == 5130


def test_a_forced_outcome_carries_its_message(client: TestClient) -> None:
    _, sync_id = synced_company(client)
    forced = ok(
        client.post(
            f"/_mock/syncs/{sync_id}/outcome",
            json={"syncStatusCode": 4040, "message": "Token revoked"},
        )
    )
    assert (forced["syncStatus"], forced["errorMessage"]) == ("AuthError", "Token revoked")


def test_force_the_outcome_of_an_unknown_sync_is_404(client: TestClient) -> None:
    synced_company(client)
    response = client.post(f"/_mock/syncs/{UNKNOWN_ID}/outcome", json={"syncStatusCode": 5130})
    expect_error(response, 404, f"No sync was found with ID {UNKNOWN_ID}")


def test_a_bad_sync_outcome_is_400_and_changes_nothing(client: TestClient) -> None:
    company_id, sync_id = synced_company(client)
    status = f"/companies/{company_id}/sync/commerce/syncs/latest/status"
    before = ok(client.get(status))
    for body, field in (
        ({}, "syncStatusCode"),
        ({"syncStatusCode": "5130"}, "syncStatusCode"),
        ({"syncStatusCode": True}, "syncStatusCode"),
        ({"syncStatusCode": 5130.0}, "syncStatusCode"),
        ({"syncStatusCode": 5130, "message": 7}, "message"),
    ):
        invalid(client.post(f"/_mock/syncs/{sync_id}/outcome", json=body), field, "")
        assert ok(client.get(status)) == before, body


def test_an_undocumented_sync_status_code_is_400(client: TestClient) -> None:
    _, sync_id = synced_company(client)
    response = client.post(f"/_mock/syncs/{sync_id}/outcome", json={"syncStatusCode": 1234})
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "1234 is not a sync status code."
    assert "5130" in body["validation"]["errors"][0]["message"]


def test_an_undocumented_sync_status_code_names_the_request_field(client: TestClient) -> None:
    _, sync_id = synced_company(client)
    response = client.post(f"/_mock/syncs/{sync_id}/outcome", json={"syncStatusCode": 1234})
    assert response.json()["validation"]["errors"][0]["itemId"] == "syncStatusCode"


def test_deauthorize_a_connection(client: TestClient) -> None:
    company = create_company(client)
    connection = create_connection(client, company["id"])
    link_connection(client, company["id"], connection["id"])
    path = f"/_mock/companies/{company['id']}/connections/{connection['id'].upper()}/deauthorize"
    shown = ok(client.post(path))
    assert (shown["id"], shown["status"]) == (connection["id"], "Deauthorized")
    listed = ok(client.get(f"/companies/{company['id']}/connections"))["results"]
    assert [c["status"] for c in listed] == ["Deauthorized"]


def test_deauthorize_an_unknown_connection_is_404(client: TestClient) -> None:
    company = create_company(client)
    for company_id in (company["id"], UNKNOWN_ID):
        response = client.post(
            f"/_mock/companies/{company_id}/connections/{UNKNOWN_ID}/deauthorize"
        )
        expect_error(response, 404, f"Data connection {UNKNOWN_ID} not found")


# -- rate limits -------------------------------------------------------------------------------

DEFAULT_LIMITS = {
    "enabled": False,
    "dailyBase": 1000,
    "perCompanyConcurrency": 10,
    "perIpPerMinute": 1000,
}


def test_rate_limit_settings_default_off(client: TestClient) -> None:
    assert ok(client.get("/_mock/rate-limit")) == DEFAULT_LIMITS


def test_put_rate_limit_is_a_partial_update(client: TestClient) -> None:
    first = ok(client.put("/_mock/rate-limit", json={"enabled": True, "dailyBase": 5}))
    assert first == {**DEFAULT_LIMITS, "enabled": True, "dailyBase": 5}
    second = ok(client.put("/_mock/rate-limit", json={"perIpPerMinute": 7}))
    assert second == {**first, "perIpPerMinute": 7}
    assert ok(client.get("/_mock/rate-limit")) == second
    assert ok(client.put("/_mock/rate-limit", json={})) == second


BAD_LIMITS: list[tuple[dict[str, Any], str]] = [
    ({"dailyLimit": 5}, "unknown key(s) dailyLimit"),
    ({"dailyBase": "5"}, "dailyBase: must be an integer"),
    ({"dailyBase": 0}, "dailyBase: must be at least 1"),
    ({"perIpPerMinute": 2.5}, "perIpPerMinute: must be an integer"),
    ({"perCompanyConcurrency": True}, "perCompanyConcurrency: must be an integer"),
    ({"enabled": "yes"}, "enabled: must be true or false"),
]


def test_bad_rate_limit_settings_are_400_and_change_nothing(client: TestClient) -> None:
    for body, fragment in BAD_LIMITS:
        invalid(client.put("/_mock/rate-limit", json=body), "body", fragment)
        assert ok(client.get("/_mock/rate-limit")) == DEFAULT_LIMITS, body


def test_rate_limit_body_must_be_an_object(client: TestClient) -> None:
    invalid(client.put("/_mock/rate-limit", json=[True]), "body", "JSON object")


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


# -- the views the dashboard reads ---------------------------------------------------------------


def test_the_world_shows_each_sync_as_of_the_clock_with_its_timing(
    client: TestClient, clock: Clock, other_auth: dict[str, str]
) -> None:
    company_id, sync_id = synced_company(client)
    connection = create_connection(client, company_id)
    create_company(client, "Other's", headers=other_auth)

    world = ok(client.get("/_mock/world"))
    assert world["now"] == "2026-03-02T09:00:00Z"
    mine, theirs = world["tenants"]
    assert mine["clientId"] == client_id_for(API_KEY)
    assert [c["name"] for c in theirs["companies"]] == ["Other's"]
    (company,) = mine["companies"]
    assert company["id"] == company_id
    assert [(c["id"], c["status"]) for c in company["dataConnections"]] == [
        (connection["id"], "PendingAuth")
    ]
    configuration = ok(client.get(f"/config/companies/{company_id}/sync/commerce"))
    assert company["configuration"] == configuration
    (sync,) = company["syncs"]
    assert (sync["syncId"], sync["syncStatusCode"], sync["forced"]) == (sync_id, 1000, False)
    assert (sync["requestedAt"], sync["completesAt"]) == (
        "2026-03-02T09:00:00Z",
        "2026-03-02T09:00:30Z",
    )
    assert sync["durationSeconds"] == 30.0

    clock.advance(60)
    (sync,) = ok(client.get("/_mock/world"))["tenants"][0]["companies"][0]["syncs"]
    assert (sync["syncStatusCode"], sync["syncUtc"]) == (2000, "2026-03-02T09:00:30Z")


def test_the_world_shows_the_newest_companies_first_up_to_a_bound(client: TestClient) -> None:
    for name in ("First", "Second", "Third"):
        create_company(client, name)
    (tenant,) = ok(client.get("/_mock/world"))["tenants"]
    assert tenant["companyCount"] == 3
    assert [c["name"] for c in tenant["companies"]] == ["Third", "Second", "First"]
    (tenant,) = ok(client.get("/_mock/world", params={"companies": 2}))["tenants"]
    assert (tenant["companyCount"], [c["name"] for c in tenant["companies"]]) == (
        3,
        ["Third", "Second"],
    )
    for bad in ("-1", "1001", "x", "²"):
        response = client.get("/_mock/world", params={"companies": bad})
        invalid(response, "companies", "companies takes 0 to 1000")


def test_rate_limit_status_counts_per_client(client: TestClient) -> None:
    off = ok(client.get("/_mock/rate-limit/status"))
    assert (off["enabled"], off["clients"]) == (False, {})
    ok(client.put("/_mock/rate-limit", json={"enabled": True, "dailyBase": 5}))
    ok(client.get("/companies"))
    status = ok(client.get("/_mock/rate-limit/status"))
    assert status["enabled"] is True
    assert status["config"]["dailyBase"] == 5
    mine = status["clients"][client_id_for(API_KEY)]
    assert (mine["dailyQuota"], mine["used"], mine["remaining"]) == (5, 1, 4)


def test_an_over_long_outcome_message_is_400_naming_it_and_changes_nothing(
    client: TestClient,
) -> None:
    company_id, sync_id = synced_company(client)
    status = f"/companies/{company_id}/sync/commerce/syncs/latest/status"
    before = ok(client.get(status))
    response = client.post(
        f"/_mock/syncs/{sync_id}/outcome",
        json={"syncStatusCode": 5130, "message": "m" * (MAX_MESSAGE + 1)},
    )
    assert response.status_code == 400
    [item] = response.json()["validation"]["errors"]
    assert (item["itemId"], item["message"]) == (
        "message",
        f"At most {MAX_MESSAGE} characters ({MAX_MESSAGE + 1} given).",
    )
    assert ok(client.get(status)) == before
