"""Normalizing the instants the store keeps.

The store keeps every instant timezone-aware in UTC. Instants that the API shows back (sync
date ranges) are also cut to whole seconds, since :func:`mockserver.clock.isoformat` renders
seconds precision and comparisons (overlaps, ordering) should agree with what clients see.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone


def as_utc(instant: datetime) -> datetime:
    """``instant`` as an aware UTC datetime (a naive value is taken to be UTC already)."""
    if instant.tzinfo is None:
        return instant.replace(tzinfo=timezone.utc)
    return instant.astimezone(timezone.utc)


def whole_seconds(instant: datetime) -> datetime:
    """``instant`` in UTC, truncated to whole seconds."""
    return as_utc(instant).replace(microsecond=0)


def one_month_before(instant: datetime) -> datetime:
    """The same wall-clock time one calendar month earlier (day clamped to the month's end)."""
    year, month = (instant.year, instant.month - 1) if instant.month > 1 else (instant.year - 1, 12)
    # The day before the first of this month is the last day of the target month.
    last_day = (instant.replace(day=1) - timedelta(days=1)).day
    return instant.replace(year=year, month=month, day=min(instant.day, last_day))
