"""Commerce syncs: the status-code table, the sync record, and its status derived from the clock.

A sync is stored as what was asked for (when, which date range, how long it runs) plus an
optional outcome forced through the control API. Its status is *derived* on every read from
``clock.now()``: in progress until ``requested_at + duration``, then complete, unless an
outcome was forced. Reads never mutate anything and nothing runs in the background.

Facts used here (Codat docs, "Sync for Commerce: Troubleshooting and FAQs" and the contract):

* status codes 1000/1010 in progress, 2000/2040 success, 4xxx configuration or company
  problems, 5xxx server-side failures; 1010 once a sync has run for over ten minutes;
* ``syncStatus`` is ``Complete`` for 2000 and 2040, ``PushError`` for 5130, ``MapCoreError``
  for 4200 (a code the contract's examples show) and ``ValidateError`` for 4000;
* a new "latest" sync runs from the last successful sync, or else from the schedule's start
  date, up to ``syncTo`` or now;
* a range that overlaps an earlier sync's range is refused with
  "Date overlaps with a previous sync date range.".

The other ``syncStatus`` names are not documented; the mock picks names in the same style.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from mockserver.clock import isoformat
from mockserver.errors import BadRequest, NotFound, ValidationItem
from mockserver.store.instants import whole_seconds
from mockserver.store.limits import MAX_MESSAGE
from mockserver.store.restore import Fields, SnapshotError

Outcome = Literal["in_progress", "success", "failure"]

#: Codat's error text for a sync range that overlaps an earlier sync's range.
OVERLAP_MESSAGE = "Date overlaps with a previous sync date range."

#: After this long in progress a sync reports 1010 ("long running") instead of 1000.
LONG_RUNNING = timedelta(minutes=10)

#: The longest a sync may run (``--sync-duration``, snapshots): a year of mock time. Longer
#: would only push a sync's end past the clock's calendar (see mockserver.clock.LATEST).
MAX_SYNC_DURATION = 365 * 24 * 3600.0


def check_sync_duration(seconds: object) -> float:
    """``seconds`` as a float if it is a sync duration the mock can run; ValueError if not
    (NaN, infinities, negatives, more than :data:`MAX_SYNC_DURATION`, non-numbers)."""
    if (
        isinstance(seconds, bool)
        or not isinstance(seconds, (int, float))
        or not 0 <= seconds <= MAX_SYNC_DURATION  # NaN compares false both ways
    ):
        raise ValueError(
            f"a sync duration is a number of seconds from 0 to {MAX_SYNC_DURATION:.0f}, "
            f"not {seconds!r}"
        )
    return float(seconds)


@dataclass(slots=True, frozen=True)
class StatusCode:
    """One row of the sync status-code table."""

    code: int
    #: The ``syncStatus`` text that goes with the code.
    name: str
    #: What the code means (Codat's "reason" column).
    reason: str
    outcome: Outcome
    #: Whether a sync ending with this code wrote data to the accounting software.
    data_pushed: bool = False
    #: The ``errorMessage`` a failure carries when no message was given.
    default_message: str | None = None


# Failure messages used when a forced outcome comes without one. The 4000 text is the
# configuration error Codat documents first; the 5080 text is Codat's overlap error; the
# rest are the mock's own wording.
_DEAUTHORIZED = "The company was deleted or a data connection was de-authorized."
_FAILURE_MESSAGES = {
    4000: "Company needs to have two valid data connections.",
    4040: _DEAUTHORIZED,
    4200: "A record could not be matched to an account mapped in the accounting software.",
    4220: _DEAUTHORIZED,
    4260: "The accounting software subscription has expired.",
    5000: "An unexpected error stopped the sync.",
    5080: OVERLAP_MESSAGE,
    5120: "The commerce data could not be processed.",
    5130: "The data could not be written to the accounting software.",
}

_ROWS: tuple[tuple[int, str, str, Outcome], ...] = (
    (1000, "Started", "In progress", "in_progress"),
    (1010, "Started", "In progress (long running, over ten minutes)", "in_progress"),
    (2000, "Complete", "Success (data written)", "success"),
    (2040, "Complete", "Success (no data written)", "success"),
    (4000, "ValidateError", "Configuration error", "failure"),
    (4040, "AuthError", "Company deleted or de-authorized", "failure"),
    (4200, "MapCoreError", "Mapping error", "failure"),
    (4220, "AuthError", "Company deleted or de-authorized", "failure"),
    (4260, "BillingError", "Accounting software billing expiry", "failure"),
    (5000, "Error", "Generic server error", "failure"),
    (5080, "DuplicateError", "Duplication protection", "failure"),
    (5120, "ProcessingError", "Data processing error", "failure"),
    (5130, "PushError", "Data write error", "failure"),
)

#: Every documented sync status code, by code.
STATUS_CODES: dict[int, StatusCode] = {
    code: StatusCode(
        code=code,
        name=name,
        reason=reason,
        outcome=outcome,
        data_pushed=code == 2000,
        default_message=_FAILURE_MESSAGES.get(code),
    )
    for code, name, reason, outcome in _ROWS
}


def sync_not_found(sync_id: str) -> NotFound:
    """The error for an unknown (or another tenant's) sync."""
    return NotFound(f"No sync was found with ID {sync_id}")


def no_syncs(company_id: str) -> NotFound:
    """The error for the latest sync of a company that has none."""
    return NotFound(f"No commerce syncs were found for company {company_id}")


def no_successful_sync(company_id: str) -> NotFound:
    """The error for the latest successful sync of a company none of whose syncs succeeded."""
    return NotFound(f"No successful commerce sync was found for company {company_id}")


def status_code(code: int) -> StatusCode:
    """The table row for ``code``; BadRequest naming the known codes otherwise."""
    row = STATUS_CODES.get(code)
    if row is None:
        known = ", ".join(str(c) for c in STATUS_CODES)
        raise BadRequest(
            f"{code} is not a sync status code.",
            validation=[ValidationItem("statusCode", f"Must be one of: {known}.")],
        )
    return row


@dataclass(slots=True, frozen=True)
class SyncState:
    """A sync's status as of one instant (derived, never stored)."""

    status: StatusCode
    #: When the sync finished (success or failure); ``None`` while in progress.
    finished_at: datetime | None
    #: ``errorMessage``: ``None`` in progress, ``""`` on success, text on failure.
    error_message: str | None

    @property
    def in_progress(self) -> bool:
        return self.status.outcome == "in_progress"

    @property
    def succeeded(self) -> bool:
        return self.status.outcome == "success"

    @property
    def failed(self) -> bool:
        return self.status.outcome == "failure"


@dataclass(slots=True)
class SyncRecord:
    """One requested sync, as stored."""

    id: str
    company_id: str
    requested_at: datetime
    #: Seconds the sync runs before it completes (fixed when it is requested).
    duration: float
    start: datetime
    finish: datetime
    forced_code: int | None = None
    forced_message: str | None = None
    forced_at: datetime | None = None

    @property
    def natural_end(self) -> datetime:
        """When the sync completes unless an outcome is forced."""
        return self.requested_at + timedelta(seconds=self.duration)

    def state(self, now: datetime) -> SyncState:
        """The sync's status at ``now``."""
        if self.forced_code is not None:
            row = STATUS_CODES[self.forced_code]
            if row.outcome == "in_progress":
                return SyncState(row, None, None)
            forced_at = self.forced_at or now
            finished = min(forced_at, self.natural_end)
            if row.outcome == "success":
                return SyncState(row, finished, "")
            return SyncState(row, finished, self.forced_message or row.default_message)
        if now < self.natural_end:
            code = 1010 if now - self.requested_at >= LONG_RUNNING else 1000
            return SyncState(STATUS_CODES[code], None, None)
        return SyncState(STATUS_CODES[2000], self.natural_end, "")

    def force(self, code: int, message: str | None, now: datetime) -> None:
        """Fix the sync's outcome to ``code`` from ``now`` on (control API)."""
        status_code(code)
        self.forced_code = code
        self.forced_message = message
        self.forced_at = now

    def overlaps(self, start: datetime, finish: datetime) -> bool:
        """Whether ``[start, finish)`` shares any instant with this sync's range."""
        return start < self.finish and self.start < finish

    # -- rendering ------------------------------------------------------------------------

    def company_sync_status(self, now: datetime) -> dict[str, Any]:
        """The contract's CompanySyncStatus object."""
        state = self.state(now)
        return {
            "companyId": self.company_id,
            "syncId": self.id,
            **_status_fields(state),
        }

    def sync_status(self, now: datetime, connections: list[dict[str, Any]]) -> dict[str, Any]:
        """The contract's SyncStatus object (with the company's connections as they are now)."""
        state = self.state(now)
        return {
            "companyId": self.company_id,
            "commerceSyncId": self.id,
            "syncId": self.id,
            **_status_fields(state),
            "dataConnections": connections,
        }

    def sync_summary(self, now: datetime, connections: list[dict[str, Any]]) -> dict[str, Any]:
        """The contract's SyncSummary object."""
        state = self.state(now)
        return {
            "syncDateRangeUtc": {"start": isoformat(self.start), "finish": isoformat(self.finish)},
            "companyId": self.company_id,
            "commerceSyncId": self.id,
            **_status_fields(state),
            "dataConnections": connections,
        }

    def overview(self, now: datetime) -> dict[str, Any]:
        """The sync as the dashboard shows it: its status at ``now`` and its timing on the
        mock clock (when it was requested and when it completes unless forced)."""
        return {
            **self.company_sync_status(now),
            "requestedAt": isoformat(self.requested_at),
            "completesAt": isoformat(self.natural_end),
            "durationSeconds": self.duration,
            "syncDateRangeUtc": {"start": isoformat(self.start), "finish": isoformat(self.finish)},
            "forced": self.forced_code is not None,
        }

    # -- snapshots ------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """A JSON-able snapshot of this record (full precision for the request time)."""
        return {
            "id": self.id,
            "companyId": self.company_id,
            "requestedAt": self.requested_at.isoformat(),
            "duration": self.duration,
            "start": isoformat(self.start),
            "finish": isoformat(self.finish),
            "forcedCode": self.forced_code,
            "forcedMessage": self.forced_message,
            "forcedAt": self.forced_at.isoformat() if self.forced_at is not None else None,
        }

    @classmethod
    def from_json(
        cls, data: object, at: str = "sync", *, company_id: str | None = None
    ) -> SyncRecord:
        """Rebuild a record from :meth:`to_json` output, checking every field (SnapshotError
        names the one that is wrong)."""
        fields = Fields(data, at)
        sync_id = fields.uuid("id")
        owner = fields.parent_id("companyId", company_id)
        # A range only ever is compared, never added to; its start may lie a month before
        # the calendar (a first sync runs from a month before "now").
        start = fields.instant("start", calendar=False)
        finish = fields.instant("finish", calendar=False)
        if finish <= start:
            raise SnapshotError(fields.path("finish"), "must be later than start")
        forced_code = fields.choice("forcedCode", STATUS_CODES, nullable=True)
        return cls(
            id=sync_id,
            company_id=owner,
            requested_at=fields.instant("requestedAt"),
            duration=fields.number("duration", check_sync_duration),
            start=start,
            finish=finish,
            forced_code=forced_code,
            forced_message=fields.optional_text("forcedMessage", MAX_MESSAGE),
            forced_at=fields.optional_instant("forcedAt"),
        )


def _status_fields(state: SyncState) -> dict[str, Any]:
    """The status fields the three sync schemas share.

    A sync in progress has no message and no finish time yet: Codat's shape leaves those
    fields out (a success has the empty message its published examples show).
    """
    fields: dict[str, Any] = {
        "syncStatusCode": state.status.code,
        "syncStatus": state.status.name,
    }
    if state.error_message is not None:
        fields["errorMessage"] = state.error_message
        fields["syncExceptionMessage"] = state.error_message
    if state.finished_at is not None:
        fields["syncUtc"] = isoformat(state.finished_at)
    fields["dataPushed"] = state.succeeded and state.status.data_pushed
    return fields


# -- planning a new sync ----------------------------------------------------------------------


def latest_successful(records: Iterable[SyncRecord], now: datetime) -> SyncRecord | None:
    """The most recently requested sync that has succeeded by ``now``."""
    found: SyncRecord | None = None
    for record in records:
        if record.state(now).succeeded:
            found = record
    return found


def synced_up_to(records: Iterable[SyncRecord], now: datetime) -> datetime | None:
    """The latest range finish among successful syncs: where a "latest" sync resumes."""
    finishes = [r.finish for r in records if r.state(now).succeeded]
    return max(finishes) if finishes else None


def last_completed_at(records: Iterable[SyncRecord], now: datetime) -> datetime | None:
    """When the most recent successful sync finished (a company's ``lastSync``)."""
    times = [s.finished_at for s in (r.state(now) for r in records) if s.succeeded]
    return max(t for t in times if t is not None) if times else None


def check_range(
    records: Iterable[SyncRecord], start: datetime, finish: datetime, now: datetime
) -> tuple[datetime, datetime]:
    """Validate a requested range and return it cut to whole seconds.

    The range must not be empty, and must not overlap the range of any sync that is in
    progress or succeeded (a failed sync's range may be synced again).
    """
    start, finish = whole_seconds(start), whole_seconds(finish)
    if finish <= start:
        raise BadRequest(
            f"The sync range must end after it starts (start {isoformat(start)}, "
            f"finish {isoformat(finish)}).",
            validation=[ValidationItem("finish", "Must be later than start.")],
        )
    for record in records:
        if not record.state(now).failed and record.overlaps(start, finish):
            raise BadRequest(OVERLAP_MESSAGE)
    return start, finish
