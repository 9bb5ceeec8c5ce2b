"""Tests of mockserver/faults/middleware.py driven directly over ASGI, where a test client
cannot go: drops on a (fake) server transport, hangs, the raw connection it drops
(mockserver/faults/connection.py) and the registry of actions."""

from __future__ import annotations

import asyncio
import socket
import struct
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, cast

import pytest
from starlette.types import Message, Receive, Scope, Send

from mockserver.app import create_app
from mockserver.auth import authorization_for, client_id_for
from mockserver.clock import Clock
from mockserver.errors import NotFound
from mockserver.exchange import exchange_of
from mockserver.faults import middleware
from mockserver.faults.book import FaultBook
from mockserver.faults.connection import ConnectionDropped, RawConnection
from mockserver.faults.middleware import ACTIONS, FaultMiddleware, check_actions
from mockserver.faults.rules import rule_from
from mockserver.resolve import Resolver
from mockserver.settings import Settings
from mockserver.spec import Spec
from tests.conftest import API_KEY

if TYPE_CHECKING:
    from mockserver.routing import Router

# -- the ASGI layer driven directly ------------------------------------------------------------

KEY_HEADER = (b"authorization", authorization_for(API_KEY).encode())
HANDLER_BODY = b'{"id": "0123456789"}'


class FakeRouter:
    """Just enough of the Router for the front layer: two operations."""

    def match(self, method: str, path: str) -> Any:
        operation_id = {
            ("GET", "/companies"): "list-companies",
            ("POST", "/companies"): "create-company",
        }.get((method, path))
        if operation_id is None:
            raise NotFound()
        return SimpleNamespace(operation=SimpleNamespace(operation_id=operation_id))


RESOLVER = Resolver(cast("Router", FakeRouter()))


class Handler:
    """An inner app that reads the body and answers 201; counts its calls."""

    def __init__(self) -> None:
        self.calls = 0
        self.bodies: list[bytes] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.calls += 1
        if scope["type"] == "http":
            self.bodies.append((await receive()).get("body", b""))
        headers = [(b"content-type", b"application/json"), (b"content-length", b"20")]
        await send({"type": "http.response.start", "status": 201, "headers": headers})
        await send({"type": "http.response.body", "body": HANDLER_BODY})


class FakeSocket:
    def __init__(self) -> None:
        self.options: list[tuple[int, int, bytes]] = []

    def setsockopt(self, level: int, option: int, value: bytes) -> None:
        self.options.append((level, option, value))


class FakeTransport:
    def __init__(self, sock: FakeSocket | None) -> None:
        self.sock = sock
        self.aborted = self.closed = False

    def get_extra_info(self, name: str) -> Any:
        return self.sock if name == "socket" else None

    def abort(self) -> None:
        self.aborted = True

    def close(self) -> None:
        self.closed = True


class FakeCycle:
    """A server's request cycle: its ``send`` is a bound method and it holds the transport."""

    def __init__(self, transport: FakeTransport | None = None) -> None:
        self.transport = transport or FakeTransport(FakeSocket())
        self.disconnected = False
        self.sent: list[Message] = []

    async def send(self, message: Message) -> None:
        self.sent.append(message)


def http_scope(method: str = "GET", path: str = "/companies", **extra: Any) -> Scope:
    """A request's scope, resolved as the app's front layer resolves it."""
    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [KEY_HEADER, (b"content-type", b"application/json")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 4010),
        **extra,
    }
    if RESOLVER.is_codat(scope):
        RESOLVER.resolve(scope)
    return scope


class Receiver:
    """``receive``: the request body once, then (after ``idle`` polls) a disconnect."""

    def __init__(self, body: bytes = b"", idle: int = 0) -> None:
        self.messages: list[Message] = [{"type": "http.request", "body": body}]
        self.idle = idle
        self.polls = 0

    async def __call__(self) -> Message:
        self.polls += 1
        if self.messages:
            return self.messages.pop(0)
        if self.idle > 0:
            self.idle -= 1
            # A server would keep answering that the body is done until the client leaves.
            return {"type": "http.request", "body": b"", "more_body": False}
        return {"type": "http.disconnect"}


def layer(*rules: dict[str, Any]) -> tuple[FaultMiddleware, Handler]:
    book = FaultBook(seed=0)
    for data in rules:
        book.add(rule_from(data))
    handler = Handler()
    wrapped = FaultMiddleware(
        handler,
        book=book,
        correlation_id=lambda: "0" * 32,
    )
    return wrapped, handler


def drive(
    app: Any, scope: Scope, cycle: FakeCycle | None = None, receive: Receiver | None = None
) -> FakeCycle:
    cycle = cycle or FakeCycle()
    asyncio.run(app(scope, receive or Receiver(), cycle.send))
    return cycle


def with_connection(scope: Scope, cycle: FakeCycle) -> Scope:
    connection = RawConnection.from_send(cycle.send)
    assert connection is not None
    exchange = exchange_of(scope)
    assert exchange is not None
    exchange.connection = connection
    return scope


def test_no_rule_passes_the_exchange_through() -> None:
    wrapped, handler = layer()
    scope = http_scope()
    cycle = drive(wrapped, scope)
    assert handler.calls == 1
    assert [m["type"] for m in cycle.sent] == ["http.response.start", "http.response.body"]
    exchange = exchange_of(scope)
    assert (exchange.operation_id, exchange.client_id) == ("list-companies", client_id_for(API_KEY))
    assert exchange.fault_id is None


def test_non_http_scopes_and_skipped_prefixes_pass_through() -> None:
    wrapped, handler = layer({"status": 503})
    drive(wrapped, {"type": "lifespan"})
    drive(wrapped, http_scope(path="/_mock/health"))
    drive(wrapped, http_scope(path="/openapi.json"))
    assert handler.calls == 3


def test_a_before_status_never_calls_the_handler_but_reads_the_body() -> None:
    wrapped, handler = layer({"status": 503, "retryAfter": 3})
    receive = Receiver(b'{"name": "x"}')
    scope = http_scope("POST")
    cycle = drive(wrapped, scope, receive=receive)
    assert handler.calls == 0
    assert receive.messages == []  # the body was taken in
    start, body = cycle.sent
    assert start["status"] == 503
    assert (b"retry-after", b"3") in start["headers"]
    assert b'"correlationId":"' + b"0" * 32 + b'"' in body["body"]
    assert exchange_of(scope).fault_id == "rule-1"


def test_an_after_status_runs_the_handler_and_hides_its_answer() -> None:
    wrapped, handler = layer({"status": 503, "when": "after"})
    scope = http_scope("POST")
    cycle = drive(wrapped, scope, receive=Receiver(b"{}"))
    assert handler.calls == 1
    assert [m.get("status") for m in cycle.sent if m["type"] == "http.response.start"] == [503]
    assert HANDLER_BODY not in b"".join(m.get("body", b"") for m in cycle.sent)
    assert exchange_of(scope).handler_status == 201


def test_a_reset_aborts_with_linger_zero_and_sends_nothing() -> None:
    wrapped, handler = layer({"drop": "reset"})
    cycle = FakeCycle()
    scope = with_connection(http_scope(), cycle)
    drive(wrapped, scope, cycle)
    assert handler.calls == 0
    assert cycle.sent == []
    assert cycle.transport.aborted and not cycle.transport.closed
    assert cycle.transport.sock is not None
    linger = (socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    assert cycle.transport.sock.options == [linger]
    assert cycle.disconnected  # so the server writes no 500 of its own
    assert exchange_of(scope).dropped == "reset"


def test_a_reset_without_a_socket_still_aborts() -> None:
    wrapped, _ = layer({"drop": "reset"})
    cycle = FakeCycle(FakeTransport(None))
    drive(wrapped, with_connection(http_scope(), cycle), cycle)
    assert cycle.transport.aborted


def test_an_empty_drop_closes_cleanly_without_a_response() -> None:
    wrapped, handler = layer({"drop": "empty"})
    cycle = FakeCycle()
    drive(wrapped, with_connection(http_scope(), cycle), cycle)
    assert handler.calls == 0
    assert cycle.sent == []
    assert cycle.transport.closed and not cycle.transport.aborted
    assert cycle.transport.sock is not None and cycle.transport.sock.options == []


def test_a_before_truncate_sends_half_a_placeholder_error_then_closes() -> None:
    wrapped, handler = layer({"drop": "truncate"})
    cycle = FakeCycle()
    drive(wrapped, with_connection(http_scope(), cycle), cycle)
    assert handler.calls == 0
    start, body = cycle.sent
    assert start["status"] == 503
    declared = int(dict(start["headers"])[b"content-length"])
    assert len(body["body"]) == declared // 2
    assert body["more_body"] is True
    assert cycle.transport.closed


def test_an_after_truncate_cuts_the_handlers_own_answer_in_half() -> None:
    wrapped, handler = layer({"drop": "truncate", "when": "after"})
    cycle = FakeCycle()
    scope = with_connection(http_scope("POST"), cycle)
    drive(wrapped, scope, cycle, Receiver(b"{}"))
    assert handler.calls == 1
    start, body = cycle.sent
    assert start["status"] == 201
    assert [v for k, v in start["headers"] if k == b"content-length"] == [b"20"]
    assert body["body"] == HANDLER_BODY[:10]
    assert cycle.transport.closed
    exchange = exchange_of(scope)
    assert (exchange.dropped, exchange.handler_status) == ("truncate", 201)


def test_a_hang_never_answers_and_waits_for_the_client_to_leave() -> None:
    wrapped, handler = layer({"drop": "hang"})
    receive = Receiver(idle=3)
    scope = http_scope()
    cycle = drive(wrapped, scope, receive=receive)
    assert handler.calls == 0
    assert cycle.sent == []
    assert receive.polls == 5  # the body, three more polls, the disconnect
    assert exchange_of(scope).dropped == "hang"


def test_an_after_hang_commits_then_never_answers() -> None:
    wrapped, handler = layer({"drop": "hang", "when": "after"})
    cycle = drive(wrapped, http_scope("POST"), receive=Receiver(b"{}"))
    assert handler.calls == 1
    assert cycle.sent == []


def test_a_drop_without_a_transport_raises() -> None:
    wrapped, _ = layer({"drop": "empty"})
    scope = http_scope()
    with pytest.raises(ConnectionDropped):
        drive(wrapped, scope)
    assert exchange_of(scope).dropped == "empty"


def test_the_whole_app_finds_the_servers_transport_and_resets_it(spec: Spec, clock: Clock) -> None:
    app = create_app(Settings(seed=7), clock=clock, spec=spec)
    state = app.state.mock
    state.faults.add(rule_from({"operationId": "create-company", "drop": "reset", "when": "after"}))
    cycle = drive(app, http_scope("POST"), receive=Receiver(b'{"name": "Over The Wire"}'))
    assert cycle.transport.aborted
    assert cycle.sent == []
    companies = state.world.tenant(client_id_for(API_KEY)).list_companies()
    assert [company["name"] for company in companies] == ["Over The Wire"]
    (entry,) = state.journal.entries()
    assert (entry.dropped, entry.handler_status, entry.status) == ("reset", 200, None)


# -- raw connections ---------------------------------------------------------------------------


def test_raw_connection_needs_a_bound_send_with_an_abortable_transport() -> None:
    async def plain_send(message: Message) -> None:
        return None

    assert RawConnection.from_send(plain_send) is None
    no_abort = FakeCycle()
    no_abort.transport = cast("FakeTransport", object())
    assert RawConnection.from_send(no_abort.send) is None
    assert RawConnection.from_send(FakeCycle().send) is not None


# -- the action registry -----------------------------------------------------------------------


def test_every_action_a_rule_can_name_has_an_implementation() -> None:
    check_actions()
    expected = {"status", "latency", "drop:reset", "drop:empty", "drop:truncate", "drop:hang"}
    assert set(ACTIONS) == expected
    for data in (
        {"status": 503},
        {"latencyMs": 1},
        *({"drop": kind} for kind in ("reset", "empty", "truncate", "hang")),
    ):
        assert rule_from(data).action in ACTIONS


def test_a_fresh_registry_is_the_same_table() -> None:
    assert middleware._actions() == ACTIONS


def test_a_missing_action_fails_the_startup_check(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(ACTIONS, "drop:hang")
    with pytest.raises(RuntimeError, match="drop:hang"):
        check_actions()
    with pytest.raises(RuntimeError, match="drop:hang"):
        layer()
