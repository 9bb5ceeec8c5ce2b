"""Which properties a query or ``orderBy`` may name: the paths an item schema resolves.

A path steps through ``properties`` (merged across allOf/anyOf/oneOf), into array items, into
open maps (``additionalProperties``) and, at its end, to an array's ``count``. A path the
schema does not resolve is refused with Codat's "Could not resolve property" message.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from mockserver.errors import MalformedQuery
from mockserver.query.syntax import Expr, comparisons

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


def resolves(schema: Mapping[str, Any], path: tuple[str, ...]) -> bool:
    """Whether ``schema`` (``$ref``s resolved) has a property at ``path``."""
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


def unresolved(path: tuple[str, ...], resource: str) -> MalformedQuery:
    """Codat's error for a property ``path`` that ``resource`` does not have."""
    name = ".".join(path)
    return MalformedQuery(f"Error parsing query - Could not resolve property {name} on {resource}")


def check_properties(expr: Expr, schema: Mapping[str, Any], resource: str) -> None:
    """Raise :class:`MalformedQuery` for the first property in ``expr`` the item schema lacks.

    ``schema`` must already have its ``$ref``s resolved; ``resource`` names the item type in
    the message (``Company``, ``Connection``, ...).
    """
    for comparison in comparisons(expr):
        if not resolves(schema, comparison.path):
            raise unresolved(comparison.path, resource)
