"""Where the SDK and the contract part ways, read from both (no server needed).

:func:`known_disagreements` walks every SDK model the 22 methods send or parse next to the
matching schema of ``openapi.yaml`` (required fields, nulls, enums, types), and asks the SDK
itself, through a fake transport, which documented error statuses it turns into its typed
``ErrorMessage``. The result is a list of :class:`Disagreement` rows; :func:`format_table`
renders them. A :class:`Finding` is what the driver saw one call do; a row may explain it.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, get_args, get_origin

import httpx
import pydantic
from codat_sync_for_commerce import CodatSyncCommerce
from codat_sync_for_commerce.models import errors, shared

from contracts.client.sdk import METHODS, SdkMethod, field_metadata, shape
from mockserver.spec import Spec

#: A Disagreement whose operation is this applies to every operation.
ANY_OPERATION = "*"
LIST_OPERATIONS = ("list-companies", "list-connections", "list-integrations")
#: Finding kinds a table row may explain (see :class:`Finding`).
EXPLAINABLE = frozenset({"request", "response", "typing", "habit"})


# -- the disagreement table ---------------------------------------------------------------------


@dataclass(slots=True)
class Disagreement:
    """One place where the SDK and the contract say different things."""

    operation: str
    where: str
    sdk_says: str
    contract_says: str
    effect: str
    #: How many calls of the run ran into it.
    seen: int = 0

    def explains(self, finding: Finding) -> bool:
        """Whether ``finding`` is this disagreement showing itself.

        Only what the SDK sent or read can be; a status the inputs do not explain, or a
        journal out of step with the wire, is never excused by the table.
        """
        return (
            finding.kind in EXPLAINABLE
            and self.operation in (finding.operation, ANY_OPERATION)
            and self.where == finding.where
        )


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def format_table(disagreements: Iterable[Disagreement]) -> str:
    """A Markdown table; rows that differ only in their operation share one line."""
    groups: dict[tuple[str, str, str, str], list[Disagreement]] = {}
    for row in disagreements:
        key = (row.where, row.sdk_says, row.contract_says, row.effect)
        groups.setdefault(key, []).append(row)
    lines = [
        "| operation | where | SDK says | contract says | effect | seen in run |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for (where, sdk_says, contract_says, effect), rows in groups.items():
        operations = ", ".join(dict.fromkeys(row.operation for row in rows))
        cells = (operations, f"`{where}`", sdk_says, contract_says, effect)
        seen = sum(row.seen for row in rows)
        lines.append("| " + " | ".join(_cell(c) for c in cells) + f" | {seen} |")
    return "\n".join(lines) + "\n"


@dataclass(slots=True)
class Finding:
    """Something one call did that the contract does not allow (or the driver did not expect).

    ``kind`` is ``request`` (the SDK sent something off-contract), ``response`` (the SDK could
    not parse what the server sent), ``refused`` (the SDK would not send a contract-valid
    input), ``status`` (a status the inputs do not explain) or ``journal`` (the journal and
    the wire do not line up). Two more kinds are only ever counted against the table, never
    failed: ``typing`` (a documented error the SDK raised as its untyped SDKError) and
    ``habit`` (the SDK's fixed paging and its empty set-configuration POST, seen on the wire).
    """

    kind: str
    operation: str
    where: str
    detail: str
    call: str
    known: Disagreement | None = None

    def __str__(self) -> str:
        return f"[{self.kind}] {self.operation} {self.where}: {self.detail}\n    call: {self.call}"


# -- comparing SDK models with the contract's schemas ----------------------------------------------


def flatten(schema: Any) -> Any:
    """``schema`` with its ``allOf`` parts merged (properties and required lists joined)."""
    if not isinstance(schema, Mapping) or "allOf" not in schema:
        return schema
    merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
    for part in schema["allOf"]:
        for key, value in flatten(part).items():
            if key == "properties":
                merged["properties"] = {**merged.get("properties", {}), **value}
            elif key == "required":
                merged["required"] = sorted({*merged.get("required", ()), *value})
            else:
                merged.setdefault(key, value)
    return merged


def json_types(schema: Mapping[str, Any]) -> list[str]:
    kind = schema.get("type")
    if kind is None:
        return []
    return [kind] if isinstance(kind, str) else list(kind)


_PRIMITIVES: Mapping[Any, tuple[str, frozenset[str]]] = {
    # SDK type -> (its name in JSON, the JSON types pydantic's lax mode accepts for it)
    str: ("string", frozenset({"string"})),
    int: ("integer", frozenset({"integer"})),
    float: ("number", frozenset({"number", "integer"})),
    bool: ("boolean", frozenset({"boolean"})),
}


@dataclass(slots=True)
class _Walk:
    """One comparison of an SDK annotation with a schema, in one direction."""

    operation: str
    #: "response": the SDK must read every value the schema allows;
    #: "request": the schema must take every value the SDK can write.
    direction: str
    rows: list[Disagreement] = field(default_factory=list)

    def add(self, where: str, sdk_says: str, contract_says: str, effect: str) -> None:
        self.rows.append(Disagreement(self.operation, where, sdk_says, contract_says, effect))

    def compare(self, annotation: Any, schema: Any, where: str) -> None:
        schema = flatten(schema)
        if not isinstance(schema, Mapping) or "$ref" in schema:
            return  # a recursive reference: nothing in this contract recurses into SDK models
        sdk = shape(annotation)
        kinds = json_types(schema)
        nullable = "null" in kinds and (schema.get("enum") is None or None in schema["enum"])
        reading = self.direction == "response"
        if reading and nullable and not sdk.accepts_null:
            self.add(where, "not nullable", "may be null", "a null here fails to parse")
        if not reading and sdk.sends_null and not nullable:
            self.add(where, "can send null", "not nullable", "the server refuses a null (400)")
        if not reading and nullable and not sdk.sends_null and where != "body":
            self.add(
                where, "never sends null", "may be null", "callers cannot send an explicit null"
            )
        if len(sdk.members) != 1 or sdk.members[0] is Any:
            return
        member = sdk.members[0]
        origin = get_origin(member)
        if isinstance(member, type) and issubclass(member, pydantic.BaseModel):
            self._model(member, schema, where)
        elif isinstance(member, type) and issubclass(member, enum.Enum):
            self._enum(member, schema, where)
        elif origin is list:
            if kinds and "array" not in kinds:
                self.add(where, "a list", f"type {kinds}", "the value cannot pass")
            self.compare(get_args(member)[0], schema.get("items", {}), f"{where}[]")
        elif origin is dict:
            extra = schema.get("additionalProperties", {})
            self.compare(get_args(member)[1], extra if isinstance(extra, Mapping) else {}, where)
        elif member in _PRIMITIVES and kinds:
            name, accepted = _PRIMITIVES[member]
            others = {k for k in kinds if k != "null"}
            if reading and not others <= accepted:
                self.add(where, name, " or ".join(sorted(others)), "other values fail to parse")
            if (
                not reading
                and name not in others
                and not (name == "integer" and "number" in others)
            ):
                self.add(where, name, " or ".join(sorted(others)), "the server refuses it (400)")

    def _model(
        self, model: type[pydantic.BaseModel], schema: Mapping[str, Any], where: str
    ) -> None:
        properties: Mapping[str, Any] = schema.get("properties", {})
        required = set(schema.get("required", ()))
        known = set()
        for name, info in model.model_fields.items():
            alias = info.alias or name
            known.add(alias)
            here = f"{where}.{alias}"
            if self.direction == "response" and info.is_required() and alias not in required:
                self.add(here, "required", "optional", "a valid response without it fails to parse")
            if self.direction == "request":
                if alias in required and not info.is_required():
                    self.add(here, "optional", "required", "a request without it is refused (400)")
                if alias not in properties:
                    refused = schema.get("additionalProperties") is False
                    effect = "the server refuses it (400)" if refused else "the server ignores it"
                    self.add(here, "can send it", "no such property", effect)
            if alias in properties:
                self.compare(info.annotation, properties[alias], here)
        for alias in properties.keys() - known:
            if self.direction == "response":
                self.add(f"{where}.{alias}", "no such field", "a property", "the SDK drops it")
            else:
                self.add(
                    f"{where}.{alias}", "cannot send it", "a property", "callers cannot set it"
                )
        for alias in sorted(required - known - properties.keys()):
            if self.direction == "response":
                effect = "a valid response carries it; the SDK drops it"
                self.add(f"{where}.{alias}", "no such field", "required (undeclared)", effect)

    def _enum(self, kind: type[enum.Enum], schema: Mapping[str, Any], where: str) -> None:
        sdk_values = {member.value for member in kind}
        allowed = schema.get("enum")
        if self.direction == "response":
            if allowed is None:
                self.add(where, "a closed enum", "any string", "other values fail to parse")
            elif extra := [v for v in allowed if v is not None and v not in sdk_values]:
                self.add(where, "a closed enum", f"also {extra}", "those values fail to parse")
        elif allowed is not None and (extra := sorted(sdk_values - set(allowed))):
            self.add(where, f"can send {extra}", "not in the enum", "the server refuses them (400)")


def _schema_rows(spec: Spec, method: SdkMethod) -> list[Disagreement]:
    operation = spec.operations[method.operation_id]
    reading = _Walk(method.operation_id, "response")
    ok = operation.responses.get(200)
    if ok is not None and ok.validator is not None:
        reading.compare(method.response_annotation, spec.resolved(ok.validator.pointer), "response")
    writing = _Walk(method.operation_id, "request")
    model = method.request_model
    params = {p.name: p for p in operation.parameters}
    body_annotation: Any = model
    for name, info in model.model_fields.items():
        meta = field_metadata(info)
        alias = info.alias or name
        if meta is None:
            continue
        if meta.request is not None:
            body_annotation = info.annotation
        elif alias not in params:
            writing.add(f"parameter {alias}", "sends it", "no such parameter", "ignored")
        elif params[alias].required and not info.is_required():
            writing.add(f"parameter {alias}", "optional", "required", "refused when left out (400)")
    if operation.body is not None:
        writing.compare(body_annotation, spec.resolved(operation.body.pointer), "body")
    return reading.rows + writing.rows


def _error_body_rows(spec: Spec) -> list[Disagreement]:
    walk = _Walk(ANY_OPERATION, "response")
    walk.compare(
        errors.ErrorMessageData, spec.resolved("#/components/schemas/ErrorMessage"), "error"
    )
    return walk.rows


def _minimal(annotation: Any) -> Any:
    """The smallest value the SDK accepts for ``annotation`` (for the error-typing probe)."""
    sdk = shape(annotation)
    member = sdk.members[0] if sdk.members else None
    if isinstance(member, type) and issubclass(member, pydantic.BaseModel):
        return {
            info.alias or name: _minimal(info.annotation)
            for name, info in member.model_fields.items()
            if info.is_required()
        }
    if isinstance(member, type) and issubclass(member, enum.Enum):
        return next(iter(member)).value
    samples: dict[Any, Any] = {str: "probe", int: 1, bool: False, float: 1.0}
    return samples.get(member, {})


def probe_error_typing(spec: Spec) -> list[Disagreement]:
    """Ask the SDK, through a fake transport, how it reports each documented error status.

    Every status the contract documents gets a valid ErrorMessage body; a method that raises
    its untyped SDKError (or cannot parse the body) for it gets a row.
    """
    answer: dict[str, int] = {"status": 400}

    def respond(request: httpx.Request) -> httpx.Response:
        status = answer["status"]
        body = {"statusCode": status, "service": "probe", "error": "probe", "correlationId": "p"}
        return httpx.Response(status, json=body, request=request)

    rows: list[Disagreement] = []
    with httpx.Client(transport=httpx.MockTransport(respond)) as client:
        sdk = CodatSyncCommerce(
            security=shared.Security(auth_header="Basic cHJvYmU="),
            server_url="http://probe.invalid",
            client=client,
            retry_config=None,
        )
        for method in METHODS:
            request = _minimal(method.request_model)
            statuses = spec.operations[method.operation_id].responses
            for status in sorted(s for s in statuses if s >= 400):
                answer["status"] = status
                try:
                    method.function(sdk)(request=request)
                except errors.ErrorMessage:
                    continue
                except errors.SDKError:
                    sdk_says = "untyped SDKError (status and raw body only)"
                except pydantic.ValidationError:
                    sdk_says = "cannot parse the ErrorMessage body"
                else:
                    sdk_says = "returns normally"
                rows.append(
                    Disagreement(
                        method.operation_id,
                        f"{status} response",
                        sdk_says,
                        "documented, with an ErrorMessage body",
                        "callers must catch SDKError and parse its body themselves",
                    )
                )
    return rows


def _wire_habit_rows() -> list[Disagreement]:
    """What the SDK always does on the wire, where the contract leaves a choice."""
    rows = [
        Disagreement(
            op,
            "query.page, query.pageSize",
            "always sends page=1&pageSize=100 unless told otherwise",
            "optional; the server defaults to 1 and 100",
            "none today (same values); a changed server default would never apply",
        )
        for op in LIST_OPERATIONS
    ]
    rows.append(
        Disagreement(
            "set-configuration",
            "request body",
            "POST with an empty body and no Content-Type",
            "declares no request body",
            "none (the contract agrees); servers must take an empty POST",
        )
    )
    return rows


def known_disagreements(spec: Spec) -> list[Disagreement]:
    """Every disagreement found by reading the SDK next to the contract (no server needed)."""
    rows: list[Disagreement] = []
    for method in METHODS:
        rows.extend(_schema_rows(spec, method))
    rows.extend(_error_body_rows(spec))
    rows.extend(probe_error_typing(spec))
    rows.extend(_wire_habit_rows())
    unique: dict[tuple[str, str, str], Disagreement] = {}
    for row in rows:
        unique.setdefault((row.operation, row.where, row.sdk_says), row)
    return list(unique.values())


def parse_failure_location(annotation: Any, loc: Sequence[int | str]) -> str:
    """Where a pydantic error points, in the table's notation (``response.results[].x``).

    pydantic's ``loc`` mixes field aliases, list indexes, map keys and union-member tags
    (``nullable[list[Connection]]``, ``Unset``); walking it alongside the annotation keeps
    the first three and drops the tags.
    """
    where = "response"
    current = annotation
    for step in list(loc)[1:]:  # the first step is the unmarshaller's own "body" field
        members = shape(current).members
        member = members[0] if len(members) == 1 else None
        if isinstance(step, str) and ("[" in step or step == "Unset"):
            continue
        if isinstance(member, type) and issubclass(member, pydantic.BaseModel):
            by_alias = {(i.alias or n): i for n, i in member.model_fields.items()}
            info = by_alias.get(str(step))
            where += f".{step}"
            current = info.annotation if info is not None else Any
        elif get_origin(member) is list:
            where += "[]"
            current = get_args(member)[0]
        elif get_origin(member) is dict:
            current = get_args(member)[1]
        else:
            where += f".{step}"
            current = Any
    return where
