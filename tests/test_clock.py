from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from mockserver.clock import EARLIEST, LATEST, Clock, ClockRangeError, isoformat, parse_datetime

T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def test_frozen_clock_stands_still_until_advanced() -> None:
    clock = Clock(frozen_at=T0)
    assert clock.now() == T0
    assert clock.now() == T0
    assert clock.advance(90) == T0 + timedelta(seconds=90)
    assert clock.is_frozen


def test_real_clock_follows_its_source_plus_offset() -> None:
    ticks = iter([T0, T0 + timedelta(seconds=1), T0 + timedelta(seconds=2)])
    clock = Clock(source=lambda: next(ticks))
    assert clock.now() == T0
    clock.advance(10)
    assert clock.now() == T0 + timedelta(seconds=12)
    assert not clock.is_frozen


def test_set_freezes_and_resume_drops_adjustments() -> None:
    clock = Clock(source=lambda: T0)
    clock.advance(5)
    later = T0 + timedelta(days=3)
    assert clock.set(later) == later
    assert clock.is_frozen
    assert clock.resume_real_time() == T0


def test_clock_refuses_to_go_back() -> None:
    with pytest.raises(ValueError):
        Clock(frozen_at=T0).advance(-1)


def test_naive_instants_are_taken_as_utc() -> None:
    clock = Clock(frozen_at=datetime(2026, 1, 1))
    assert clock.now().tzinfo == timezone.utc


def test_isoformat_and_parse_round_trip() -> None:
    assert isoformat(T0) == "2026-01-02T03:04:05Z"
    assert parse_datetime("2026-01-02T03:04:05Z") == T0
    assert parse_datetime("2026-01-02T04:04:05+01:00") == T0
    assert parse_datetime("2026-01-02T03:04:05") == T0


def test_isoformat_writes_four_digit_years() -> None:
    assert isoformat(datetime(1, 2, 3, 4, 5, 6, tzinfo=timezone.utc)) == "0001-02-03T04:05:06Z"
    assert isoformat(datetime(999, 1, 1, tzinfo=timezone.utc)) == "0999-01-01T00:00:00Z"


@pytest.mark.parametrize("text", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_a_date_time_past_the_calendar_is_a_value_error(text: str) -> None:
    with pytest.raises(ValueError, match="outside the calendar"):
        parse_datetime(text)


def test_the_clock_keeps_to_its_calendar_and_stays_put_when_refused() -> None:
    clock = Clock(frozen_at=LATEST - timedelta(seconds=10))
    with pytest.raises(ClockRangeError):
        clock.advance(11)
    with pytest.raises(ClockRangeError):
        clock.set(EARLIEST - timedelta(microseconds=1))
    with pytest.raises(ValueError):
        clock.advance(float("nan"))
    assert clock.now() == LATEST - timedelta(seconds=10)
    assert clock.advance(10) == LATEST
    assert clock.set(EARLIEST) == EARLIEST


def test_a_position_round_trips_and_one_past_the_calendar_is_refused() -> None:
    clock = Clock(frozen_at=T0)
    clock.advance(5)
    again = Clock(frozen_at=EARLIEST)
    again.restore(clock.position())
    assert again.now() == T0 + timedelta(seconds=5)
    for position in (
        {"frozen": "9999-12-31T23:59:50+00:00", "offsetSeconds": 0.0},
        {"frozen": "soon", "offsetSeconds": 0.0},
        {"frozen": None, "offsetSeconds": float("inf")},
        {"frozen": None, "offsetSeconds": 1e12},
        {"frozen": None, "offsetSeconds": 1e300},
    ):
        with pytest.raises(ValueError):
            again.restore(position)
        assert again.now() == T0 + timedelta(seconds=5), position
