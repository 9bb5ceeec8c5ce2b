"""Codat's query language and ``orderBy``, as pure functions over JSON-like records.

The list operations (list-companies, list-connections, list-integrations) accept ``query`` and
``orderBy``; this package filters and orders their records (:mod:`mockserver.paging` then cuts
the page). It knows nothing about HTTP.

* :mod:`.syntax`: the grammar, the expression tree, the parser and rendering back to text;
* :mod:`.properties`: which property paths an item schema resolves;
* :mod:`.evaluate`: whether a record satisfies an expression, and the index's equality key;
* :mod:`.ordering`: ``orderBy``, checked and applied.
"""

from __future__ import annotations

from mockserver.query.evaluate import compile_query, equality_key, filter_records, matches
from mockserver.query.ordering import Ordering, arrange, compile_order, order_records, sort_key
from mockserver.query.properties import check_properties
from mockserver.query.syntax import (
    MAX_NESTING,
    MAX_QUERY_LENGTH,
    OPERATORS,
    And,
    Comparison,
    Expr,
    Or,
    comparisons,
    parse,
    render,
    render_value,
)

__all__ = [
    "MAX_NESTING",
    "MAX_QUERY_LENGTH",
    "OPERATORS",
    "And",
    "Comparison",
    "Expr",
    "Or",
    "Ordering",
    "arrange",
    "check_properties",
    "comparisons",
    "compile_order",
    "compile_query",
    "equality_key",
    "filter_records",
    "matches",
    "order_records",
    "parse",
    "render",
    "render_value",
    "sort_key",
]
