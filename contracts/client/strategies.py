"""Inputs from the contract: hypothesis strategies for what ``openapi.yaml`` lets a client send.

:class:`SchemaStrategies` turns the resolved request schemas and parameters into strategies;
scenarios narrow them to what is meaningful (platform keys from the catalogue, ids of
companies made earlier in the same example). :func:`instants` and friends draw timestamps
around the mock clock's starting point :data:`T0`.
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from hypothesis import strategies as st

from contracts.client.table import flatten, json_types
from mockserver.spec import Spec

UTC = timezone.utc
#: Where every example starts on the mock clock (frozen; scenarios move it on purpose).
T0 = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)


# Characters for generated text: any Unicode scalar value, minus the few on which Python's
# regex classes and the contract validator's (ECMA-like) ones disagree (line terminators and
# the odd separators \s treats differently), so generated strings rarely need filtering.
_ALPHABET = st.characters(
    codec="utf-8",
    exclude_characters="\r\x85\u2028\u2029\ufeff\x1c\x1d\x1e\x1f",
)
_TEXT_MAX = 24
_NO_OVERRIDES: Mapping[str, st.SearchStrategy[Any]] = types.MappingProxyType({})


class SchemaStrategies:
    """Hypothesis strategies for the request bodies and parameters ``openapi.yaml`` describes."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec

    def for_schema(
        self,
        schema: Mapping[str, Any],
        overrides: Mapping[str, st.SearchStrategy[Any]] = _NO_OVERRIDES,
    ) -> st.SearchStrategy[Any]:
        """Values of ``schema``; ``overrides`` replace the strategies of top-level properties."""
        schema = flatten(schema)
        kinds = json_types(schema) or (["object"] if "properties" in schema else ["string"])
        if "enum" in schema:
            allowed = [v for v in schema["enum"] if v is not None or "null" in kinds]
            return st.sampled_from(allowed)
        options = [self._typed(kind, schema, overrides) for kind in kinds if kind != "null"]
        if "null" in kinds:
            options.append(st.none())
        return st.one_of(options)

    def _typed(
        self, kind: str, schema: Mapping[str, Any], overrides: Mapping[str, st.SearchStrategy[Any]]
    ) -> st.SearchStrategy[Any]:
        if kind == "string":
            return self._string(schema)
        if kind == "integer":
            low, high = (-(2**31), 2**31 - 1) if schema.get("format") == "int32" else (None, None)
            return st.integers(schema.get("minimum", low), schema.get("maximum", high))
        if kind == "number":
            return st.floats(
                schema.get("minimum"), schema.get("maximum"), allow_nan=False, allow_infinity=False
            )
        if kind == "boolean":
            return st.booleans()
        if kind == "array":
            return st.lists(
                self.for_schema(schema.get("items", {})),
                min_size=schema.get("minItems", 0),
                max_size=min(schema.get("maxItems", 4), 4),
            )
        return self._object(schema, overrides)

    def _string(self, schema: Mapping[str, Any]) -> st.SearchStrategy[str]:
        low = int(schema.get("minLength", 0))
        high = max(low, min(int(schema.get("maxLength", _TEXT_MAX)), _TEXT_MAX))
        fmt = schema.get("format")
        if fmt in ("uuid", "guid"):
            return st.uuids().map(str)
        if fmt == "date-time":
            return instants(T0).map(render_instant)
        if fmt in ("uri", "uri-reference"):
            return st.from_regex(r"https://[a-z]{1,12}\.example/[a-z0-9]{0,12}", fullmatch=True)
        if "pattern" in schema:
            strategy = st.from_regex(schema["pattern"], fullmatch=True, alphabet=_ALPHABET)
            return strategy.filter(lambda s: low <= len(s) <= max(high, low))
        return st.text(_ALPHABET, min_size=low, max_size=high)

    def _object(
        self, schema: Mapping[str, Any], overrides: Mapping[str, st.SearchStrategy[Any]]
    ) -> st.SearchStrategy[dict[str, Any]]:
        properties: Mapping[str, Any] = schema.get("properties", {})
        required = set(schema.get("required", ()))

        def strategy(name: str) -> st.SearchStrategy[Any]:
            found = overrides.get(name)
            return found if found is not None else self.for_schema(properties[name])

        fixed = st.fixed_dictionaries(
            {n: strategy(n) for n in properties if n in required},
            optional={n: strategy(n) for n in properties if n not in required},
        )
        extra = schema.get("additionalProperties")
        if not isinstance(extra, Mapping) or properties:
            return fixed
        names = schema.get("propertyNames", {})
        keys = (
            st.from_regex(names["pattern"], fullmatch=True, alphabet=_ALPHABET)
            if "pattern" in names
            else st.text(_ALPHABET, min_size=1, max_size=12)
        )
        size = min(int(schema.get("maxProperties", 4)), 4)
        return st.dictionaries(keys, self.for_schema(extra), max_size=size)

    def body_schema(self, operation_id: str) -> Mapping[str, Any]:
        body = self.spec.operations[operation_id].body
        assert body is not None, f"{operation_id} takes no body"
        resolved: Mapping[str, Any] = self.spec.resolved(body.pointer)
        return resolved

    def body(
        self, operation_id: str, overrides: Mapping[str, st.SearchStrategy[Any]] = _NO_OVERRIDES
    ) -> st.SearchStrategy[Any]:
        """Bodies for ``operation_id``, each checked against the contract's own validator."""
        validator = self.spec.operations[operation_id].body
        assert validator is not None
        return self.for_schema(self.body_schema(operation_id), overrides).filter(validator.is_valid)

    def query(
        self, operation_id: str, overrides: Mapping[str, st.SearchStrategy[Any]] = _NO_OVERRIDES
    ) -> st.SearchStrategy[dict[str, Any]]:
        """Query parameters of ``operation_id``: the required ones always, the others maybe."""
        params = list(self.spec.operations[operation_id].parameters_in("query"))

        def strategy(name: str, schema: Mapping[str, Any]) -> st.SearchStrategy[Any]:
            found = overrides.get(name)
            return found if found is not None else self.for_schema(schema)

        return st.fixed_dictionaries(
            {p.name: strategy(p.name, p.schema) for p in params if p.required},
            optional={p.name: strategy(p.name, p.schema) for p in params if not p.required},
        )


def instants(anchor: datetime, *, back: int = 400, ahead: int = 400) -> st.SearchStrategy[datetime]:
    """Whole-second instants from ``back`` days before ``anchor`` to ``ahead`` days after it
    (the anchor itself and its neighbours often)."""
    seconds = st.one_of(st.sampled_from([0, 1, -1]), st.integers(-back * 86400, ahead * 86400))
    return seconds.map(lambda s: datetime.fromtimestamp(anchor.timestamp() + s, UTC))


def render_instant(instant: datetime, style: int = 0) -> str:
    """``instant`` in one of the ISO 8601 forms Codat accepts (UTC ``Z``, an offset, local)."""
    utc = instant.astimezone(UTC).replace(microsecond=0)
    if style == 1:
        return utc.isoformat()  # +00:00
    if style == 2:
        return utc.replace(tzinfo=None).isoformat()  # unqualified local time, read as UTC
    if style == 3:
        return utc.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ")


def rendered_instants(
    anchor: datetime, *, back: int = 400, ahead: int = 400
) -> st.SearchStrategy[str]:
    """Instants near ``anchor`` written in any of :func:`render_instant`'s forms."""
    return st.builds(render_instant, instants(anchor, back=back, ahead=ahead), st.integers(0, 3))
