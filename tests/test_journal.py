from __future__ import annotations

import asyncio
import gc
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.types import Message, Receive, Scope, Send

from mockserver.clock import Clock
from mockserver.exchange import SCOPE_KEY, Exchange, exchange_of
from mockserver.journal import Journal, JournalEntry, JournalMiddleware

T0 = datetime(2026, 3, 2, 9, 0, 0, tzinfo=timezone.utc)
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


# --- JournalMiddleware ----------------------------------------------------------------------


@dataclass
class Harness:
    """A journal, a frozen mock clock and fixed real-time sources for the middleware."""

    journal: Journal
    clock: Clock

    def wrap(self, app: Any, **kwargs: Any) -> JournalMiddleware:
        ticks: Iterator[float] = iter([100.0, 100.25])
        return JournalMiddleware(
            app,
            journal=self.journal,
            clock=self.clock,
            wall_clock=lambda: WALL,
            timer=lambda: next(ticks),
            **kwargs,
        )


@pytest.fixture
def harness() -> Harness:
    return Harness(Journal(max_body_bytes=64), Clock(frozen_at=T0))


def _http_scope(
    path: str = "/companies", method: str = "POST", query: bytes = b"", *, codat: bool = True
) -> Scope:
    """A request's scope; a Codat request carries the Exchange the front layer resolved."""
    scope: Scope = {
        "type": "http",
        "method": method,
        "path": path,
        "query_string": query,
        "headers": [],
    }
    if codat:
        scope[SCOPE_KEY] = Exchange()
    return scope


def _drive(app: Any, scope: Scope, chunks: list[bytes]) -> list[Message]:
    """Run ``app`` once on a request whose body arrives in ``chunks``; return what it sent."""
    incoming: list[Message] = [
        {"type": "http.request", "body": chunk, "more_body": index < len(chunks) - 1}
        for index, chunk in enumerate(chunks)
    ]
    incoming.append({"type": "http.disconnect"})
    sent: list[Message] = []

    async def receive() -> Message:
        return incoming.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


async def _read_body(receive: Receive) -> bytes:
    body = b""
    while True:
        message = await receive()
        body += bytes(message.get("body", b""))
        if not message.get("more_body"):
            return body


def test_middleware_records_the_whole_exchange(harness: Harness) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        body = await _read_body(receive)
        exchange = exchange_of(scope)
        exchange.operation_id = "create-company"
        exchange.client_id = "c-1"
        exchange.fault_id = "f1"
        exchange.fault_action = "status"
        exchange.violations.append({"itemId": "name", "message": "too long"})
        headers = [(b"content-type", b"application/json"), (b"Retry-After", b"3")]
        await send({"type": "http.response.start", "status": 429, "headers": headers})
        await send({"type": "http.response.body", "body": b'{"echo":' + body + b"}"})

    scope = _http_scope(query=b"page=2&pageSize=5")
    _drive(harness.wrap(app), scope, [b'{"name":', b'"Acme"}'])

    [entry] = harness.journal.entries()
    assert entry.seq == 1
    assert (entry.method, entry.path, entry.query) == ("POST", "/companies", "page=2&pageSize=5")
    assert entry.mock_at == T0
    assert entry.wall_at == WALL
    assert entry.status == 429
    assert entry.retry_after == "3"
    assert entry.duration_ms == pytest.approx(250.0)
    assert entry.request_body == '{"name":"Acme"}'
    assert entry.response_body == '{"echo":{"name":"Acme"}}'
    assert not entry.request_body_truncated
    assert not entry.response_body_truncated
    assert (entry.operation_id, entry.client_id) == ("create-company", "c-1")
    assert (entry.fault_id, entry.fault_action, entry.dropped) == ("f1", "status", None)
    assert entry.violations == [{"itemId": "name", "message": "too long"}]
    assert isinstance(scope[SCOPE_KEY], Exchange)


def test_messages_pass_through_unchanged_and_at_once(harness: Harness) -> None:
    chunks = [b"alpha-", b"beta-", b"gamma"]
    outer_sent: list[Message] = []
    seen_by_app: list[Message] = []
    app_sent: list[Message] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            seen_by_app.append(message)
            if not message.get("more_body"):
                break
        start: Message = {"type": "http.response.start", "status": 200, "headers": []}
        app_sent.append(start)
        await send(start)
        for index, piece in enumerate(chunks):
            message = {"type": "http.response.body", "body": piece, "more_body": index < 2}
            app_sent.append(message)
            await send(message)
            # Streaming: each chunk is on the wire before the next one is produced.
            assert outer_sent[-1] is message

    middleware = harness.wrap(app)
    incoming = [
        {"type": "http.request", "body": b"one", "more_body": True},
        {"type": "http.request", "body": b"two", "more_body": False},
    ]

    async def receive() -> Message:
        return incoming.pop(0)

    async def send(message: Message) -> None:
        outer_sent.append(message)

    expected_in = list(incoming)
    asyncio.run(middleware(_http_scope(), receive, send))
    assert len(seen_by_app) == len(expected_in)
    assert all(a is b for a, b in zip(seen_by_app, expected_in, strict=True))
    assert len(outer_sent) == len(app_sent)
    assert all(a is b for a, b in zip(outer_sent, app_sent, strict=True))
    [entry] = harness.journal.entries()
    assert entry.request_body == "onetwo"
    assert entry.response_body == "alpha-beta-gamma"


def test_a_drop_without_response_is_recorded_with_no_status(harness: Harness) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        exchange = exchange_of(scope)
        exchange.fault_id = "drop-1"
        exchange.fault_action = "drop:empty"
        exchange.dropped = "empty"

    sent = _drive(harness.wrap(app), _http_scope(), [b""])
    assert sent == []
    [entry] = harness.journal.entries()
    assert entry.status is None
    assert entry.dropped == "empty"
    assert entry.fault_id == "drop-1"
    assert entry.response_body == ""


def test_an_exception_is_recorded_and_raised(harness: Harness) -> None:
    class Boom(Exception):
        pass

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        exchange_of(scope).dropped = "reset"
        raise Boom

    with pytest.raises(Boom):
        _drive(harness.wrap(app), _http_scope(), [b""])
    [entry] = harness.journal.entries()
    assert (entry.status, entry.dropped) == (None, "reset")


def test_a_truncated_response_keeps_its_status_and_the_drop(harness: Harness) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b'{"na', "more_body": True})
        exchange_of(scope).dropped = "truncate"

    _drive(harness.wrap(app), _http_scope(), [b""])
    [entry] = harness.journal.entries()
    assert (entry.status, entry.dropped, entry.response_body) == (200, "truncate", '{"na')


def test_bodies_are_capped(harness: Harness) -> None:
    harness.journal = Journal(max_body_bytes=5)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await _read_body(receive)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"abc", "more_body": True})
        await send({"type": "http.response.body", "body": b"defgh"})

    sent = _drive(harness.wrap(app), _http_scope(), [b"hel", b"lo, world"])
    assert sent[-1]["body"] == b"defgh"  # the client still gets everything
    [entry] = harness.journal.entries()
    assert (entry.request_body, entry.request_body_truncated) == ("hello", True)
    assert (entry.response_body, entry.response_body_truncated) == ("abcde", True)


def test_a_cut_through_a_character_leaves_the_partial_character_out(harness: Harness) -> None:
    harness.journal = Journal(max_body_bytes=2)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await _read_body(receive)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"\xff\xfe"})

    _drive(harness.wrap(app), _http_scope(), ["aé".encode()])
    [entry] = harness.journal.entries()
    assert (entry.request_body, entry.request_body_truncated) == ("a", True)
    # Bytes that are not UTF-8 at all are shown with replacement characters.
    assert (entry.response_body, entry.response_body_truncated) == ("\ufffd\ufffd", False)


@given(
    text=st.text(max_size=40),
    cuts=st.lists(st.integers(min_value=0, max_value=200), max_size=5),
    limit=st.integers(min_value=0, max_value=60),
)
def test_captured_body_is_a_bounded_prefix(text: str, cuts: list[int], limit: int) -> None:
    data = text.encode()
    points = sorted({min(cut, len(data)) for cut in cuts})
    chunks = [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]
    harness = Harness(Journal(max_body_bytes=limit), Clock(frozen_at=T0))

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        assert await _read_body(receive) == data
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    _drive(harness.wrap(app), _http_scope(), chunks)
    [entry] = harness.journal.entries()
    captured = entry.request_body.encode()
    assert data.startswith(captured)
    assert len(captured) <= limit
    assert entry.request_body_truncated == (len(data) > limit)
    if not entry.request_body_truncated:
        assert entry.request_body == text


def test_requests_outside_the_codat_surface_are_not_recorded(harness: Harness) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    # The front layer gives only Codat requests an Exchange; the control API gets none.
    sent = _drive(harness.wrap(app), _http_scope("/_mock/requests", "GET", codat=False), [b""])
    assert [message["type"] for message in sent] == ["http.response.start", "http.response.body"]
    assert len(harness.journal) == 0
    _drive(harness.wrap(app), _http_scope("/companies", "GET"), [b""])
    assert len(harness.journal) == 1


def test_non_http_scopes_pass_straight_through(harness: Harness) -> None:
    called: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        called.append(scope["type"])
        assert SCOPE_KEY not in scope

    async def receive() -> Message:
        return {"type": "lifespan.startup"}

    async def send(message: Message) -> None:
        pass

    asyncio.run(harness.wrap(app)({"type": "lifespan"}, receive, send))
    assert called == ["lifespan"]
    assert len(harness.journal) == 0


def test_the_handlers_status_is_kept_when_the_exchange_carries_it(harness: Harness) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        exchange = exchange_of(scope)
        exchange.handler_status = 200
        exchange.fault_id = "after-503"
        await send({"type": "http.response.start", "status": 503, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    scope = _http_scope()
    _drive(harness.wrap(app), scope, [b""])
    [entry] = harness.journal.entries()
    assert (entry.status, entry.handler_status) == (503, 200)


def test_the_entry_is_recorded_before_the_last_byte_leaves(harness: Harness) -> None:
    """A client that reads the journal as soon as its call returns must find the call."""
    seen_at_last_byte: list[int] = []

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{", "more_body": True})
        await send({"type": "http.response.body", "body": b"}"})

    wrapped = harness.wrap(inner)

    async def outer_send(message: Message) -> None:
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            seen_at_last_byte.append(len(harness.journal))

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    asyncio.run(wrapped(_http_scope(), receive, outer_send))
    assert seen_at_last_byte == [1]
    [entry] = harness.journal.entries()
    assert (entry.status, entry.response_body) == (200, "{}")


def test_headers_are_kept_in_order_with_secrets_masked(harness: Harness) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        exchange_of(scope).shape = "raw"
        headers = [(b"Content-Type", b"application/json"), (b"Set-Cookie", b"s=secret")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"{}"})

    scope = _http_scope()
    scope["headers"] = [
        (b"host", b"127.0.0.1:4010"),
        (b"authorization", b"Basic c2VjcmV0LWtleQ=="),
        (b"proxy-authorization", b"c2VjcmV0"),
        (b"x-codat-mock-token", b"tok"),
        (b"x-note", b"a: b"),
    ]
    _drive(harness.wrap(app), scope, [b""])
    [entry] = harness.journal.entries()
    assert entry.request_headers == [
        ("host", "127.0.0.1:4010"),
        ("authorization", "Basic ****"),
        ("proxy-authorization", "****"),
        ("x-codat-mock-token", "****"),
        ("x-note", "a: b"),
    ]
    assert entry.response_headers == [("content-type", "application/json"), ("set-cookie", "****")]
    assert entry.shape == "raw"


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


def test_on_record_hears_of_each_entry_once_it_is_recorded(harness: Harness) -> None:
    seen: list[tuple[int, int | None, int]] = []

    def on_record(entry: JournalEntry) -> None:
        seen.append((entry.seq, entry.status, len(harness.journal)))

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 201, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    _drive(harness.wrap(app, on_record=on_record), _http_scope(), [b""])
    assert seen == [(1, 201, 1)]
    assert harness.journal.entries()[0].status == 201


def test_kept_entries_are_nothing_for_the_collector_to_walk(harness: Harness) -> None:
    """A full journal must not lengthen garbage collections: after one collection no kept row
    is tracked any more (rows of flat values; nested tuples would stay tracked for several)."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await _read_body(receive)
        exchange_of(scope).violations.append({"itemId": "name", "message": "missing"})
        await send({"type": "http.response.start", "status": 400, "headers": [(b"x-a", b"1")]})
        await send({"type": "http.response.body", "body": b"{}"})

    for _ in range(50):
        scope = _http_scope()
        scope["headers"] = [(b"host", b"h"), (b"authorization", b"Basic a2V5")]
        _drive(harness.wrap(app), scope, [b'{"a": 1}'])
    gc.collect()
    rows = list(harness.journal._rows)  # the stored form itself is what is under test
    assert len(rows) == 50
    assert not any(gc.is_tracked(row) for row in rows)
