"""The request journal: a bounded record of every exchange the Codat surface saw.

The :class:`JournalMiddleware` sits outermost, so it sees exactly what went over the wire:
the request as the client sent it and the response (or the lack of one) as a fault left it.
The layers inside tell it what only they know through the :class:`~mockserver.exchange.Exchange`
in the ASGI scope. Memory stays bounded twice over: the journal keeps at most ``max_entries``
entries (the oldest fall out first) and at most ``max_body_bytes`` of each body.
"""

from __future__ import annotations

import codecs
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.clock import Clock, isoformat
from mockserver.exchange import exchange_of

UTC = timezone.utc


def _wall_now() -> datetime:
    return datetime.now(UTC)


def wall_isoformat(instant: datetime) -> str:
    """A wall-clock instant as ISO 8601 in UTC with milliseconds and a trailing ``Z``."""
    return instant.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(slots=True)
class JournalEntry:
    """One exchange as the journal recorded it.

    ``mock_at`` is the mock clock at arrival (what ``since`` filters on); ``wall_at`` is real
    time at arrival, which the report uses for the gaps between a client's attempts, because
    a client backs off in real seconds whatever the mock clock says.
    """

    seq: int
    mock_at: datetime
    wall_at: datetime
    method: str
    path: str
    query: str = ""
    operation_id: str | None = None
    client_id: str | None = None
    #: The status line that went out; None when the connection closed before any response.
    status: int | None = None
    fault_id: str | None = None
    fault_action: str | None = None
    dropped: str | None = None
    #: The status of the handler's own answer when an 'after' fault replaced it (so the
    #: report can tell that the call committed although the client saw a failure).
    handler_status: int | None = None
    duration_ms: float = 0.0
    request_body: str = ""
    request_body_truncated: bool = False
    response_body: str = ""
    response_body_truncated: bool = False
    violations: list[dict[str, Any]] = field(default_factory=list)
    #: The response's ``Retry-After`` header, verbatim.
    retry_after: str | None = None

    @property
    def mock_time(self) -> str:
        """The mock clock at arrival, in Codat's timestamp form."""
        return isoformat(self.mock_at)

    @property
    def wall_time(self) -> str:
        """Real time at arrival, ISO 8601 with milliseconds."""
        return wall_isoformat(self.wall_at)

    def to_json(self) -> dict[str, Any]:
        """The entry as ``GET /_mock/requests`` shows it (camelCase keys)."""
        return {
            "seq": self.seq,
            "mockTime": self.mock_time,
            "wallTime": self.wall_time,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "operationId": self.operation_id,
            "clientId": self.client_id,
            "status": self.status,
            "faultId": self.fault_id,
            "faultAction": self.fault_action,
            "dropped": self.dropped,
            "handlerStatus": self.handler_status,
            "durationMs": round(self.duration_ms, 3),
            "requestBody": self.request_body,
            "requestBodyTruncated": self.request_body_truncated,
            "responseBody": self.response_body,
            "responseBodyTruncated": self.response_body_truncated,
            "violations": [dict(item) for item in self.violations],
            "retryAfter": self.retry_after,
        }


class Journal:
    """A bounded, thread-safe log of exchanges.

    The server thread writes while test threads read, so every access takes the lock.
    Sequence numbers count arrivals and keep counting across :meth:`clear`, so a request that
    was in flight during a clear can never share a number with a later one.
    """

    def __init__(self, *, max_entries: int = 10_000, max_body_bytes: int = 4096) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        if max_body_bytes < 0:
            raise ValueError("max_body_bytes must not be negative")
        self.max_entries = max_entries
        self.max_body_bytes = max_body_bytes
        self._lock = threading.Lock()
        self._entries: deque[JournalEntry] = deque(maxlen=max_entries)
        self._last_seq = 0
        self._dropped_count = 0

    def next_seq(self) -> int:
        """Claim the next sequence number (called when a request arrives)."""
        with self._lock:
            self._last_seq += 1
            return self._last_seq

    def record(self, entry: JournalEntry) -> None:
        """Keep ``entry``; past ``max_entries`` the oldest entry falls out."""
        with self._lock:
            if len(self._entries) == self.max_entries:
                self._dropped_count += 1
            self._entries.append(entry)
            # Entries built by hand (tests, imports) may carry their own numbers; keep the
            # counter ahead of them so next_seq never hands out a number already in use.
            self._last_seq = max(self._last_seq, entry.seq)

    def entries(
        self,
        *,
        operation_id: str | None = None,
        status: int | None = None,
        since: datetime | None = None,
        client_id: str | None = None,
    ) -> list[JournalEntry]:
        """The entries that pass every given filter, oldest arrival first.

        ``since`` compares the mock time of arrival and is inclusive; a naive ``since`` is
        taken as UTC.
        """
        if since is not None and since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        with self._lock:
            snapshot = list(self._entries)
        # Entries are recorded when an exchange ends, so a slow request lands after a quick
        # one that arrived later; the sequence number restores arrival order.
        snapshot.sort(key=lambda entry: entry.seq)
        return [
            entry
            for entry in snapshot
            if (operation_id is None or entry.operation_id == operation_id)
            and (status is None or entry.status == status)
            and (since is None or entry.mock_at >= since)
            and (client_id is None or entry.client_id == client_id)
        ]

    def clear(self) -> None:
        """Forget every entry (sequence numbers keep counting)."""
        with self._lock:
            self._entries.clear()
            self._dropped_count = 0

    @property
    def dropped_count(self) -> int:
        """How many entries the bound has pushed out since the last clear."""
        with self._lock:
            return self._dropped_count

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


class _BodyCapture:
    """A bounded copy of a body that arrives in chunks."""

    __slots__ = ("_chunks", "_kept", "_limit", "truncated")

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._chunks: list[bytes] = []
        self._kept = 0
        self.truncated = False

    def add(self, chunk: bytes) -> None:
        room = self._limit - self._kept
        if len(chunk) > room:
            self.truncated = True
            chunk = chunk[: max(room, 0)]
        if chunk:
            self._chunks.append(chunk)
            self._kept += len(chunk)

    def text(self) -> str:
        # A cut can split a multi-byte character; a non-final decode leaves the partial
        # character out instead of showing a replacement character for it.
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        return decoder.decode(b"".join(self._chunks), final=not self.truncated)


def _header(headers: Any, name: bytes) -> str | None:
    for key, value in headers or ():
        if bytes(key).lower() == name:
            return bytes(value).decode("latin-1")
    return None


class JournalMiddleware:
    """ASGI middleware that records every HTTP exchange outside ``skip_prefixes``.

    It copies what passes (bounded) but never holds a message back: each one is forwarded
    the moment it arrives, so streaming, latency and drop faults behave on the wire exactly
    as they would without the journal. The entry is written when the call ends, however it
    ends (a response, a dropped connection, an exception or a cancellation).

    ``journal_of`` and ``clock_of`` are callables because a reset may replace the journal;
    the journal current at a request's arrival is the one that records it. ``on_record``, if
    given, hears of each entry once it is recorded (the CLI's request log). ``wall_clock``
    and ``timer`` exist so tests can fix real time.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        journal_of: Callable[[], Journal],
        clock_of: Callable[[], Clock],
        skip_prefixes: tuple[str, ...] = ("/_mock",),
        on_record: Callable[[JournalEntry], None] | None = None,
        wall_clock: Callable[[], datetime] = _wall_now,
        timer: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.app = app
        self._journal_of = journal_of
        self._clock_of = clock_of
        self._skip_prefixes = skip_prefixes
        self._on_record = on_record
        self._wall_clock = wall_clock
        self._timer = timer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if scope.get("type") != "http" or path.startswith(self._skip_prefixes):
            await self.app(scope, receive, send)
            return

        journal = self._journal_of()
        seq = journal.next_seq()
        mock_at = self._clock_of().now()
        wall_at = self._wall_clock()
        started = self._timer()
        exchange = exchange_of(scope)
        request_body = _BodyCapture(journal.max_body_bytes)
        response_body = _BodyCapture(journal.max_body_bytes)
        status: int | None = None
        retry_after: str | None = None

        async def journal_receive() -> Message:
            message = await receive()
            if message.get("type") == "http.request":
                request_body.add(bytes(message.get("body", b"")))
            return message

        recorded = False

        def record() -> None:
            nonlocal recorded
            if recorded:
                return
            recorded = True
            journal.record(
                entry := JournalEntry(
                    seq=seq,
                    mock_at=mock_at,
                    wall_at=wall_at,
                    method=str(scope.get("method", "")),
                    path=path,
                    query=bytes(scope.get("query_string", b"")).decode("latin-1"),
                    operation_id=exchange.operation_id,
                    client_id=exchange.client_id,
                    status=status,
                    fault_id=exchange.fault_id,
                    fault_action=exchange.fault_action,
                    dropped=exchange.dropped,
                    handler_status=exchange.handler_status,
                    duration_ms=(self._timer() - started) * 1000.0,
                    request_body=request_body.text(),
                    request_body_truncated=request_body.truncated,
                    response_body=response_body.text(),
                    response_body_truncated=response_body.truncated,
                    violations=[dict(item) for item in exchange.violations],
                    retry_after=retry_after,
                )
            )
            if self._on_record is not None:
                self._on_record(entry)

        async def journal_send(message: Message) -> None:
            nonlocal status, retry_after
            kind = message.get("type")
            if kind == "http.response.start":
                status = int(message["status"])
                retry_after = _header(message.get("headers"), b"retry-after")
            elif kind == "http.response.body":
                response_body.add(bytes(message.get("body", b"")))
                if not message.get("more_body", False):
                    # Record before the last byte leaves: a client that reads the journal
                    # right after its call returns must find the call there.
                    record()
            await send(message)

        try:
            await self.app(scope, journal_receive, journal_send)
        finally:
            record()  # a dropped connection or an error still leaves its trace
