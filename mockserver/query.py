"""Codat's query language and ``orderBy``, as pure functions over JSON-like records.

The list operations (list-companies, list-connections, list-integrations) accept ``query`` and
``orderBy``; this module filters and orders their records (:mod:`mockserver.paging` then cuts
the page). It knows nothing about HTTP.

Grammar (what Codat documents, made precise)::

    expr        := and_expr ( "||" and_expr )*
    and_expr    := primary ( "&&" primary )*
    primary     := "{" expr "}" | comparison
    comparison  := path operator value
    path        := segment ( "." segment )*
    operator    := "=" | "!=" | "~" | ">" | "<" | ">=" | "<="
    value       := bare-word | "double-quoted"

* ``&&`` binds tighter than ``||``; both associate to the left. Curly braces group, as in
  Codat's own example ``{totalAmount > 100 || totalAmount < 50} && status != paid``.
* Whitespace around operators and braces is ignored. A bare value runs up to the next
  operator character (``= ! ~ < > & | { } "``) and is trimmed, so ``name=Codat Ltd`` works;
  a value that needs one of those characters (or edge whitespace) goes in double quotes, where
  ``\\"`` and ``\\\\`` escape a quote and a backslash. Empty values (bare or ``""``) are malformed.
* Codat says a query must stay under 2048 characters; longer ones are rejected here too.
  Braces may nest at most :data:`MAX_NESTING` deep, which keeps the parser's recursion bounded.
* Any syntax problem raises :class:`~mockserver.errors.MalformedQuery` with Codat's message
  ``Error parsing query - Malformed query.``; a property the resource does not have raises it
  with ``Error parsing query - Could not resolve property <path> on <Resource>``.

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

``orderBy`` takes one property path, ascending, or descending with a leading ``-``. Ordering
is stable; nulls and missing values come last in either direction; values of different kinds
never fail to compare (booleans, then numbers, then dates, then text, then anything else).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeAlias

from mockserver.clock import parse_datetime
from mockserver.errors import MalformedQuery

MAX_QUERY_LENGTH = 2048
"""Codat's documented bound: a query must be shorter than this many characters."""

MAX_NESTING = 32
"""How deep ``{ }`` groups may nest; deeper input is treated as malformed."""

OPERATORS: tuple[str, ...] = ("=", "!=", "~", ">", "<", ">=", "<=")

# Characters that end a bare word; anything else (dots, dashes, colons, spaces) may appear in one.
_SPECIAL = frozenset('=!~<>&|{}"')


# --- the tree ---------------------------------------------------------------------------------


@dataclass(slots=True, frozen=True)
class Comparison:
    """``path op value``: one test against one property (``path`` holds the dotted segments)."""

    path: tuple[str, ...]
    op: str
    value: str


@dataclass(slots=True, frozen=True)
class And:
    """Both sides must hold."""

    left: Expr
    right: Expr


@dataclass(slots=True, frozen=True)
class Or:
    """Either side may hold."""

    left: Expr
    right: Expr


Expr: TypeAlias = Comparison | And | Or


# --- tokens -----------------------------------------------------------------------------------


@dataclass(slots=True, frozen=True)
class _Token:
    kind: str  # "word", "string", "end", or the symbol itself ("&&", "{", ">=", ...)
    text: str = ""


_SYMBOL_RE = re.compile(r"&&|\|\||!=|>=|<=|[=~<>{}]")
_QUOTED_RE = re.compile(r'"((?:[^"\\]|\\.)*)"', re.DOTALL)
_ESCAPE_RE = re.compile(r'\\(["\\])')


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
        elif symbol := _SYMBOL_RE.match(text, i):
            tokens.append(_Token(symbol.group()))
            i = symbol.end()
        elif quoted := _QUOTED_RE.match(text, i):
            # Only \" and \\ are escapes; any other backslash is kept as written.
            tokens.append(_Token("string", _ESCAPE_RE.sub(r"\1", quoted.group(1))))
            i = quoted.end()
        elif text[i] in _SPECIAL:
            raise MalformedQuery()  # a lone &, | or !, or a quote that is never closed
        else:
            start = i
            while i < n and text[i] not in _SPECIAL:
                i += 1
            # Leading whitespace was skipped above, so only the tail needs trimming.
            tokens.append(_Token("word", text[start:i].rstrip()))
    tokens.append(_Token("end"))
    return tokens


# --- parser -----------------------------------------------------------------------------------


class _Parser:
    """Recursive descent over the token list; recursion happens only at ``{`` groups."""

    def __init__(self, tokens: list[_Token]) -> None:
        self._tokens = tokens
        self._pos = 0

    def _peek(self) -> _Token:
        return self._tokens[self._pos]

    def _take(self) -> _Token:
        token = self._tokens[self._pos]
        if token.kind != "end":
            self._pos += 1
        return token

    def parse(self) -> Expr:
        expr = self._or(0)
        if self._peek().kind != "end":
            raise MalformedQuery()
        return expr

    def _or(self, depth: int) -> Expr:
        expr = self._and(depth)
        while self._peek().kind == "||":
            self._take()
            expr = Or(expr, self._and(depth))
        return expr

    def _and(self, depth: int) -> Expr:
        expr = self._primary(depth)
        while self._peek().kind == "&&":
            self._take()
            expr = And(expr, self._primary(depth))
        return expr

    def _primary(self, depth: int) -> Expr:
        token = self._take()
        if token.kind == "{":
            if depth >= MAX_NESTING:
                raise MalformedQuery()
            inner = self._or(depth + 1)
            if self._take().kind != "}":
                raise MalformedQuery()
            return inner
        if token.kind != "word":
            raise MalformedQuery()
        path = _parse_path(token.text)
        op = self._take().kind
        if op not in OPERATORS:
            raise MalformedQuery()
        value = self._take()
        if value.kind not in ("word", "string") or value.text == "":
            raise MalformedQuery()
        return Comparison(path, op, value.text)


def _parse_path(text: str) -> tuple[str, ...]:
    segments = tuple(text.split("."))
    if any(not seg or any(ch.isspace() for ch in seg) for seg in segments):
        raise MalformedQuery()
    return segments


def parse(text: str) -> Expr:
    """Parse a Codat ``query`` string into an expression tree.

    Raises :class:`MalformedQuery` for anything that is not a well-formed query, including
    the empty string (callers treat an absent query as "no filter" before getting here).
    """
    if len(text) >= MAX_QUERY_LENGTH:
        raise MalformedQuery()
    return _Parser(_tokenize(text)).parse()


# --- rendering --------------------------------------------------------------------------------


def _spine(expr: Expr, kind: type[And] | type[Or]) -> list[Expr]:
    """The operands of a left-leaning chain of one connective, in source order."""
    operands: list[Expr] = []
    node = expr
    while isinstance(node, kind):
        operands.append(node.right)
        node = node.left
    operands.append(node)
    operands.reverse()
    return operands


def render_value(value: str) -> str:
    """``value`` as query text: bare when that reads back unchanged, else double-quoted."""
    if value and value == value.strip() and not any(ch in _SPECIAL for ch in value):
        return value
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def render(expr: Expr) -> str:
    """Write ``expr`` as query text that :func:`parse` reads back as the same tree.

    Braces appear only where precedence or left-association would otherwise regroup the tree.
    """
    if isinstance(expr, Comparison):
        return f"{'.'.join(expr.path)}{expr.op}{render_value(expr.value)}"
    if isinstance(expr, And):
        # Inside an AND chain any compound operand needs braces: an OR would split the chain,
        # and a nested AND on the right would re-associate to the left.
        parts = [
            render(op) if isinstance(op, Comparison) else f"{{{render(op)}}}"
            for op in _spine(expr, And)
        ]
        return " && ".join(parts)
    parts = [f"{{{render(op)}}}" if isinstance(op, Or) else render(op) for op in _spine(expr, Or)]
    return " || ".join(parts)


def comparisons(expr: Expr) -> Iterator[Comparison]:
    """Every comparison in ``expr``, left to right (iteratively, so long chains are fine)."""
    stack: list[Expr] = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, Comparison):
            yield node
        else:
            stack.append(node.right)
            stack.append(node.left)


# --- schema checks ----------------------------------------------------------------------------

_COMBINERS = ("allOf", "anyOf", "oneOf")
_CONSTRAINTS = ("type", "properties", "items", "additionalProperties", "enum", "const")
_STRUCTURAL = frozenset(_CONSTRAINTS + _COMBINERS)


def _branches(node: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """``node`` and, recursively, every schema it combines through allOf/anyOf/oneOf."""
    yield node
    for key in _COMBINERS:
        for sub in node.get(key) or ():
            if isinstance(sub, Mapping):
                yield from _branches(sub)


def _is_open(node: Any) -> bool:
    """A schema that admits any value (``true`` or one with no constraining keywords)."""
    return node is True or (isinstance(node, Mapping) and not _STRUCTURAL & node.keys())


def _is_array(node: Mapping[str, Any]) -> bool:
    kind = node.get("type")
    return "items" in node or kind == "array" or (isinstance(kind, list) and "array" in kind)


def _schema_step(node: Any, seg: str, last: bool) -> tuple[list[Any], bool]:
    """Schemas reached from ``node`` through key ``seg``, and whether anything goes from here."""
    if _is_open(node):
        return [], True
    if not isinstance(node, Mapping):
        return [], False
    branches = list(_branches(node))
    found = [
        props[seg]
        for b in branches
        if isinstance(props := b.get("properties"), Mapping) and seg in props
    ]
    if found:
        return found, False
    for b in branches:
        if _is_array(b):
            sub, open_ = _schema_step(b.get("items", True), seg, last)
            if open_ or sub:
                return sub, open_
            if seg == "count" and last:
                return [], True  # the array's length, as in ``dataConnections.count=0``
    for b in branches:
        extra = b.get("additionalProperties")
        if extra is True:
            return [], True
        if isinstance(extra, Mapping):
            found.append(extra)
    return found, False


def _resolves(schema: Mapping[str, Any], path: tuple[str, ...]) -> bool:
    nodes: list[Any] = [schema]
    for index, seg in enumerate(path):
        reached: list[Any] = []
        for node in nodes:
            sub, open_ = _schema_step(node, seg, index == len(path) - 1)
            if open_:
                return True
            reached.extend(sub)
        if not reached:
            return False
        nodes = reached
    return True


def _unresolved(path: tuple[str, ...], resource: str) -> MalformedQuery:
    name = ".".join(path)
    return MalformedQuery(f"Error parsing query - Could not resolve property {name} on {resource}")


def check_properties(expr: Expr, schema: Mapping[str, Any], resource: str) -> None:
    """Raise :class:`MalformedQuery` for the first property in ``expr`` the item schema lacks.

    ``schema`` must already have its ``$ref``s resolved; ``resource`` names the item type in
    the message (``Company``, ``Connection``, ...).
    """
    for comparison in comparisons(expr):
        if not _resolves(schema, comparison.path):
            raise _unresolved(comparison.path, resource)


# --- evaluation -------------------------------------------------------------------------------

_NUMBER_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_DATE_RE = re.compile(
    r"\d{4}-\d{2}-\d{2}"
    r"(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?P<frac>\.\d+)?)?(?:[Zz]|[+-]\d{2}:\d{2})?)?"
)


_NUMERIC_STARTS = frozenset("+-.")


def _as_number(text: str) -> Decimal | None:
    return Decimal(text) if _NUMBER_RE.fullmatch(text) else None


def _as_datetime(text: str) -> datetime | None:
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


def _number(value: int | float) -> Decimal | None:
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
        mine, theirs = _number(actual), _as_number(text)
        return None if mine is None or theirs is None else _sign(mine, theirs)
    if isinstance(actual, str):
        when, then = _as_datetime(actual), _as_datetime(text)
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


def _leaves(record: Mapping[str, Any], path: tuple[str, ...]) -> list[tuple[Any, bool]]:
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
    leaves = _leaves(record, comparison.path)
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
        return all(matches(operand, record) for operand in _spine(expr, And))
    return any(matches(operand, record) for operand in _spine(expr, Or))


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
        when = _as_datetime(text)
        if when is not None:
            return ("date", when)
        number = _as_number(text)
        if number is not None:
            return ("number", number)
    folded = text.casefold()
    return text if folded == text else folded


# --- ordering ---------------------------------------------------------------------------------


def sort_key(value: Any) -> tuple[Any, ...] | None:
    """A key that orders any two JSON values without raising; None for "no value"."""
    if isinstance(value, bool):
        return (0, int(value))
    if isinstance(value, (int, float)):
        number = _number(value)
        return None if number is None else (1, number)
    if isinstance(value, str):
        # A date starts with a digit: most text skips the parsing.
        when = _as_datetime(value) if value[:1].isdigit() else None
        return (2, when) if when is not None else (3, value.casefold(), value)
    try:
        text = json.dumps(value, sort_keys=True, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return (4, text)


def _record_key(record: Mapping[str, Any], path: tuple[str, ...]) -> tuple[Any, ...] | None:
    for value, _ in _leaves(record, path):
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
    path = _parse_path(text[1:] if descending else text)
    if not _resolves(schema, path):
        raise _unresolved(path, resource)
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
