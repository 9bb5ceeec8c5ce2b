"""The mock's clock: real time by default, or a manual clock that tests move by hand.

Time-driven state (a sync finishing, a rate-limit window resetting, a webhook retry falling
due) is derived from ``clock.now()`` when it is read, so nothing needs a background timer and
tests never sleep: they call :meth:`Clock.advance`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

UTC = timezone.utc


def _system_now() -> datetime:
    return datetime.now(UTC)


class Clock:
    """A clock that follows a time source plus an offset, or stands frozen at a set instant.

    * ``Clock()`` follows real time.
    * ``Clock(frozen_at=t)`` stands still at ``t`` until advanced or set.
    * ``advance(seconds)`` moves either kind forward; ``set(t)`` jumps (and freezes) at ``t``;
      ``resume_real_time()`` drops every adjustment.
    """

    def __init__(
        self,
        *,
        frozen_at: datetime | None = None,
        source: Callable[[], datetime] = _system_now,
    ) -> None:
        self._source = source
        self._lock = threading.Lock()
        self._frozen: datetime | None = _aware(frozen_at) if frozen_at is not None else None
        self._offset = timedelta(0)

    def now(self) -> datetime:
        """The current instant on this clock (timezone-aware, UTC)."""
        with self._lock:
            if self._frozen is not None:
                return self._frozen
            return self._source() + self._offset

    def advance(self, seconds: float) -> datetime:
        """Move the clock forward by ``seconds`` (which must not be negative)."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            step = timedelta(seconds=seconds)
            if self._frozen is not None:
                self._frozen += step
            else:
                self._offset += step
        return self.now()

    def set(self, instant: datetime) -> datetime:
        """Stand the clock still at ``instant``."""
        with self._lock:
            self._frozen = _aware(instant)
        return self.now()

    def resume_real_time(self) -> datetime:
        """Follow the time source again, with no offset."""
        with self._lock:
            self._frozen = None
            self._offset = timedelta(0)
        return self.now()

    @property
    def is_frozen(self) -> bool:
        """Whether the clock stands still between explicit moves."""
        with self._lock:
            return self._frozen is not None


def _aware(instant: datetime) -> datetime:
    return instant.replace(tzinfo=UTC) if instant.tzinfo is None else instant.astimezone(UTC)


def isoformat(instant: datetime) -> str:
    """Codat's timestamp form: UTC, seconds precision, a trailing ``Z``."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_datetime(text: str) -> datetime:
    """Parse a Codat date-time (``Z``, an offset, or unqualified local time taken as UTC)."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    return _aware(datetime.fromisoformat(value))
