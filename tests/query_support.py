"""What the tests of mockserver.query share: Codat's malformed-query message, a Company-shaped
schema to check properties against, a shorthand for comparisons and a strategy for query
trees."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from mockserver.query import And, Comparison, Expr, Or

MALFORMED = "Error parsing query - Malformed query."

# A Company-shaped item schema (already $ref-resolved), built the way Codat's spec builds it:
# properties merged through allOf, an array of connection objects, an open string map for tags
# and a free-form object for connectionInfo.
CONNECTION: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "status": {"type": "string"},
        "platformName": {"type": "string"},
        "created": {"type": "string"},
        "connectionInfo": {"type": ["object", "null"], "additionalProperties": True},
    },
}
SCHEMA: dict[str, Any] = {
    "type": "object",
    "allOf": [
        {
            "type": "object",
            "properties": {
                "id": {"type": "string"},
                "name": {"type": "string"},
                "description": {"type": ["string", "null"]},
                "created": {"type": "string"},
                "lastSync": {"type": ["string", "null"]},
                "amount": {"type": "number"},
                "enabled": {"type": "boolean"},
                "products": {"type": "array", "items": {"type": "string"}},
                "tags": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        },
        {
            "type": "object",
            "properties": {"dataConnections": {"type": "array", "items": CONNECTION}},
        },
    ],
}


def c(path: str, op: str, value: str) -> Comparison:
    """The comparison ``path op value``, its path written dotted."""
    return Comparison(tuple(path.split(".")), op, value)


def trees(leaves: st.SearchStrategy[Comparison]) -> st.SearchStrategy[Expr]:
    """Query trees of up to eight ``leaves`` joined by And and Or."""
    return st.recursive(
        leaves,
        lambda kids: st.one_of(st.builds(And, kids, kids), st.builds(Or, kids, kids)),
        max_leaves=8,
    )
