"""A listening socket, taken before a server starts.

Binding first means a port that is taken or out of range stops a command with one line (and
no "Application startup complete" before it), the real port is known when port 0 was asked
for, and a client that connects as soon as the port is announced is queued, not refused.
"""

from __future__ import annotations

import socket

from mockserver.errors import CodatMockError


class BindError(CodatMockError, OSError):
    """The port cannot be had; the message says why, in one line."""


def listen(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` and listening (port 0: a free one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto IPPROTO_TCP: asyncio only turns Nagle off (TCP_NODELAY) on sockets that say
    # they are TCP; without it every response waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except (OSError, OverflowError) as exc:
        sock.close()
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise BindError(f"cannot listen on {host}:{port}: {reason}") from None
    return sock


def base_url(sock: socket.socket) -> str:
    """The URL a client uses for the server on ``sock``."""
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
