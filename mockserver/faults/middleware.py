"""The fault layer: plain ASGI middleware that applies the first fault rule that fires.

``before`` faults answer (or drop the connection) here, so the handler never runs and nothing
changes. ``after`` faults let the handler run and commit, then replace its response with the
fault: the lost response that makes naive retries create things twice. Prism's ``Prefer``
header works for one request: ``Prefer: code=503`` and ``Prefer: delay=250``.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.errors import error_for_status
from mockserver.exchange import Exchange, exchange_of
from mockserver.faults.book import ActiveRule, FaultBook, Target
from mockserver.faults.connection import ConnectionDropped
from mockserver.faults.rules import FaultRule
from mockserver.http_errors import error_response
from mockserver.render import Render

Action = Callable[["FaultContext"], Awaitable[None]]


class FaultContext:
    """One firing: the rule, the exchange and its ASGI callables, and the handler's response
    for ``after`` faults."""

    __slots__ = (
        "active",
        "captured",
        "correlation_id",
        "exchange",
        "receive",
        "render_error",
        "scope",
        "send",
    )

    def __init__(
        self,
        active: ActiveRule,
        exchange: Exchange,
        scope: Scope,
        receive: Receive,
        send: Send,
        correlation_id: Callable[[], str],
        render_error: Render | None = None,
    ) -> None:
        self.active = active
        self.exchange = exchange
        self.scope = scope
        self.receive = receive
        self.send = send
        self.correlation_id = correlation_id
        #: Puts the fault's error body into the server's response shape (None: the default).
        self.render_error = render_error
        self.captured: list[Message] = []

    def drop(self, how: str) -> None:
        self.exchange.dropped = how
        connection = self.exchange.connection
        if connection is None:
            raise ConnectionDropped(f"codat-mock dropped the connection ({how})")
        if how == "reset":
            connection.reset()
        else:
            connection.close()


async def _answer_status(ctx: FaultContext) -> None:
    rule = ctx.active.rule
    assert rule.status is not None
    err = error_for_status(rule.status, rule.message)
    if rule.retryAfter is not None:
        seconds = rule.retryAfter
        err.headers["Retry-After"] = (
            str(int(seconds)) if float(seconds).is_integer() else str(seconds)
        )
    response = error_response(err, ctx.correlation_id(), render=ctx.render_error)
    await response(ctx.scope, ctx.receive, ctx.send)


async def _drop_reset(ctx: FaultContext) -> None:
    ctx.drop("reset")
    await asyncio.sleep(0)  # let the server see the connection go before we return


async def _drop_empty(ctx: FaultContext) -> None:
    ctx.drop("empty")
    await asyncio.sleep(0)


async def _drop_truncate(ctx: FaultContext) -> None:
    start, body = _response_of(ctx)
    headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
    headers.append((b"content-length", str(len(body)).encode()))
    await ctx.send({**start, "headers": headers})
    await ctx.send(
        {"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True}
    )
    ctx.drop("truncate")
    await asyncio.sleep(0)


async def _drop_hang(ctx: FaultContext) -> None:
    ctx.exchange.dropped = "hang"
    # Never answer: wait until the client gives up (or the server shuts down).
    while (await ctx.receive())["type"] != "http.disconnect":
        pass


async def _replay(ctx: FaultContext) -> None:
    for message in ctx.captured:
        await ctx.send(message)


def _response_of(ctx: FaultContext) -> tuple[Message, bytes]:
    """The response to cut short: the handler's own (``after``) or a placeholder error."""
    if ctx.captured:
        start = next(m for m in ctx.captured if m["type"] == "http.response.start")
        body = b"".join(
            m.get("body", b"") for m in ctx.captured if m["type"] == "http.response.body"
        )
        return start, body
    placeholder = error_response(
        error_for_status(503), ctx.correlation_id(), render=ctx.render_error
    )
    start = {
        "type": "http.response.start",
        "status": placeholder.status_code,
        "headers": placeholder.raw_headers,
    }
    return start, bytes(placeholder.body)


async def _drain_body(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            return


def _actions() -> dict[str, Action]:
    """The action registry: one implementation per action a rule can name."""
    table: dict[str, Action] = {}

    def add(name: str, action: Action) -> None:
        if name in table:
            raise RuntimeError(f"two implementations of fault action {name!r}")
        table[name] = action

    add("status", _answer_status)
    add("drop:reset", _drop_reset)
    add("drop:empty", _drop_empty)
    add("drop:truncate", _drop_truncate)
    add("drop:hang", _drop_hang)
    add("latency", _replay)
    return table


ACTIONS = _actions()


def check_actions() -> None:
    """Startup check: every action a rule can name has an implementation."""
    from typing import get_args

    from mockserver.faults.rules import DropKind

    needed = {"status", "latency"} | {f"drop:{kind}" for kind in get_args(DropKind)}
    missing = needed - set(ACTIONS)
    if missing:
        raise RuntimeError("fault actions without an implementation: " + ", ".join(sorted(missing)))


def prefer_rule(header: str | None) -> FaultRule | None:
    """A one-request rule from Prism's ``Prefer: code=503, delay=100`` convention."""
    if not header:
        return None
    wanted: dict[str, Any] = {}
    for part in header.replace(";", ",").split(","):
        key, _, value = part.strip().partition("=")
        value = value.strip()
        number = int(value) if value.isascii() and value.isdigit() else None
        if key.lower() == "code" and number is not None and 400 <= number <= 599:
            wanted["status"] = number
        elif key.lower() == "delay" and number is not None:
            wanted["latencyMs"] = number
    if not wanted:
        return None
    return FaultRule(id="prefer", **wanted)


class FaultMiddleware:
    """Plain ASGI: find the firing rule for each Codat request and apply it."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        book: FaultBook,
        correlation_id: Callable[[], str],
        render_error: Render | None = None,
    ) -> None:
        check_actions()
        self.app = app
        self.book = book
        self.correlation_id = correlation_id
        self.render_error = render_error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        exchange = exchange_of(scope)
        if exchange is None:
            await self.app(scope, receive, send)
            return
        active = self._firing(scope, exchange)
        if active is None:
            await self.app(scope, receive, send)
            return
        exchange.fault_id = active.rule_id
        exchange.fault_action = active.rule.action
        ctx = FaultContext(
            active, exchange, scope, receive, send, self.correlation_id, self.render_error
        )
        delay = active.latency_seconds()
        if delay > 0:
            await asyncio.sleep(delay)
        rule = active.rule
        if rule.shape is not None:
            # The real answer, in the rule's shape: the surface renders it so.
            exchange.shape = rule.shape
            await self.app(scope, receive, send)
            return
        if rule.when == "before" and rule.action != "latency":
            # The server did receive the request before it failed: take the body in, so the
            # journal shows what the client sent (and can tell its retries apart).
            await _drain_body(receive)
            await ACTIONS[rule.action](ctx)
            return
        if rule.action == "latency":
            await self.app(scope, receive, send)
            return

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                exchange.handler_status = int(message["status"])
            ctx.captured.append(message)

        await self.app(scope, receive, capture)  # the handler runs and commits...
        await ACTIONS[rule.action](ctx)  # ...and the client gets the fault instead

    def _firing(self, scope: Scope, exchange: Exchange) -> ActiveRule | None:
        target = Target(exchange.operation_id, scope["method"], scope["path"], exchange.client_id)
        active = self.book.pick(target)
        if active is None:
            rule = prefer_rule(exchange.headers.get("prefer"))
            if rule is not None:
                # Prefer rules have fixed delays and no probability: the stream is unused.
                active = ActiveRule(rule, "prefer", random.Random(0))
                active.matched = active.fired = 1
        return active
