"""The mock's clock: real time by default, or a manual clock that tests move by hand.

Time-driven state (a sync finishing, a rate-limit window resetting, a webhook retry falling
due) is derived from ``clock.now()`` when it is read, so nothing needs a background timer and
tests never sleep: they call :meth:`Clock.advance`.
"""

from __future__ import annotations

import functools
import math
import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

UTC = timezone.utc

#: The clock never shows an instant outside ``[EARLIEST, LATEST]``. The calendar ends at
#: 9999-12-31, and the mock adds durations to "now" (a sync's run time, a webhook's retry
#: schedule, a rate-limit window): keeping a thousand years of room before the end means no
#: such sum can overflow, so nothing the clock was set to can make a later read fail.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


class ClockRangeError(ValueError):
    """An instant the clock must not show (see :data:`EARLIEST` and :data:`LATEST`)."""


def check_instant(instant: datetime) -> datetime:
    """``instant`` (taken as UTC when naive) if the mock can live there; ClockRangeError not."""
    aware = _aware(instant)
    if not EARLIEST <= aware <= LATEST:
        raise ClockRangeError(
            f"{isoformat(aware)} is outside the mock's calendar "
            f"({isoformat(EARLIEST)} to {isoformat(LATEST)})"
        )
    return aware


def system_now() -> datetime:
    """Real time, in UTC (the default source of a clock, and the wall clock elsewhere)."""
    return datetime.now(UTC)


def wall_isoformat(instant: datetime) -> str:
    """A wall-clock instant as ISO 8601 in UTC with milliseconds (several attempts can share
    one second) and a trailing ``Z``."""
    return instant.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Clock:
    """A clock that follows a time source plus an offset, or stands frozen at a set instant.

    * ``Clock()`` follows real time.
    * ``Clock(frozen_at=t)`` stands still at ``t`` until advanced or set.
    * ``advance(seconds)`` moves either kind forward; ``set(t)`` jumps (and freezes) at ``t``;
      ``resume_real_time()`` drops every adjustment.

    Both moves keep the clock within :data:`EARLIEST` and :data:`LATEST`.
    """

    def __init__(
        self,
        *,
        frozen_at: datetime | None = None,
        source: Callable[[], datetime] = system_now,
    ) -> None:
        self._source = source
        # Writers serialize on the lock; ``now`` (several times per request) reads the one
        # ``(frozen, offset)`` pair, replaced whole, so it needs no lock to see a consistent one.
        self._lock = threading.Lock()
        frozen = check_instant(frozen_at) if frozen_at is not None else None
        self._state: tuple[datetime | None, timedelta] = (frozen, timedelta(0))

    def now(self) -> datetime:
        """The current instant on this clock (timezone-aware, UTC)."""
        frozen, offset = self._state
        if frozen is not None:
            return frozen
        return self._source() + offset

    def advance(self, seconds: float) -> datetime:
        """Move the clock forward by ``seconds`` (not negative); ClockRangeError (a
        ValueError) if that would leave the mock's calendar, and then the clock stays put."""
        if not seconds >= 0:  # also refuses NaN
            raise ValueError("the clock only moves forward")
        with self._lock:
            frozen, offset = self._state
            base = frozen if frozen is not None else self._source() + offset
            try:
                step = timedelta(seconds=seconds)
                moved = check_instant(base + step)
            except OverflowError:
                raise ClockRangeError(
                    f"that is past the end of the mock's calendar ({isoformat(LATEST)})"
                ) from None
            self._state = (moved, offset) if frozen is not None else (None, offset + step)
            return moved

    def set(self, instant: datetime) -> datetime:
        """Stand the clock still at ``instant``; ClockRangeError (a ValueError) if it lies
        outside the mock's calendar."""
        checked = check_instant(instant)
        with self._lock:
            self._state = (checked, self._state[1])
        return self.now()

    def resume_real_time(self) -> datetime:
        """Follow the time source again, with no offset."""
        with self._lock:
            self._state = (None, timedelta(0))
        return self.now()

    def position(self) -> dict[str, Any]:
        """Where the clock stands, JSON-able: frozen at an instant, or an offset from its
        time source. :meth:`restore` puts a clock back there (a durable copy keeps it)."""
        at, offset = self._state
        frozen = at.isoformat() if at is not None else None
        return {"frozen": frozen, "offsetSeconds": offset.total_seconds()}

    def restore(self, position: dict[str, Any]) -> None:
        """Stand where :meth:`position` said; ValueError (and the clock unmoved) if that is
        not a position, or lies outside the mock's calendar."""
        frozen = position.get("frozen")
        seconds = float(position.get("offsetSeconds", 0.0))
        if not math.isfinite(seconds):
            raise ValueError(f"offsetSeconds must be a finite number, not {seconds!r}")
        try:
            offset = timedelta(seconds=seconds)
            at = check_instant(parse_datetime(str(frozen))) if frozen is not None else None
            if at is None:
                check_instant(self._source() + offset)
        except OverflowError:
            raise ClockRangeError("the clock's position is past the end of the calendar") from None
        with self._lock:
            self._state = (at, offset)

    @property
    def is_frozen(self) -> bool:
        """Whether the clock stands still between explicit moves."""
        return self._state[0] is not None


def _aware(instant: datetime) -> datetime:
    return instant.replace(tzinfo=UTC) if instant.tzinfo is None else instant.astimezone(UTC)


# Most instants rendered are the same ones again and again (a company's `created`, on every
# page it appears on): formatting each once is a tenth of a list call. A bounded memo of a
# pure function.
@functools.lru_cache(maxsize=8192)
def isoformat(instant: datetime) -> str:
    """Codat's timestamp form: UTC, seconds precision, a trailing ``Z`` (four-digit years:
    ``strftime("%Y")`` would write year 1 as ``1``)."""
    utc = instant.astimezone(UTC)
    return (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}"
        f"T{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}Z"
    )


def parse_datetime(text: str) -> datetime:
    """Parse a Codat date-time (``Z``, an offset, or unqualified local time taken as UTC);
    ValueError when it is not one, or names no instant of the calendar."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        return _aware(datetime.fromisoformat(value))
    except OverflowError:
        # An offset that moves the instant past either end of the calendar (year 1 at +01:00).
        raise ValueError(f"{text!r} is outside the calendar") from None
