from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from mockserver.journal import JournalEntry
from mockserver.report import build_report, format_report, is_retryable_failure

T0 = datetime(2026, 3, 2, 9, 0, 0, tzinfo=timezone.utc)
BODY = '{"name":"Acme"}'


def _entry(seq: int, at: float, status: int | None, **fields: Any) -> JournalEntry:
    """An entry arriving ``at`` real seconds after T0 (no duration unless given)."""
    values: dict[str, Any] = {
        "operation_id": "create-company",
        "client_id": "c-1",
        "method": "POST",
        "path": "/companies",
        "request_body": BODY,
    }
    values.update(fields)
    return JournalEntry(
        seq=seq,
        mock_at=T0,
        wall_at=T0 + timedelta(seconds=at),
        status=status,
        **values,
    )


def _only_call(report: dict[str, Any]) -> dict[str, Any]:
    [operation] = report["operations"]
    [call] = operation["logicalCalls"]
    return call  # type: ignore[no-any-return]


def test_retries_form_one_logical_call_with_gaps_from_the_end_of_each_attempt() -> None:
    entries = [
        _entry(1, 0.0, 429, duration_ms=100, retry_after="1", fault_id="r429"),
        _entry(2, 1.2, 429, duration_ms=50, retry_after="1", fault_id="r429"),
        _entry(3, 2.5, 201, duration_ms=20),
    ]
    call = _only_call(build_report(entries))
    assert call["attempts"] == 3
    assert call["seqs"] == [1, 2, 3]
    assert call["statuses"] == [429, 429, 201]
    assert call["faultIds"] == ["r429", "r429", None]
    assert call["gapsSeconds"] == [1.1, 1.25]
    assert call["retryAfterSeconds"] == [1.0, 1.0]
    assert call["retryAfterHonouredPerGap"] == [True, True]
    assert call["retryAfterHonoured"] is True
    assert call["outcome"] == 201
    assert call["succeeded"] is True
    assert (call["method"], call["path"], call["query"]) == ("POST", "/companies", "")


def test_a_retry_sooner_than_retry_after_is_flagged() -> None:
    entries = [
        _entry(1, 0.0, 429, retry_after="1"),
        _entry(2, 1.0, 429, retry_after="2"),
        _entry(3, 2.5, 200),
    ]
    call = _only_call(build_report(entries))
    assert call["gapsSeconds"] == [1.0, 1.5]
    assert call["retryAfterHonouredPerGap"] == [True, False]
    assert call["retryAfterHonoured"] is False


def test_retry_after_is_only_judged_where_it_was_sent() -> None:
    entries = [
        _entry(1, 0.0, 503),
        _entry(2, 0.2, 429, retry_after="5"),
        _entry(3, 5.2, 200),
    ]
    call = _only_call(build_report(entries))
    assert call["retryAfterSeconds"] == [None, 5.0]
    assert call["retryAfterHonouredPerGap"] == [None, True]
    assert call["retryAfterHonoured"] is True


def test_no_retry_after_means_no_verdict_on_it() -> None:
    entries = [_entry(1, 0.0, 503), _entry(2, 0.1, 200)]
    call = _only_call(build_report(entries))
    assert call["retryAfterHonouredPerGap"] == [None]
    assert call["retryAfterHonoured"] is None


def test_a_retry_a_little_early_is_not_honoured() -> None:
    entries = [_entry(1, 0.0, 429, retry_after="1"), _entry(2, 0.97, 200)]
    assert _only_call(build_report(entries))["retryAfterHonoured"] is False


def test_a_non_retryable_answer_ends_the_logical_call() -> None:
    entries = [_entry(1, 0.0, 503), _entry(2, 0.5, 400), _entry(3, 1.0, 400)]
    [operation] = build_report(entries)["operations"]
    calls = operation["logicalCalls"]
    assert [call["statuses"] for call in calls] == [[503, 400], [400]]
    assert [call["outcome"] for call in calls] == [400, 400]
    assert calls[0]["succeeded"] is False
    assert operation["maxAttempts"] == 2


def test_a_success_ends_the_logical_call() -> None:
    entries = [
        _entry(1, 0.0, 200, operation_id="list-companies", method="GET", request_body=""),
        _entry(2, 0.5, 200, operation_id="list-companies", method="GET", request_body=""),
    ]
    [operation] = build_report(entries)["operations"]
    assert [call["seqs"] for call in operation["logicalCalls"]] == [[1], [2]]


def test_an_attempt_outside_the_window_starts_a_new_call() -> None:
    entries = [_entry(1, 0.0, 503), _entry(2, 61.0, 200)]
    [operation] = build_report(entries, window_seconds=60)["operations"]
    assert [call["seqs"] for call in operation["logicalCalls"]] == [[1], [2]]
    [operation] = build_report(entries, window_seconds=120)["operations"]
    assert [call["seqs"] for call in operation["logicalCalls"]] == [[1, 2]]


def test_interleaved_calls_are_told_apart_by_query_and_body() -> None:
    page = {"operation_id": "list-companies", "method": "GET", "request_body": ""}
    entries = [
        _entry(1, 0.0, 503, query="page=1", **page),
        _entry(2, 0.1, 503, query="page=2", **page),
        _entry(3, 0.2, 200, query="page=1", **page),
        _entry(4, 0.3, 200, query="page=2", **page),
        _entry(5, 0.4, 503, request_body='{"name":"A"}'),
        _entry(6, 0.5, 200, request_body='{"name":"B"}'),
    ]
    report = build_report(entries)
    by_operation = {op["operationId"]: op for op in report["operations"]}
    listed = by_operation["list-companies"]["logicalCalls"]
    assert [(call["query"], call["seqs"]) for call in listed] == [
        ("page=1", [1, 3]),
        ("page=2", [2, 4]),
    ]
    created = by_operation["create-company"]["logicalCalls"]
    assert [call["seqs"] for call in created] == [[5], [6]]


def test_drops_count_as_failures_with_no_status() -> None:
    entries = [
        _entry(1, 0.0, None, dropped="reset", fault_id="d"),
        _entry(2, 0.5, 200, dropped="truncate", fault_id="d"),
        _entry(3, 1.0, 200),
    ]
    report = build_report(entries)
    call = _only_call(report)
    assert call["statuses"] == [None, None, 200]
    assert report["totals"]["dropped"] == 2
    assert report["totals"]["faulted"] == 2


def test_a_call_that_ends_in_a_drop_has_no_outcome() -> None:
    call = _only_call(build_report([_entry(1, 0.0, None, dropped="hang")]))
    assert (call["outcome"], call["succeeded"]) == (None, False)


def test_retryable_statuses() -> None:
    retryable = {s for s in (200, 201, 400, 404, 408, 409, 429, 500, 503) if _retry(s)}
    assert retryable == {408, 429, 500, 503}


def _retry(status: int) -> bool:
    return is_retryable_failure(_entry(1, 0.0, status))


# --- duplicates -----------------------------------------------------------------------------


def test_an_after_fault_then_a_retry_is_a_duplicate() -> None:
    entries = [
        _entry(1, 0.0, 503, handler_status=200, fault_id="after-503"),
        _entry(2, 0.5, 200),
    ]
    report = build_report(entries)
    assert report["duplicates"] == [
        {
            "operationId": "create-company",
            "clientId": "c-1",
            "method": "POST",
            "path": "/companies",
            "count": 2,
            "seqs": [1, 2],
            "requestBody": BODY,
        }
    ]
    assert report["operations"][0]["duplicates"] == 1
    assert report["totals"]["duplicates"] == 1


def test_a_before_fault_then_a_retry_is_not_a_duplicate() -> None:
    entries = [_entry(1, 0.0, 503, fault_id="before-503"), _entry(2, 0.5, 200)]
    report = build_report(entries)
    assert report["duplicates"] == []
    assert report["operations"][0]["duplicates"] == 0


def test_two_successful_identical_creates_within_the_window_are_duplicates() -> None:
    entries = [_entry(1, 0.0, 200), _entry(2, 10.0, 200), _entry(3, 20.0, 200)]
    [duplicate] = build_report(entries)["duplicates"]
    assert (duplicate["count"], duplicate["seqs"]) == (3, [1, 2, 3])


def test_creates_with_different_bodies_are_not_duplicates() -> None:
    entries = [
        _entry(1, 0.0, 200, request_body='{"name":"A"}'),
        _entry(2, 1.0, 200, request_body='{"name":"B"}'),
    ]
    assert build_report(entries)["duplicates"] == []


def test_creates_outside_the_window_are_not_duplicates() -> None:
    entries = [_entry(1, 0.0, 200), _entry(2, 90.0, 200)]
    assert build_report(entries, window_seconds=60)["duplicates"] == []
    assert len(build_report(entries, window_seconds=100)["duplicates"]) == 1


def test_creates_by_different_clients_are_not_duplicates() -> None:
    entries = [_entry(1, 0.0, 200, client_id="a"), _entry(2, 1.0, 200, client_id="b")]
    assert build_report(entries)["duplicates"] == []


def test_only_create_operations_are_checked_for_duplicates() -> None:
    entries = [
        _entry(1, 0.0, 200, operation_id="update-company"),
        _entry(2, 1.0, 200, operation_id="update-company"),
    ]
    assert build_report(entries)["duplicates"] == []
    custom = build_report(entries, create_operations=frozenset({"update-company"}))
    assert [d["seqs"] for d in custom["duplicates"]] == [[1, 2]]


def test_a_rejected_create_is_not_a_commit() -> None:
    entries = [_entry(1, 0.0, 503, handler_status=400), _entry(2, 0.5, 200)]
    assert build_report(entries)["duplicates"] == []


# --- shape ----------------------------------------------------------------------------------


def test_report_is_ordered_totalled_and_json_ready() -> None:
    entries = [
        _entry(4, 3.0, 404, operation_id=None, client_id=None, path="/nope", method="GET"),
        _entry(3, 2.0, 200, operation_id="list-companies", client_id="b", method="GET"),
        _entry(2, 1.0, 200, operation_id="list-companies", client_id="a", method="GET"),
        _entry(1, 0.0, 503, fault_id="f"),
        _entry(5, 4.0, 201),
    ]
    report = build_report(entries)
    assert [(op["operationId"], op["clientId"]) for op in report["operations"]] == [
        ("create-company", "c-1"),
        ("list-companies", "a"),
        ("list-companies", "b"),
        (None, None),
    ]
    assert report["operations"][0]["requests"] == 2
    assert report["operations"][0]["maxAttempts"] == 2
    assert report["totals"] == {
        "requests": 5,
        "logicalCalls": 4,
        "retried": 1,
        "faulted": 1,
        "dropped": 0,
        "duplicates": 0,
    }
    assert json.loads(json.dumps(report)) == report
    assert build_report(list(reversed(entries))) == report


def test_an_empty_journal_gives_an_empty_report() -> None:
    report = build_report([])
    assert report["operations"] == []
    assert report["duplicates"] == []
    assert set(report["totals"].values()) == {0}
    assert "No requests recorded." in format_report(report)


def test_format_report_shows_calls_duplicates_and_totals() -> None:
    entries = [
        _entry(1, 0.0, 429, retry_after="1", fault_id="r"),
        _entry(2, 0.5, 503, handler_status=201, fault_id="after"),
        _entry(3, 1.0, 201),
    ]
    # The CLI formats what the control API answered, so format the JSON round trip.
    text = format_report(json.loads(json.dumps(build_report(entries))))
    assert "create-company" in text
    assert "POST /companies" in text
    assert "429,503,201" in text
    assert "0.500s,0.500s" in text
    assert "Duplicates" in text
    assert "2 times (requests 2,3)" in text
    assert "Totals: 3 requests, 1 logical calls, 1 retried, 2 faulted, 0 dropped, 1 duplicates" in (
        text
    )
    retried_row = next(line for line in text.splitlines() if "429,503,201" in line)
    assert " no " in retried_row  # the 0.5 s retry did not honour Retry-After: 1


_statuses = st.sampled_from([None, 200, 201, 400, 404, 408, 429, 500, 503])


@given(
    st.lists(
        st.tuples(_statuses, st.sampled_from(["", "page=2"]), st.floats(0, 90)),
        max_size=25,
    )
)
def test_logical_calls_partition_the_requests(steps: list[tuple[int | None, str, float]]) -> None:
    entries: list[JournalEntry] = []
    at = 0.0
    for seq, (status, query, pause) in enumerate(steps, start=1):
        at += pause
        entries.append(_entry(seq, at, status, query=query))
    report = build_report(entries)
    calls = [call for op in report["operations"] for call in op["logicalCalls"]]
    assert sorted(seq for call in calls for seq in call["seqs"]) == list(range(1, len(steps) + 1))
    for call in calls:
        assert len(call["gapsSeconds"]) == call["attempts"] - 1
        assert all(gap <= 60.0 for gap in call["gapsSeconds"])
        assert len({entries[seq - 1].query for seq in call["seqs"]}) == 1
        # Every attempt but the last failed in a retryable way.
        assert all(_retry_status(status) for status in call["statuses"][:-1])
    assert report["totals"]["logicalCalls"] == len(calls)


def _retry_status(status: int | None) -> bool:
    return status is None or status in (408, 429) or status >= 500


def test_a_call_carries_its_timeline_and_whether_the_client_gave_up() -> None:
    entries = [
        _entry(1, 0.0, 503, duration_ms=100),
        _entry(2, 0.5, None, duration_ms=20, dropped="reset"),
    ]
    call = _only_call(build_report(entries))
    assert call["startsSeconds"] == [0.0, 0.5]
    assert call["durationsMs"] == [100.0, 20.0]
    assert call["gaveUp"] is True
    settled = _only_call(build_report([*entries, _entry(3, 0.9, 201)]))
    assert (settled["startsSeconds"], settled["gaveUp"]) == ([0.0, 0.5, 0.9], False)
    refused = _only_call(build_report([_entry(1, 0.0, 400)]))
    assert refused["gaveUp"] is False  # not a failure worth retrying
