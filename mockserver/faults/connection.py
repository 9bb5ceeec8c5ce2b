"""The raw connection under an exchange, for faults that break it instead of answering.

ASGI has no way to reset a socket or close it mid-body, so the outermost layer of the app
finds the server's transport (uvicorn's send callable is a method of its request cycle, which
holds the transport) and keeps it on the request's Exchange. Where there is no transport, as
with an in-process ``httpx.ASGITransport``, a drop raises :class:`ConnectionDropped` instead,
which that transport passes to the client as an error: the nearest thing to a broken
connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from typing import Any

from mockserver.errors import CodatMockError


class ConnectionDropped(CodatMockError, ConnectionError):
    """Raised in-process, where no real socket can be dropped."""


class RawConnection:
    """The transport of one HTTP exchange and the server's record of it."""

    __slots__ = ("_cycle", "_transport")

    def __init__(self, cycle: Any, transport: asyncio.Transport) -> None:
        self._cycle = cycle
        self._transport = transport

    @classmethod
    def from_send(cls, send: Any) -> RawConnection | None:
        cycle = getattr(send, "__self__", None)
        transport = getattr(cycle, "transport", None)
        if transport is None or not hasattr(transport, "abort"):
            return None
        return cls(cycle, transport)

    def reset(self) -> None:
        """Abort with a TCP reset (SO_LINGER 0): the client sees 'connection reset by peer'."""
        sock = self._transport.get_extra_info("socket")
        if sock is not None:
            # Already closing? Then the abort alone is the best we can do.
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self._transport.abort()
        self._forget()

    def close(self) -> None:
        """Close cleanly (FIN) without a response, or after part of one."""
        self._transport.close()
        self._forget()

    def _forget(self) -> None:
        # Tell the server the client is gone, so it neither writes a 500 of its own onto the
        # closed socket nor logs the unfinished response as an application error.
        if hasattr(self._cycle, "disconnected"):
            self._cycle.disconnected = True
