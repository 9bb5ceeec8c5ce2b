"""``RowRing``: the journal's bounded store of flat rows, kept where the collector never looks.

A row kept as a tuple is an object the garbage collector tracks until its first look at it:
under a steady read load (requests that free what they allocate) young collections are rare,
so thousands of new rows piled up for one young collection to walk, a pause of several
milliseconds. The ring instead keeps one preallocated list per column and writes a row's
values into them in place: the values are atoms (ints, strings, bytes, instants), none of
which the collector tracks, so recording an exchange adds nothing for it to walk, and the
lists themselves were allocated once.

Not thread-safe by itself: :class:`~mockserver.journal.Journal` holds its lock around it.
"""

from __future__ import annotations

from typing import Any

Row = tuple[Any, ...]


class RowRing:
    """The newest ``capacity`` rows of ``width`` values each, oldest first."""

    __slots__ = ("_capacity", "_columns", "_next", "_size", "_width")

    def __init__(self, capacity: int, width: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self._capacity = capacity
        self._width = width
        self._columns: list[list[Any]] = [[None] * capacity for _ in range(width)]
        #: Where the next row goes; once full, also where the oldest row is.
        self._next = 0
        self._size = 0

    def append(self, row: Row) -> bool:
        """Keep ``row``; True when that pushed the oldest one out."""
        if len(row) != self._width:  # checked first: a short row would leave a torn slot
            raise ValueError(f"a row holds {self._width} values, not {len(row)}")
        at = self._next
        for column, value in zip(self._columns, row, strict=True):
            column[at] = value
        self._next = at + 1 if at + 1 < self._capacity else 0
        if self._size < self._capacity:
            self._size += 1
            return False
        return True

    def rows(self) -> list[Row]:
        """Every row kept, oldest first (copies: later appends do not change them)."""
        start, stop = self._next - self._size, self._next
        if start >= 0:
            columns = [column[start:stop] for column in self._columns]
        else:  # wrapped: the oldest rows are at the end of each column
            columns = [column[start:] + column[:stop] for column in self._columns]
        return list(zip(*columns, strict=True))

    def find(self, column: int, value: Any) -> Row | None:
        """The kept row whose ``column`` holds ``value`` (one column scan, in C); None if no
        kept row does. Meant for a column of unique values, such as sequence numbers."""
        try:
            at = self._columns[column].index(value, 0, self._size)
        except ValueError:
            return None
        return tuple(values[at] for values in self._columns)

    def clear(self) -> None:
        """Forget every row (and drop the references to their values)."""
        for column in self._columns:
            column[:] = [None] * self._capacity
        self._next = 0
        self._size = 0

    def __len__(self) -> int:
        return self._size
