"""Tests of mockserver/journal.py's JournalMiddleware: driven directly over ASGI, it records
each Codat exchange (bodies capped, headers masked, drops and errors kept) and passes
every message through unchanged."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.types import Message, Receive, Scope, Send

from mockserver.clock import Clock
from mockserver.exchange import SCOPE_KEY, Exchange, exchange_of
from mockserver.journal import Journal, JournalEntry, JournalMiddleware
from tests.conftest import T0

WALL = datetime(2026, 3, 2, 10, 30, 15, 123456, tzinfo=timezone.utc)


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
    """A full journal must not lengthen garbage collections: what it keeps of an exchange is
    never tracked by the collector, not even before its first collection (flat values held
    in columns, no row objects; a tuple per row was tracked until a collection looked)."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await _read_body(receive)
        exchange_of(scope).violations.append({"itemId": "name", "message": "missing"})
        await send({"type": "http.response.start", "status": 400, "headers": [(b"x-a", b"1")]})
        await send({"type": "http.response.body", "body": b"{}"})

    for _ in range(50):
        scope = _http_scope()
        scope["headers"] = [(b"host", b"h"), (b"authorization", b"Basic a2V5")]
        _drive(harness.wrap(app), scope, [b'{"a": 1}'])
    ring = harness.journal._rows  # the stored form itself is what is under test
    assert len(ring) == 50
    kept = [value for column in ring._columns for value in column]
    assert not any(gc.is_tracked(value) for value in kept)
    assert {row[0] for row in ring.rows()} == set(range(1, 51))
