"""Tests of mockserver/journal_ring.py: the newest rows, oldest first, however often the ring
has wrapped, checked against a plain bounded deque."""

from __future__ import annotations

from collections import deque

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockserver.journal_ring import RowRing


@given(
    capacity=st.integers(min_value=1, max_value=7),
    appends=st.integers(min_value=0, max_value=30),
    clear_at=st.one_of(st.none(), st.integers(min_value=0, max_value=30)),
)
def test_the_ring_keeps_what_a_bounded_deque_keeps(
    capacity: int, appends: int, clear_at: int | None
) -> None:
    ring = RowRing(capacity, 3)
    reference: deque[tuple[int, str, bytes]] = deque(maxlen=capacity)
    for n in range(appends):
        if n == clear_at:
            ring.clear()
            reference.clear()
        row = (n, f"op-{n}", b"%d" % n)
        pushed_out = len(reference) == capacity
        assert ring.append(row) is pushed_out
        reference.append(row)
        assert len(ring) == len(reference)
    assert ring.rows() == list(reference)
    for row in reference:  # each kept row is found by its unique first value...
        assert ring.find(0, row[0]) == row
    for n in range(appends):  # ...and a row no longer kept is not
        if all(row[0] != n for row in reference):
            assert ring.find(0, n) is None


def test_rows_are_copies() -> None:
    ring = RowRing(2, 1)
    ring.append((1,))
    before = ring.rows()
    ring.append((2,))
    ring.append((3,))
    assert before == [(1,)]
    assert ring.rows() == [(2,), (3,)]


def test_a_row_of_the_wrong_width_is_refused() -> None:
    ring = RowRing(2, 2)
    with pytest.raises(ValueError):
        ring.append((1, 2, 3))


def test_a_ring_holds_at_least_one_row() -> None:
    with pytest.raises(ValueError):
        RowRing(0, 1)
