"""Tests of mockserver/wire.py: a response's head and body leave in one write, and nothing
written is held past the loop iteration that wrote it."""

from __future__ import annotations

import asyncio
from typing import Any

from mockserver.wire import CoalescingHttpProtocol, CoalescingTransport, uvicorn_config


class _Recorder(asyncio.Transport):
    """A transport that keeps what it is asked to do."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, Any]] = []
        self.closing = False

    def write(self, data: Any) -> None:
        self.calls.append(("write", bytes(data)))

    def close(self) -> None:
        self.closing = True
        self.calls.append(("close", None))

    def abort(self) -> None:
        self.closing = True
        self.calls.append(("abort", None))

    def is_closing(self) -> bool:
        return self.closing

    def get_write_buffer_size(self) -> int:
        return 0


def _run(scenario: Any) -> list[tuple[str, Any]]:
    async def main() -> list[tuple[str, Any]]:
        inner = _Recorder()
        await scenario(CoalescingTransport(inner, asyncio.get_running_loop()), inner)
        return inner.calls

    return asyncio.run(main())


def test_a_head_and_a_body_written_together_leave_as_one_write() -> None:
    async def scenario(wire: CoalescingTransport, inner: _Recorder) -> None:
        wire.write(b"HTTP/1.1 200 OK\r\n\r\n")
        wire.write(b"{}")
        assert inner.calls == [("write", b"HTTP/1.1 200 OK\r\n\r\n{}")]
        await asyncio.sleep(0)  # the end of the iteration finds nothing left to send

    assert _run(scenario) == [("write", b"HTTP/1.1 200 OK\r\n\r\n{}")]


def test_a_lone_write_leaves_by_the_end_of_the_loop_iteration() -> None:
    async def scenario(wire: CoalescingTransport, inner: _Recorder) -> None:
        wire.write(b"HTTP/1.1 200 OK\r\n\r\n")
        assert inner.calls == []  # held for a moment...
        assert wire.get_write_buffer_size() == len(b"HTTP/1.1 200 OK\r\n\r\n")
        await asyncio.sleep(0)
        assert inner.calls == [("write", b"HTTP/1.1 200 OK\r\n\r\n")]  # ...and no longer
        wire.write(b"part")  # a hang or truncate fault's next part is not held either
        await asyncio.sleep(0)

    assert _run(scenario) == [("write", b"HTTP/1.1 200 OK\r\n\r\n"), ("write", b"part")]


def test_a_close_sends_what_was_written_first() -> None:
    async def scenario(wire: CoalescingTransport, inner: _Recorder) -> None:
        wire.write(b"HTTP/1.1 200 OK\r\n\r\npartial")
        wire.close()
        assert wire.is_closing()
        await asyncio.sleep(0)

    assert _run(scenario) == [("write", b"HTTP/1.1 200 OK\r\n\r\npartial"), ("close", None)]


def test_an_abort_sends_nothing_that_was_held() -> None:
    async def scenario(wire: CoalescingTransport, inner: _Recorder) -> None:
        wire.write(b"HTTP/1.1 200 OK\r\n\r\n")
        wire.abort()
        await asyncio.sleep(0)

    assert _run(scenario) == [("abort", None)]


def test_the_mock_s_uvicorn_writes_through_it_and_trusts_no_proxy_headers() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:  # pragma: no cover - unused
        pass

    config = uvicorn_config(app, log_level="warning")
    config.load()
    assert config.http_protocol_class is CoalescingHttpProtocol
    assert config.proxy_headers is False
    assert config.access_log is False
