"""Evaluating a parsed query against JSON-like records.

Evaluation (the documented operator table plus choices where the docs are silent):

* Property names are matched exactly (case-sensitive). Dots step into sub-objects, into any
  key of an open map such as ``tags.region``, and through arrays: ``dataConnections.status=
  PendingAuth`` holds when *any* connection has that status (Codat's docs show this query for
  companies). ``<array>.count`` is the array's length (Codat's ``dataConnections.count=0``).
* Strings compare case-insensitively: Codat's examples filter invoices with ``status=paid``
  although the stored status is ``Paid``.
* When both sides read as ISO 8601 dates (``2021-01-28``, ``2022-10-27T10:22:43.6464237Z``)
  they compare as instants (a bare date is midnight UTC); else when both read as numbers they
  compare numerically; else as case-folded text. Numeric fields compare numerically with a
  numeric value and match nothing otherwise; booleans take ``true``/``false`` (any case).
* ``~`` is case-insensitive substring containment on a string; on an array of scalars it
  asks whether the array holds an element equal to the value. It matches nothing else.
* ``>``, ``<``, ``>=``, ``<=`` follow the same typed comparison. Codat only documents them for
  numbers and dates; on plain text the mock compares case-folded strings rather than erroring.
* A missing or null field (Codat does not support querying for nulls) satisfies no
  comparison, except ``!=``: ``a != v`` is always exactly ``not (a = v)``, so on an array it
  means *no* element equals ``v``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from mockserver.clock import parse_datetime
from mockserver.query.properties import check_properties
from mockserver.query.syntax import And, Comparison, Expr, Or, parse, spine

_NUMBER_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_DATE_RE = re.compile(
    r"\d{4}-\d{2}-\d{2}"
    r"(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?P<frac>\.\d+)?)?(?:[Zz]|[+-]\d{2}:\d{2})?)?"
)


_NUMERIC_STARTS = frozenset("+-.")


def _as_number(text: str) -> Decimal | None:
    return Decimal(text) if _NUMBER_RE.fullmatch(text) else None


def as_datetime(text: str) -> datetime | None:
    """``text`` as an instant when it reads as an ISO 8601 date (up to seven fractional digits)."""
    match = _DATE_RE.fullmatch(text)
    if match is None:
        return None
    frac = match.group("frac")
    if frac is not None:
        # Codat writes up to seven fractional digits; Python's parser takes at most six.
        start, end = match.span("frac")
        text = text[:start] + frac[:7].ljust(7, "0") + text[end:]
    try:
        return parse_datetime(text)
    except ValueError:
        return None


def as_decimal(value: int | float) -> Decimal | None:
    """A JSON number as an exact Decimal (None for NaN), for comparing and ordering."""
    if isinstance(value, float):
        # repr keeps 0.1 as 0.1 rather than its binary expansion; NaN compares with nothing.
        return None if math.isnan(value) else Decimal(repr(value))
    return Decimal(value)


def _sign(left: Any, right: Any) -> int:
    return int(left > right) - int(left < right)


def _compare(actual: Any, text: str) -> int | None:
    """Order ``actual`` against the query text: -1, 0 or 1, or None when they do not compare."""
    if isinstance(actual, bool):
        flag = text.casefold()
        return _sign(actual, flag == "true") if flag in ("true", "false") else None
    if isinstance(actual, (int, float)):
        mine, theirs = as_decimal(actual), _as_number(text)
        return None if mine is None or theirs is None else _sign(mine, theirs)
    if isinstance(actual, str):
        when, then = as_datetime(actual), as_datetime(text)
        if when is not None and then is not None:
            return _sign(when, then)
        mine, theirs = _as_number(actual), _as_number(text)
        if mine is not None and theirs is not None:
            return _sign(mine, theirs)
        return _sign(actual.casefold(), text.casefold())
    return None


def _step(value: Any, seg: str, out: list[Any]) -> None:
    if isinstance(value, Mapping):
        if seg in value:
            out.append(value[seg])
    elif isinstance(value, (list, tuple)):
        if seg == "count" and not any(isinstance(e, Mapping) and "count" in e for e in value):
            out.append(len(value))
        else:
            for element in value:
                _step(element, seg, out)


def _flatten(values: Sequence[Any], out: list[tuple[Any, bool]]) -> None:
    for element in values:
        if isinstance(element, (list, tuple)):
            _flatten(element, out)
        elif element is not None:
            out.append((element, True))


def leaf_values(record: Mapping[str, Any], path: tuple[str, ...]) -> list[tuple[Any, bool]]:
    """Non-null values at ``path``, each flagged True when it is an element of an array leaf."""
    frontier: list[Any] = [record]
    for seg in path:
        reached: list[Any] = []
        for value in frontier:
            _step(value, seg, reached)
        frontier = reached
    leaves: list[tuple[Any, bool]] = []
    for value in frontier:
        if isinstance(value, (list, tuple)):
            _flatten(value, leaves)
        elif value is not None:
            leaves.append((value, False))
    return leaves


def _equal(actual: Any, text: str) -> bool:
    return _compare(actual, text) == 0


def _holds(comparison: Comparison, record: Mapping[str, Any]) -> bool:
    leaves = leaf_values(record, comparison.path)
    op, text = comparison.op, comparison.value
    if op == "=":
        return any(_equal(value, text) for value, _ in leaves)
    if op == "!=":
        return not any(_equal(value, text) for value, _ in leaves)
    if op == "~":
        needle = text.casefold()
        return any(
            _equal(value, text)
            if element
            else isinstance(value, str) and needle in value.casefold()
            for value, element in leaves
        )
    for value, _ in leaves:
        sign = _compare(value, text)
        if sign is not None and (
            (op == ">" and sign > 0)
            or (op == "<" and sign < 0)
            or (op == ">=" and sign >= 0)
            or (op == "<=" and sign <= 0)
        ):
            return True
    return False


def matches(expr: Expr, record: Mapping[str, Any]) -> bool:
    """Whether ``record`` satisfies ``expr`` (see the module docstring for the rules)."""
    if isinstance(expr, Comparison):
        return _holds(expr, record)
    if isinstance(expr, And):
        return all(matches(operand, record) for operand in spine(expr, And))
    return any(matches(operand, record) for operand in spine(expr, Or))


def compile_query(query: str | None, *, schema: Mapping[str, Any], resource: str) -> Expr | None:
    """``query`` parsed and its properties checked against ``schema`` (None: no filter).

    This happens before any record is looked at, so errors do not depend on the data.
    """
    if query is None or not query.strip():
        return None
    expr = parse(query)
    check_properties(expr, schema, resource)
    return expr


def filter_records(
    records: Sequence[Mapping[str, Any]],
    query: str | None,
    *,
    schema: Mapping[str, Any],
    resource: str,
) -> list[Mapping[str, Any]]:
    """The records that satisfy ``query``, in their original order (a blank one keeps all)."""
    expr = compile_query(query, schema=schema, resource=resource)
    if expr is None:
        return list(records)
    return [record for record in records if matches(expr, record)]


def equality_key(text: str) -> object:
    """What decides ``=`` between two strings: ``a = b`` holds exactly when their keys are
    equal (instants for dates, numbers for numbers, else case-folded text), so an index can
    look records up by it."""
    # Dates and numbers start with a digit, a sign or a point; the rest (ids and most
    # names) skip the parsing. Text already case-folded is kept as is (the same object).
    if text[:1] in _NUMERIC_STARTS or text[:1].isdigit():
        when = as_datetime(text)
        if when is not None:
            return ("date", when)
        number = _as_number(text)
        if number is not None:
            return ("number", number)
    folded = text.casefold()
    return text if folded == text else folded
