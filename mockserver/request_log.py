"""The request log: one line per Codat request, as ``codat-mock serve`` prints it.

    2026-12-06T01:30:00.123Z POST /companies 503 create-company 1.4ms tenant 3f2a9c1b fault ...
    2026-12-06T01:30:00.150Z GET /companies?page=0 400 list-companies 0.6ms tenant ... error ...

or, with ``json_lines``, one JSON object a line for log shippers. It is a listener of the
journal: the journal middleware calls it with each entry it records. Lines are written to a
buffered stream and flushed once per turn of the event loop, so a burst of requests costs
one write, and a quiet server's lines still show at once.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any, TextIO

from mockserver.jsonio import dumps

if TYPE_CHECKING:
    from mockserver.journal import JournalEntry

#: How much of a client id the log shows: enough to tell tenants apart at a glance.
SHORT_ID = 8


class _Stamp:
    """ISO 8601 UTC times with milliseconds, the date and time worked out once a second."""

    __slots__ = ("_prefix", "_second")

    def __init__(self) -> None:
        self._second = -1
        self._prefix = ""

    def __call__(self, instant: datetime) -> str:
        second = int(instant.timestamp() // 1)
        if second != self._second:
            self._second = second
            self._prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        return f"{self._prefix}.{instant.microsecond // 1000:03d}Z"


class RequestLog:
    """Writes each journal entry it is called with to ``stream`` as one line."""

    def __init__(self, stream: TextIO, *, json_lines: bool = False) -> None:
        self._stream = stream
        self._json = json_lines
        self._flush_pending = False
        self._stamp = _Stamp()

    def __call__(self, entry: JournalEntry) -> None:
        at = self._stamp(entry.wall_at)
        self._stream.write(self.json_line(entry, at) if self._json else self.text_line(entry, at))
        if self._flush_pending:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # called outside a server (a test, a script): write through
            self._stream.flush()
            return
        self._flush_pending = True
        loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_pending = False
        self._stream.flush()

    @staticmethod
    def detail(entry: JournalEntry) -> tuple[str | None, str | None]:
        """What went wrong, if anything: the fault that fired (or the connection it dropped)
        and the first problem found in the request."""
        fault = None
        if entry.fault_id is not None or entry.fault_action is not None:
            fault = " ".join(part for part in (entry.fault_id, entry.fault_action) if part)
        elif entry.dropped is not None:
            fault = f"dropped:{entry.dropped}"
        error = None
        if entry.violations:
            first = entry.violations[0]
            item = first.get("itemId")
            error = f"{item}: {first.get('message')}" if item else str(first.get("message"))
        return fault, error

    @classmethod
    def text_line(cls, entry: JournalEntry, at: str | None = None) -> str:
        """The entry as a line of text (with its newline); ``at`` is its time, formatted."""
        path = f"{entry.path}?{entry.query}" if entry.query else entry.path
        if not path.isprintable():  # a percent-encoded newline must not forge a line
            path = path.encode("unicode_escape").decode("ascii")
        status = "-" if entry.status is None else str(entry.status)
        tenant = entry.client_id[:SHORT_ID] if entry.client_id else "-"
        line = (
            f"{at or entry.wall_time} {entry.method} {path} {status} {entry.operation_id or '-'} "
            f"{entry.duration_ms:.1f}ms tenant {tenant}"
        )
        fault, error = cls.detail(entry)
        if fault is not None:
            line += f" fault {fault}"
        if error is not None:
            line += f" error {error}"
        return line + "\n"

    @classmethod
    def json_line(cls, entry: JournalEntry, at: str | None = None) -> str:
        """The entry as one JSON object (with its newline); ``at`` is its time, formatted."""
        fault, error = cls.detail(entry)
        record: dict[str, Any] = {
            "time": at or entry.wall_time,
            "method": entry.method,
            "path": entry.path,
            "query": entry.query,
            "status": entry.status,
            "operationId": entry.operation_id,
            "ms": round(entry.duration_ms, 3),
            "tenant": entry.client_id[:SHORT_ID] if entry.client_id else None,
            "fault": fault,
            "error": error,
        }
        return dumps(record).decode() + "\n"
