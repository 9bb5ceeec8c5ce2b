"""One write per answer: how the mock's uvicorn puts responses on the socket.

uvicorn writes a response's head (status line and headers) as soon as the app sends
``http.response.start``, and its body with ``http.response.body``: two writes, so two system
calls and two TCP segments for every answer, although the app sends both messages within one
step of the event loop. Under load that second trip through the kernel was about a tenth of
the mock's CPU per request (``bench/run.py``).

:class:`CoalescingTransport` holds a write back until the next write or the end of the
current event-loop iteration, whichever comes first, and sends what it holds together with
that next write. Nothing waits longer than the loop iteration that wrote it, so a response
sent in parts (a hang or truncate fault, a streamed body) reaches the client as promptly as
before; a close flushes first, an abort discards (as an abort does with the transport's own
buffer).

:func:`uvicorn_config` is the one place the mock's uvicorn settings live: ``serve`` and the
in-process :class:`~mockserver.server.MockServer` both use it.
"""

from __future__ import annotations

import asyncio
from typing import Any

import uvicorn
from starlette.types import ASGIApp
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class CoalescingTransport(asyncio.Transport):
    """A transport that merges a write with the next one made in the same loop iteration."""

    __slots__ = ("_flush_due", "_loop", "_pending", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._transport = transport
        self._loop = loop
        self._pending: bytes | None = None
        self._flush_due = False

    # -- writing ---------------------------------------------------------------------------

    def write(self, data: bytes | bytearray | memoryview) -> None:
        pending = self._pending
        if pending is None:
            self._pending = bytes(data)
            if not self._flush_due:
                self._flush_due = True
                self._loop.call_soon(self._flush)
            return
        self._pending = None
        self._transport.write(pending + data)

    def writelines(self, list_of_data: Any) -> None:
        self.write(b"".join(list_of_data))

    def _flush(self) -> None:
        self._flush_due = False
        pending = self._pending
        if pending is not None:
            self._pending = None
            if not self._transport.is_closing():
                self._transport.write(pending)

    def write_eof(self) -> None:
        self._flush()
        self._transport.write_eof()

    def can_write_eof(self) -> bool:
        return self._transport.can_write_eof()

    def get_write_buffer_size(self) -> int:
        held = len(self._pending) if self._pending is not None else 0
        return self._transport.get_write_buffer_size() + held

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self._transport.get_write_buffer_limits()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._transport.set_write_buffer_limits(high, low)

    # -- closing ---------------------------------------------------------------------------

    def close(self) -> None:
        self._flush()  # what was written before a close is sent, as with any transport
        self._transport.close()

    def abort(self) -> None:
        self._pending = None  # an abort drops what is buffered: this too
        self._transport.abort()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    # -- everything else is the transport's own ----------------------------------------------

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)

    def pause_reading(self) -> None:
        self._transport.pause_reading()

    def resume_reading(self) -> None:
        self._transport.resume_reading()

    def is_reading(self) -> bool:
        return self._transport.is_reading()

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._transport.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._transport.get_protocol()


class CoalescingHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, writing through a :class:`CoalescingTransport`."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(CoalescingTransport(transport, self.loop))


def uvicorn_config(app: ASGIApp, **options: Any) -> uvicorn.Config:
    """uvicorn's configuration for the mock: one write per answer, and no proxy-header
    rewriting (the peer address is the one that connected, which the per-IP rate limit
    counts, not what an ``X-Forwarded-For`` from any local client claims). ``options`` are
    uvicorn's own (log level, lifespan, shutdown timeout)."""
    return uvicorn.Config(
        app, http=CoalescingHttpProtocol, proxy_headers=False, access_log=False, **options
    )
