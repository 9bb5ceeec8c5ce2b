"""Tests of the control API's journal and report (``/_mock/requests``, ``/_mock/report``):
filters, windows, masking and refusals, through the in-process app."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from starlette.testclient import TestClient

from mockserver.auth import authorization_for
from mockserver.clock import Clock
from mockserver.journal import JournalEntry
from mockserver.settings import Settings
from mockserver.spec import Spec
from tests.conftest import API_KEY, T0
from tests.control_support import invalid, journal
from tests.handlers.support import (
    ok,
)

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
