"""``orderBy``: checking it against the item schema, and ordering records by it.

``orderBy`` takes one property path, ascending, or descending with a leading ``-``. Ordering
is stable; nulls and missing values come last in either direction; values of different kinds
never fail to compare (booleans, then numbers, then dates, then text, then anything else).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mockserver.query.evaluate import as_datetime, as_decimal, leaf_values
from mockserver.query.properties import resolves, unresolved
from mockserver.query.syntax import parse_path


def sort_key(value: Any) -> tuple[Any, ...] | None:
    """A key that orders any two JSON values without raising; None for "no value"."""
    if isinstance(value, bool):
        return (0, int(value))
    if isinstance(value, (int, float)):
        number = as_decimal(value)
        return None if number is None else (1, number)
    if isinstance(value, str):
        # A date starts with a digit: most text skips the parsing.
        when = as_datetime(value) if value[:1].isdigit() else None
        return (2, when) if when is not None else (3, value.casefold(), value)
    try:
        text = json.dumps(value, sort_keys=True, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return (4, text)


def _record_key(record: Mapping[str, Any], path: tuple[str, ...]) -> tuple[Any, ...] | None:
    for value, _ in leaf_values(record, path):
        key = sort_key(value)
        if key is not None:
            return key
    return None


@dataclass(slots=True, frozen=True)
class Ordering:
    """A checked ``orderBy``: the property path, and whether it runs descending."""

    path: tuple[str, ...]
    descending: bool


def compile_order(
    order_by: str | None, *, schema: Mapping[str, Any], resource: str
) -> Ordering | None:
    """``order_by`` (``-`` prefix for descending) checked against ``schema`` (None: keep the
    records' own order)."""
    if order_by is None or not order_by.strip():
        return None
    text = order_by.strip()
    descending = text.startswith("-")
    path = parse_path(text[1:] if descending else text)
    if not resolves(schema, path):
        raise unresolved(path, resource)
    return Ordering(path, descending)


def order_records(
    records: Sequence[Mapping[str, Any]],
    order_by: str | None,
    *,
    schema: Mapping[str, Any],
    resource: str,
) -> list[Mapping[str, Any]]:
    """``records`` sorted by the ``orderBy`` property (see :func:`arrange`)."""
    return arrange(records, compile_order(order_by, schema=schema, resource=resource))


def arrange(
    records: Sequence[Mapping[str, Any]], ordering: Ordering | None
) -> list[Mapping[str, Any]]:
    """``records`` in ``ordering`` (None keeps the input order).

    The sort is stable, also descending, and puts records without a value last whichever
    the direction.
    """
    if ordering is None:
        return list(records)
    keyed: list[tuple[tuple[Any, ...], Mapping[str, Any]]] = []
    missing: list[Mapping[str, Any]] = []
    for record in records:
        key = _record_key(record, ordering.path)
        if key is None:
            missing.append(record)
        else:
            keyed.append((key, record))
    # sorted() keeps ties in input order even with reverse=True.
    keyed.sort(key=lambda pair: pair[0], reverse=ordering.descending)
    return [record for _, record in keyed] + missing
