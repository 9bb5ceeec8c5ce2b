"""The request journal: a bounded record of every exchange the Codat surface saw.

The :class:`JournalMiddleware` sits in front of the fault layer, so it sees exactly what went
over the wire: the request as the client sent it and the response (or the lack of one) as a
fault left it. The front layer and the layers inside tell it what only they know through the
:class:`~mockserver.exchange.Exchange` in the ASGI scope. Memory stays bounded twice over:
the journal keeps at most ``max_entries`` entries (the oldest fall out first) and at most
``max_body_bytes`` of each body.

A full journal must cost the server nothing at the tail, so it is stored compactly: one flat
tuple per exchange holding only strings, bytes, numbers and datetimes. The garbage
collector stops tracking such tuples after its first look at them, so 10,000 kept entries
add nothing to a collection's work; the typed :class:`JournalEntry` is built only when
someone reads.
"""

from __future__ import annotations

import codecs
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.clock import Clock, isoformat, system_now, wall_isoformat
from mockserver.exchange import exchange_of
from mockserver.journal_ring import Row, RowRing

UTC = timezone.utc

#: Headers whose values are secrets: only the scheme of an Authorization value is kept.
_SECRET_HEADERS = frozenset(
    {b"authorization", b"proxy-authorization", b"cookie", b"set-cookie", b"x-codat-mock-token"}
)
_MASK = b"****"

Headers = list[tuple[str, str]]


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
    #: Headers as sent, names lower-cased, secrets masked (``Authorization: Basic ****``).
    request_headers: Headers = field(default_factory=list)
    response_headers: Headers = field(default_factory=list)
    #: Which response shape the surface answered in (None: no answer of the surface's own).
    shape: str | None = None

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
            "requestHeaders": [[name, value] for name, value in self.request_headers],
            "requestBody": self.request_body,
            "requestBodyTruncated": self.request_body_truncated,
            "responseHeaders": [[name, value] for name, value in self.response_headers],
            "responseBody": self.response_body,
            "responseBodyTruncated": self.response_body_truncated,
            "violations": [dict(item) for item in self.violations],
            "retryAfter": self.retry_after,
            "shape": self.shape,
        }


# --- the compact row ---------------------------------------------------------------------------
#
# One exchange is kept as a flat row of atoms, in this order (a RowRing holds them by
# column). Bodies and headers stay bytes (decoded on read); violations are their JSON text.

_SEQ, _MOCK_AT, _STATUS, _OPERATION, _CLIENT = 0, 1, 8, 6, 7
#: How many values a row holds.
ROW_WIDTH = 23


def pack_headers(headers: Iterable[tuple[bytes, bytes]]) -> bytes:
    """Headers as kept: one ``name: value`` line each (names lower-case, as ASGI gives a
    request's), each secret value masked. One bytes value rather than pairs: the collector
    stops tracking a row of flat values at its first look, but a row of nested tuples only
    after several full collections. Their size is bounded before the journal sees them
    (:mod:`mockserver.request_bounds` answers larger requests with 431)."""
    return b"\n".join(
        [
            name + b": " + (value if name not in _SECRET_HEADERS else _masked(name, value))
            for name, value in headers
        ]
    )


def _masked(name: bytes, value: bytes) -> bytes:
    """A secret header's value with the secret gone (an Authorization scheme stays readable)."""
    scheme, space, _ = value.partition(b" ")
    if space and name.endswith(b"authorization") and len(scheme) <= 16:
        return scheme + b" " + _MASK
    return _MASK


def _decoded(packed: bytes) -> Headers:
    pairs: Headers = []
    for line in packed.decode("latin-1").split("\n") if packed else ():
        name, _, value = line.partition(": ")
        pairs.append((name, value))
    return pairs


def _encoded(headers: Headers) -> bytes:
    return pack_headers(
        [
            (name.lower().encode("latin-1", "replace"), value.encode("latin-1", "replace"))
            for name, value in headers
        ]
    )


def _text(data: bytes, truncated: bool) -> str:
    if not truncated:
        return data.decode("utf-8", "replace")
    # A cut can split a multi-byte character; a non-final decode leaves the partial
    # character out instead of showing a replacement character for it.
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    return decoder.decode(data, final=False)


def _row_of(entry: JournalEntry) -> Row:
    return (
        entry.seq,
        entry.mock_at,
        entry.wall_at,
        entry.method,
        entry.path,
        entry.query,
        entry.operation_id,
        entry.client_id,
        entry.status,
        entry.fault_id,
        entry.fault_action,
        entry.dropped,
        entry.handler_status,
        entry.duration_ms,
        entry.request_body.encode(),
        entry.request_body_truncated,
        entry.response_body.encode(),
        entry.response_body_truncated,
        orjson.dumps(entry.violations) if entry.violations else b"",
        entry.retry_after,
        _encoded(entry.request_headers),
        _encoded(entry.response_headers),
        entry.shape,
    )


def _entry_of(row: Row) -> JournalEntry:
    return _brief_of(
        row,
        request_body=_text(row[14], row[15]),
        request_body_truncated=row[15],
        response_body=_text(row[16], row[17]),
        response_body_truncated=row[17],
        request_headers=_decoded(row[20]),
        response_headers=_decoded(row[21]),
    )


def _brief_of(row: Row, **full: Any) -> JournalEntry:
    """The entry without its bodies and headers (unless ``full`` gives them): what a
    per-request listener (the request log) reads, at a fraction of the cost of decoding the
    rest on every request."""
    return JournalEntry(
        seq=row[0],
        mock_at=row[1],
        wall_at=row[2],
        method=row[3],
        path=row[4],
        query=row[5],
        operation_id=row[6],
        client_id=row[7],
        status=row[8],
        fault_id=row[9],
        fault_action=row[10],
        dropped=row[11],
        handler_status=row[12],
        duration_ms=row[13],
        violations=orjson.loads(row[18]) if row[18] else [],
        retry_after=row[19],
        shape=row[22],
        **full,
    )


@dataclass(slots=True, frozen=True)
class JournalPage:
    """A window of journal entries: the entries, whether matching ones were left out, and the
    newest sequence number handed out so far (where a poller starts)."""

    entries: list[JournalEntry]
    has_more: bool
    last_seq: int


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
        self._rows = RowRing(max_entries, ROW_WIDTH)
        self._last_seq = 0
        self._dropped_count = 0

    def next_seq(self) -> int:
        """Claim the next sequence number (called when a request arrives)."""
        with self._lock:
            self._last_seq += 1
            return self._last_seq

    def record(self, entry: JournalEntry) -> None:
        """Keep ``entry``; past ``max_entries`` the oldest entry falls out."""
        self.record_row(_row_of(entry))

    def record_row(self, row: Row) -> None:
        """Keep one compact row (see :func:`_row_of` for its layout)."""
        with self._lock:
            if self._rows.append(row):
                self._dropped_count += 1
            # Entries built by hand (tests, imports) may carry their own numbers; keep the
            # counter ahead of them so next_seq never hands out a number already in use.
            if row[_SEQ] > self._last_seq:
                self._last_seq = row[_SEQ]

    def _select(
        self,
        operation_id: str | None,
        status: int | None,
        since: datetime | None,
        client_id: str | None,
        since_seq: int | None,
    ) -> tuple[list[Row], int]:
        if since is not None and since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        with self._lock:
            rows = self._rows.rows()
            last_seq = self._last_seq
        # Entries are recorded when an exchange ends, so a slow request lands after a quick
        # one that arrived later; the sequence number restores arrival order.
        rows.sort(key=lambda row: row[_SEQ])
        selected = [
            row
            for row in rows
            if (operation_id is None or row[_OPERATION] == operation_id)
            and (status is None or row[_STATUS] == status)
            and (since is None or row[_MOCK_AT] >= since)
            and (client_id is None or row[_CLIENT] == client_id)
            and (since_seq is None or row[_SEQ] > since_seq)
        ]
        return selected, last_seq

    def entries(
        self,
        *,
        operation_id: str | None = None,
        status: int | None = None,
        since: datetime | None = None,
        client_id: str | None = None,
        since_seq: int | None = None,
    ) -> list[JournalEntry]:
        """The entries that pass every given filter, oldest arrival first.

        ``since`` compares the mock time of arrival and is inclusive; a naive ``since`` is
        taken as UTC. ``since_seq`` keeps entries with a larger sequence number.
        """
        rows, _ = self._select(operation_id, status, since, client_id, since_seq)
        return [_entry_of(row) for row in rows]

    def page(
        self,
        *,
        limit: int,
        operation_id: str | None = None,
        status: int | None = None,
        since: datetime | None = None,
        client_id: str | None = None,
        since_seq: int | None = None,
        where: Callable[[JournalEntry], bool] | None = None,
    ) -> JournalPage:
        """The newest ``limit`` entries that pass every filter, oldest arrival first.

        ``where`` is any further test of a typed entry; it is asked newest first and only
        until the window is full, so a narrow poll of a full journal stays cheap. A poller
        passes the ``last_seq`` of its previous page as ``since_seq``; ``has_more`` tells it
        that older matching entries were left out (a larger ``limit`` gets them).
        """
        if limit < 0:
            raise ValueError("limit must not be negative")
        rows, last_seq = self._select(operation_id, status, since, client_id, since_seq)
        window: list[JournalEntry] = []
        has_more = False
        for row in reversed(rows):
            if where is not None and not where(_entry_of(row)):
                continue
            if len(window) == limit:
                has_more = True
                break
            window.append(_entry_of(row))
        window.reverse()
        return JournalPage(window, has_more, last_seq)

    def get(self, seq: int) -> JournalEntry | None:
        """The entry with sequence number ``seq``, if it is still kept."""
        with self._lock:
            row = self._rows.find(_SEQ, seq)
        return _entry_of(row) if row is not None else None

    def clear(self) -> None:
        """Forget every entry (sequence numbers keep counting)."""
        with self._lock:
            self._rows.clear()
            self._dropped_count = 0

    @property
    def last_seq(self) -> int:
        """The newest sequence number handed out."""
        with self._lock:
            return self._last_seq

    @property
    def dropped_count(self) -> int:
        """How many entries the bound has pushed out since the last clear."""
        with self._lock:
            return self._dropped_count

    def __len__(self) -> int:
        with self._lock:
            return len(self._rows)


def _capture(chunks: list[bytes], kept: int, limit: int, chunk: bytes) -> tuple[int, bool]:
    """Add what fits of ``chunk`` to ``chunks``; the new kept size and whether any was cut."""
    room = limit - kept
    if len(chunk) > room:
        if room > 0:
            chunks.append(chunk[:room])
        return limit, True
    if chunk:
        chunks.append(chunk)
    return kept + len(chunk), False


class JournalMiddleware:
    """ASGI middleware that records every exchange with the Codat surface (every scope that
    carries an :class:`~mockserver.exchange.Exchange`).

    It copies what passes (bounded) but never holds a message back: each one is forwarded
    the moment it arrives, so streaming, latency and drop faults behave on the wire exactly
    as they would without the journal. The entry is written when the call ends, however it
    ends (a response, a dropped connection, an exception or a cancellation).

    ``on_record``, if given, hears of each entry once it is recorded (the CLI's request log),
    in brief: without its bodies and headers, which the journal keeps.
    ``wall_clock`` and ``timer`` exist so tests can fix real time.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        journal: Journal,
        clock: Clock,
        on_record: Callable[[JournalEntry], None] | None = None,
        wall_clock: Callable[[], datetime] = system_now,
        timer: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.app = app
        self._journal = journal
        self._clock = clock
        self._on_record = on_record
        self._wall_clock = wall_clock
        self._timer = timer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        exchange = exchange_of(scope)
        if exchange is None:
            await self.app(scope, receive, send)
            return

        path: str = scope.get("path", "")
        journal = self._journal
        seq = journal.next_seq()
        mock_at = self._clock.now()
        wall_at = self._wall_clock()
        started = self._timer()
        limit = journal.max_body_bytes
        request_chunks: list[bytes] = []
        response_chunks: list[bytes] = []
        request_kept = response_kept = 0
        request_cut = response_cut = False
        status: int | None = None
        response_headers: list[tuple[bytes, bytes]] = []
        recorded = False

        async def journal_receive() -> Message:
            nonlocal request_kept, request_cut
            message = await receive()
            if message["type"] == "http.request":
                request_kept, cut = _capture(
                    request_chunks, request_kept, limit, message.get("body", b"")
                )
                request_cut = request_cut or cut
            return message

        def record() -> None:
            nonlocal recorded
            if recorded:
                return
            recorded = True
            retry_after = None
            for name, value in response_headers:
                if name.lower() == b"retry-after":
                    retry_after = value.decode("latin-1")
                    break
            violations = exchange.violations
            row = (
                seq,
                mock_at,
                wall_at,
                scope.get("method", ""),
                path,
                scope.get("query_string", b"").decode("latin-1"),
                exchange.operation_id,
                exchange.client_id,
                status,
                exchange.fault_id,
                exchange.fault_action,
                exchange.dropped,
                exchange.handler_status,
                (self._timer() - started) * 1000.0,
                b"".join(request_chunks),
                request_cut,
                b"".join(response_chunks),
                response_cut,
                orjson.dumps(violations) if violations else b"",
                retry_after,
                pack_headers(scope.get("headers", ())),
                pack_headers([(name.lower(), value) for name, value in response_headers]),
                exchange.shape,
            )
            journal.record_row(row)
            if self._on_record is not None:
                self._on_record(_brief_of(row))

        async def journal_send(message: Message) -> None:
            nonlocal status, response_kept, response_cut, response_headers
            kind = message["type"]
            if kind == "http.response.start":
                status = int(message["status"])
                response_headers = list(message.get("headers", ()))
            elif kind == "http.response.body":
                response_kept, cut = _capture(
                    response_chunks, response_kept, limit, message.get("body", b"")
                )
                response_cut = response_cut or cut
                if not message.get("more_body", False):
                    # Record before the last byte leaves: a client that reads the journal
                    # right after its call returns must find the call there.
                    record()
            await send(message)

        try:
            await self.app(scope, journal_receive, journal_send)
        finally:
            record()  # a dropped connection or an error still leaves its trace
