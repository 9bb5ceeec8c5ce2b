"""Tests of mockserver/journal.py's store: a JournalEntry and its JSON, and the bounded
Journal that keeps them (bounds, dropped count, filters, pages, look-up by number)."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockserver.journal import Journal, JournalEntry
from tests.conftest import T0

WALL = datetime(2026, 3, 2, 10, 30, 15, 123456, tzinfo=timezone.utc)


def _entry(seq: int, **fields: Any) -> JournalEntry:
    defaults: dict[str, Any] = {
        "mock_at": T0 + timedelta(seconds=seq),
        "wall_at": WALL + timedelta(seconds=seq),
        "method": "GET",
        "path": "/companies",
    }
    defaults.update(fields)
    return JournalEntry(seq=seq, **defaults)


# --- JournalEntry ---------------------------------------------------------------------------


def test_entry_json_uses_camel_case_and_both_clocks() -> None:
    entry = _entry(
        7,
        mock_at=T0,
        wall_at=WALL,
        method="POST",
        query="page=1",
        operation_id="create-company",
        client_id="c-1",
        status=503,
        fault_id="f1",
        fault_action="status",
        duration_ms=12.34567,
        request_body='{"name":"Acme"}',
        response_body="{}",
        response_body_truncated=True,
        violations=[{"itemId": "name", "message": "missing"}],
        retry_after="2",
        request_headers=[("authorization", "Basic ****")],
        response_headers=[("retry-after", "2")],
        shape="nulls",
    )
    assert entry.to_json() == {
        "seq": 7,
        "mockTime": "2026-03-02T09:00:00Z",
        "wallTime": "2026-03-02T10:30:15.123Z",
        "method": "POST",
        "path": "/companies",
        "query": "page=1",
        "operationId": "create-company",
        "clientId": "c-1",
        "status": 503,
        "faultId": "f1",
        "faultAction": "status",
        "dropped": None,
        "handlerStatus": None,
        "durationMs": 12.346,
        "requestHeaders": [["authorization", "Basic ****"]],
        "requestBody": '{"name":"Acme"}',
        "requestBodyTruncated": False,
        "responseHeaders": [["retry-after", "2"]],
        "responseBody": "{}",
        "responseBodyTruncated": True,
        "violations": [{"itemId": "name", "message": "missing"}],
        "retryAfter": "2",
        "shape": "nulls",
    }


def test_an_entry_reads_back_exactly_as_recorded() -> None:
    entry = _entry(
        3,
        query="a=1",
        operation_id="list-companies",
        status=200,
        request_body="é" * 3,
        violations=[{"itemId": None, "message": "odd"}],
        request_headers=[("host", "127.0.0.1"), ("x-thing", "a: b")],
        shape="raw",
    )
    journal = Journal()
    journal.record(entry)
    assert journal.entries() == [entry]


# --- Journal --------------------------------------------------------------------------------


def test_journal_keeps_only_the_newest_entries() -> None:
    journal = Journal(max_entries=3)
    for seq in range(1, 6):
        journal.record(_entry(seq))
    assert len(journal) == 3
    assert [entry.seq for entry in journal.entries()] == [3, 4, 5]
    assert journal.dropped_count == 2


def test_clear_forgets_entries_but_not_the_sequence() -> None:
    journal = Journal(max_entries=2)
    for _ in range(3):
        journal.record(_entry(journal.next_seq()))
    journal.clear()
    assert len(journal) == 0
    assert journal.entries() == []
    assert journal.dropped_count == 0
    assert journal.next_seq() == 4


def test_next_seq_stays_ahead_of_entries_recorded_by_hand() -> None:
    journal = Journal()
    journal.record(_entry(41))
    assert journal.next_seq() == 42


def test_entries_come_back_in_arrival_order() -> None:
    journal = Journal()
    # A slow request (seq 1) ends after a quick one (seq 2) and is recorded second.
    journal.record(_entry(2))
    journal.record(_entry(1))
    assert [entry.seq for entry in journal.entries()] == [1, 2]


@pytest.mark.parametrize("kwargs", [{"max_entries": 0}, {"max_body_bytes": -1}])
def test_journal_rejects_impossible_bounds(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        Journal(**kwargs)


@pytest.fixture
def filled() -> Journal:
    journal = Journal()
    journal.record(_entry(1, operation_id="list-companies", client_id="a", status=200))
    journal.record(_entry(2, operation_id="create-company", client_id="a", status=503))
    journal.record(_entry(3, operation_id="create-company", client_id="b", status=200))
    journal.record(_entry(4, operation_id="list-companies", client_id="b", status=429))
    return journal


def _seqs(entries: list[JournalEntry]) -> list[int]:
    return [entry.seq for entry in entries]


def test_filter_by_operation(filled: Journal) -> None:
    assert _seqs(filled.entries(operation_id="create-company")) == [2, 3]


def test_filter_by_status(filled: Journal) -> None:
    assert _seqs(filled.entries(status=200)) == [1, 3]


def test_filter_by_client(filled: Journal) -> None:
    assert _seqs(filled.entries(client_id="b")) == [3, 4]


def test_since_compares_mock_time_inclusively(filled: Journal) -> None:
    assert _seqs(filled.entries(since=T0 + timedelta(seconds=3))) == [3, 4]
    # A naive instant is taken as UTC.
    assert _seqs(filled.entries(since=datetime(2026, 3, 2, 9, 0, 2))) == [2, 3, 4]


def test_filters_combine(filled: Journal) -> None:
    found = filled.entries(operation_id="list-companies", status=429, client_id="b")
    assert _seqs(found) == [4]
    assert filled.entries(operation_id="list-companies", status=503) == []


def test_concurrent_records_are_all_counted() -> None:
    journal = Journal(max_entries=100_000)
    per_thread, threads = 500, 8
    start = threading.Barrier(threads)

    def work() -> None:
        start.wait()
        for _ in range(per_thread):
            journal.record(_entry(journal.next_seq()))

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert len(journal) == per_thread * threads
    assert _seqs(journal.entries()) == list(range(1, per_thread * threads + 1))


@given(bound=st.integers(min_value=1, max_value=20), count=st.integers(min_value=0, max_value=60))
def test_bound_and_dropped_count_add_up(bound: int, count: int) -> None:
    journal = Journal(max_entries=bound)
    for seq in range(1, count + 1):
        journal.record(_entry(seq))
    assert len(journal) == min(bound, count)
    assert journal.dropped_count == max(0, count - bound)
    assert _seqs(journal.entries()) == list(range(max(1, count - bound + 1), count + 1))


@given(
    count=st.integers(min_value=0, max_value=40),
    limit=st.integers(min_value=0, max_value=50),
    since_seq=st.none() | st.integers(min_value=0, max_value=45),
    odd_only=st.booleans(),
)
def test_a_page_is_the_newest_window_of_the_full_list(
    count: int, limit: int, since_seq: int | None, odd_only: bool
) -> None:
    journal = Journal(max_entries=30)
    for seq in range(1, count + 1):
        journal.record(_entry(seq, status=200 if seq % 3 else 500))
    everything = [
        seq
        for seq in _seqs(journal.entries(status=200, since_seq=since_seq))
        if seq % 2 or not odd_only
    ]
    page = journal.page(
        limit=limit,
        status=200,
        since_seq=since_seq,
        where=(lambda entry: entry.seq % 2 == 1) if odd_only else None,
    )
    assert _seqs(page.entries) == everything[max(0, len(everything) - limit) :]
    assert page.has_more == (len(everything) > limit)
    assert page.last_seq == count


def test_get_finds_a_kept_entry_by_its_number() -> None:
    journal = Journal(max_entries=2)
    for seq in (1, 2, 3):
        journal.record(_entry(seq, path=f"/p{seq}"))
    assert journal.get(1) is None  # pushed out by the bound
    found = journal.get(3)
    assert found is not None and found.path == "/p3"
