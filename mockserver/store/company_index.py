"""Ordered indexes over one tenant's companies, so that a page costs the same at 100,000.

Listing used to render every company, filter, sort and then cut one page. The index keeps,
per tenant:

* the companies in arrival order (a company's *position*; companies are never deleted);
* for ``query=`` with ``=`` on ``id``, ``name`` and ``dataConnections.status``: the sorted
  positions of the companies holding each value, keyed by :func:`query.equality_key`, which
  decides ``=`` exactly as the query evaluator does;
* for ``orderBy`` on ``name`` and ``created``: positions in order of :func:`query.sort_key`
  of the rendered value (whole seconds for ``created``), so ties and mixed kinds order
  exactly as a full sort would.

``&&`` and ``||`` of indexed comparisons combine their position lists; an indexed side of
``&&`` narrows the records the other side is evaluated on. Anything else (other fields,
other operators, other orderings) falls back to rendering every company: correct, linear.
Only the page's own companies are ever rendered on the indexed path.
"""

from __future__ import annotations

import math
import sys
from bisect import bisect_left, insort
from collections.abc import Callable, Iterator
from datetime import datetime
from heapq import merge
from itertools import islice
from typing import Any, cast

from sortedcontainers import SortedList

from mockserver import query as ql
from mockserver.store.companies import CompanyRecord

Rendered = dict[str, Any]

Path = tuple[str, ...]
_ID: Path = ("id",)
_NAME: Path = ("name",)
_STATUS: Path = ("dataConnections", "status")
_CREATED: Path = ("created",)

_NO_KEYS: frozenset[object] = frozenset()

#: Above every position: ``(key, _ABOVE_ALL)`` sorts after every entry with ``key``.
_ABOVE_ALL = sys.maxsize

#: Below this many matches an ordered query sorts its matches; above it walks the order.
SORT_MATCHES_BELOW = 4096


class _ValueIndex:
    """Equality key -> sorted positions of the companies holding it (a lone position is kept
    as a bare int: most keys, every id for one, belong to a single company)."""

    __slots__ = ("_positions",)

    def __init__(self) -> None:
        self._positions: dict[object, int | list[int]] = {}

    def add(self, key: object, position: int) -> None:
        found = self._positions.get(key)
        if found is None:
            self._positions[key] = position
        elif isinstance(found, int):
            self._positions[key] = sorted((found, position))
        elif found[-1] < position:
            found.append(position)  # the usual case: a new company comes last
        else:
            insort(found, position)

    def remove(self, key: object, position: int) -> None:
        found = self._positions[key]
        if isinstance(found, int):
            del self._positions[key]
            return
        del found[bisect_left(found, position)]
        if len(found) == 1:
            self._positions[key] = found[0]

    def positions(self, key: object) -> list[int]:
        found = self._positions.get(key)
        if found is None:
            return []
        return [found] if isinstance(found, int) else found


class _OrderIndex:
    """Positions ascending by sort key, ties in arrival order: ``(key, position)`` pairs in a
    SortedList.

    Positions are unique, so the pairs' own order is exactly the stable sort's. A new name
    usually sorts into the middle; a SortedList inserts there in O(log n) where a plain list
    moved half of itself, and finds any rank in O(log n), so a page costs the same at any
    offset.
    """

    __slots__ = ("_chunk", "_entries")

    def __init__(self, *, chunk: int = 256, load: int | None = None) -> None:
        #: How many entries a descending walk reads at a time (it regroups equal keys).
        self._chunk = chunk
        self._entries: SortedList[tuple[Any, int]] = SortedList()
        if load is not None:  # tests: small sublists, so that few entries span many
            self._entries._reset(load)

    def add(self, key: Any, position: int) -> None:
        self._entries.add((key, position))

    def extend(self, entries: list[tuple[Any, int]]) -> None:
        """Add many ``(key, position)`` entries, positions not yet held (a bulk load: one
        sort when they outnumber a quarter of those held)."""
        self._entries.update(entries)

    def walk(self, descending: bool) -> Iterator[int]:
        """Positions in order. Descending reverses the keys but, like a stable sort with
        ``reverse=True``, keeps equal keys in arrival order."""
        if descending:
            yield from self._down(0)
            return
        for _, position in self._entries:
            yield position

    def slice(self, descending: bool, start: int, stop: int) -> list[int]:
        """Positions ``[start, stop)`` of :meth:`walk`, reached by rank, not by walking."""
        if stop <= start:
            return []
        if not descending:
            return [position for _, position in self._entries.islice(start, stop)]
        return list(islice(self._down(start), stop - start))

    def _down(self, at: int) -> Iterator[int]:
        """The descending walk from its ``at``-th position on."""
        entries = self._entries
        n = len(entries)
        if at >= n:
            return
        # First the rest of the group of equal keys that walk position ``at`` falls in.
        key = entries[n - 1 - at][0]
        lo = entries.bisect_left((key, -1))
        hi = entries.bisect_left((key, _ABOVE_ALL))
        for _, position in entries.islice(lo + at - (n - hi), hi):
            yield position
        # Then whole groups, last key first, read a chunk at a time.
        hi = lo
        while hi > 0:
            base = max(0, hi - self._chunk)
            chunk = entries[base:hi]
            end = len(chunk)
            while end > 0:
                key = chunk[end - 1][0]
                begin = end - 1  # most groups are of one: step, not bisect
                while begin > 0 and chunk[begin - 1][0] == key:
                    begin -= 1
                if begin == 0 and base > 0:
                    break  # the group may begin before the chunk
                for _, position in chunk[begin:end]:
                    yield position
                end = begin
            if end == 0:
                hi = base
                continue
            lo = entries.bisect_left((key, -1))
            for _, position in entries.islice(lo, base + end):
                yield position
            hi = lo


def _created_key(created: datetime) -> int:
    # Codat shows `created` to the second, so that is what orders (and ties) companies;
    # among instants only, whole seconds order exactly as query.sort_key would.
    return math.floor(created.timestamp())


class CompanyIndex:
    """The indexes of one tenant's companies (see the module docstring)."""

    def __init__(self, *, sort_matches_below: int = SORT_MATCHES_BELOW) -> None:
        self.sort_matches_below = sort_matches_below
        self._companies: list[CompanyRecord] = []
        self._ids = _ValueIndex()
        self._names = _ValueIndex()
        self._statuses = _ValueIndex()
        #: Per position, the status keys it is listed under.
        self._status_keys: list[frozenset[object]] = []
        self._by_name = _OrderIndex()
        self._by_created = _OrderIndex()

    def __len__(self) -> int:
        return len(self._companies)

    def add(self, company: CompanyRecord) -> None:
        """Index a new company (it takes the next position)."""
        position = len(self._companies)
        self._companies.append(company)
        self._ids.add(ql.equality_key(company.id), position)
        self._names.add(ql.equality_key(company.name), position)
        self._by_name.add(ql.sort_key(company.name), position)
        self._by_created.add(_created_key(company.created), position)
        self._status_keys.append(_NO_KEYS)
        self.connections_changed(company, position)

    def add_all(self, companies: list[CompanyRecord]) -> None:
        """Index many new companies at once (a restore): as :meth:`add` for each, with the
        orderings sorted once."""
        first = len(self._companies)
        for position, company in enumerate(companies, first):
            self._companies.append(company)
            self._ids.add(ql.equality_key(company.id), position)
            self._names.add(ql.equality_key(company.name), position)
            self._status_keys.append(_NO_KEYS)
            self.connections_changed(company, position)
        self._by_name.extend(
            [(ql.sort_key(c.name), position) for position, c in enumerate(companies, first)]
        )
        self._by_created.extend(
            [(_created_key(c.created), position) for position, c in enumerate(companies, first)]
        )

    def position(self, company: CompanyRecord) -> int:
        """Where ``company`` stands in arrival order."""
        for position in reversed(self._ids.positions(ql.equality_key(company.id))):
            if self._companies[position] is company:
                return position
        raise KeyError(company.id)

    def connections_changed(self, company: CompanyRecord, position: int | None = None) -> None:
        """Re-read ``company``'s connection statuses (after any connection change)."""
        if position is None:
            position = self.position(company)
        old = self._status_keys[position]
        keys = (
            frozenset(ql.equality_key(c.status) for c in company.connections.values())
            if company.connections
            else _NO_KEYS
        )
        if keys == old:
            return
        for key in old - keys:
            self._statuses.remove(key, position)
        for key in keys - old:
            self._statuses.add(key, position)
        self._status_keys[position] = keys

    # -- reading --------------------------------------------------------------------------

    def _matching(self, expr: ql.Expr, render: Callable[[CompanyRecord], Rendered]) -> list[int]:
        """Sorted positions of the companies matching ``expr``, or raise _Unindexed."""
        if isinstance(expr, ql.Comparison):
            index = self._value_index(expr)
            if index is None:
                raise _Unindexed
            return index.positions(ql.equality_key(expr.value))
        if isinstance(expr, ql.Or):
            return _union(self._matching(expr.left, render), self._matching(expr.right, render))
        # And: intersect indexed sides; an unindexed side is evaluated on the other's matches.
        left = self._matching_or_none(expr.left, render)
        right = self._matching_or_none(expr.right, render)
        if left is not None and right is not None:
            return _intersection(left, right)
        if left is not None:
            return [p for p in left if ql.matches(expr.right, render(self._companies[p]))]
        if right is not None:
            return [p for p in right if ql.matches(expr.left, render(self._companies[p]))]
        raise _Unindexed

    def _matching_or_none(
        self, expr: ql.Expr, render: Callable[[CompanyRecord], Rendered]
    ) -> list[int] | None:
        try:
            return self._matching(expr, render)
        except _Unindexed:
            return None

    def _value_index(self, comparison: ql.Comparison) -> _ValueIndex | None:
        if comparison.op != "=":
            return None
        return {_ID: self._ids, _NAME: self._names, _STATUS: self._statuses}.get(comparison.path)

    def _order_index(self, ordering: ql.Ordering) -> _OrderIndex | None:
        return {_NAME: self._by_name, _CREATED: self._by_created}.get(ordering.path)

    def page(
        self,
        expr: ql.Expr | None,
        ordering: ql.Ordering | None,
        start: int,
        stop: int,
        render: Callable[[CompanyRecord], Rendered],
    ) -> tuple[list[Rendered], int]:
        """The rendered companies at ``[start, stop)`` of the listing, and how many match."""
        order = None if ordering is None else self._order_index(ordering)
        matching: list[int] | None
        try:
            matching = None if expr is None else self._matching(expr, render)
        except _Unindexed:
            return self._scan(expr, ordering, start, stop, render)
        if ordering is not None and order is None:
            return self._scan(expr, ordering, start, stop, render)
        if matching is None:
            total = len(self._companies)
            if order is None or ordering is None:
                positions = list(range(start, min(stop, total)))
            else:
                positions = order.slice(ordering.descending, start, stop)
        else:
            total = len(matching)
            if order is None or ordering is None:
                positions = matching[start:stop]
            else:
                positions = self._ordered_matches(matching, order, ordering, start, stop)
        return [render(self._companies[p]) for p in positions], total

    def _ordered_matches(
        self,
        matching: list[int],
        order: _OrderIndex,
        ordering: ql.Ordering,
        start: int,
        stop: int,
    ) -> list[int]:
        if len(matching) < self.sort_matches_below:
            key_of = self._key_function(ordering)
            # ``matching`` is in arrival order, and sorted() is stable, also in reverse.
            ranked = sorted(matching, key=key_of, reverse=ordering.descending)
            return ranked[start:stop]
        wanted = set(matching)
        found: list[int] = []
        for position in order.walk(ordering.descending):
            if position in wanted:
                found.append(position)
                if len(found) == stop:
                    break
        return found[start:stop]

    def _key_function(self, ordering: ql.Ordering) -> Callable[[int], Any]:
        companies = self._companies
        if ordering.path == _NAME:
            return lambda p: ql.sort_key(companies[p].name)
        return lambda p: _created_key(companies[p].created)

    def _scan(
        self,
        expr: ql.Expr | None,
        ordering: ql.Ordering | None,
        start: int,
        stop: int,
        render: Callable[[CompanyRecord], Rendered],
    ) -> tuple[list[Rendered], int]:
        """The unindexed way: render everything, filter, sort, cut."""
        records = [render(company) for company in self._companies]
        if expr is not None:
            records = [record for record in records if ql.matches(expr, record)]
        ordered = cast(list[Rendered], ql.arrange(records, ordering))
        return ordered[start:stop], len(ordered)


class _Unindexed(Exception):
    """The expression needs a field no index covers."""


def _union(left: list[int], right: list[int]) -> list[int]:
    merged: list[int] = []
    for position in merge(left, right):
        if not merged or merged[-1] != position:
            merged.append(position)
    return merged


def _intersection(left: list[int], right: list[int]) -> list[int]:
    small, large = (left, right) if len(left) <= len(right) else (right, left)
    found: list[int] = []
    for position in small:
        at = bisect_left(large, position)
        if at < len(large) and large[at] == position:
            found.append(position)
    return found
