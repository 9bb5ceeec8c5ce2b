"""Response shapes: the plans compiled from schemas, and each shape against the contract."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from mockserver.render import (
    EXTRA_PROPERTIES,
    SHAPES,
    Plan,
    ShapeError,
    Shaper,
    check_shape,
    compile_plan,
    with_extras,
    with_nulls,
    without_nulls,
)
from mockserver.spec import Spec

RECORD: dict[str, Any] = {
    "type": "object",
    "required": ["id", "parent"],
    "properties": {
        "id": {"type": "string"},
        "note": {"type": ["string", "null"]},
        "parent": {"type": ["object", "null"], "properties": {"id": {"type": "string"}}},
        # Null-able by type, but null is not among the enum's values: not null-able at all.
        "state": {"type": ["string", "null"], "enum": ["On", "Off"]},
        "tags": {"type": "object", "additionalProperties": {"type": "string"}},
        "children": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "properties": {"when": {"type": ["string", "null"]}},
            },
        },
    },
}


def test_a_plan_knows_nullable_required_open_maps_and_items() -> None:
    plan = compile_plan(RECORD)
    assert plan.nullable == ("note", "parent")
    assert plan.required == {"id", "parent"}
    assert plan.open
    tags = plan.properties["tags"]
    assert tags.values is not None and not tags.open  # a map: its keys are data
    children = plan.properties["children"].items
    assert children is not None
    assert children.nullable == ("when",)
    assert not children.open  # additionalProperties: false


def test_all_of_branches_merge_and_one_closed_branch_closes_the_object() -> None:
    plan = compile_plan(
        {
            "allOf": [
                {"type": "object", "properties": {"a": {"type": ["string", "null"]}}},
                {"type": "object", "properties": {"b": {"type": "string"}}},
            ]
        }
    )
    assert set(plan.properties) == {"a", "b"} and plan.nullable == ("a",) and plan.open
    closed = compile_plan({"allOf": [{"properties": {"a": {}}, "additionalProperties": False}]})
    assert not closed.open


def test_nulls_fill_every_absent_nullable_property_without_touching_the_input() -> None:
    value = {"id": "x", "children": [{}, {"when": "2024-01-01"}], "tags": {"k": "v"}}
    before = copy.deepcopy(value)
    shaped = with_nulls(compile_plan(RECORD), value)
    assert shaped == {
        "id": "x",
        "note": None,
        "parent": None,
        "children": [{"when": None}, {"when": "2024-01-01"}],
        "tags": {"k": "v"},
    }
    assert value == before


def test_nulls_go_inside_present_objects_too() -> None:
    plan = compile_plan(
        {
            "type": "object",
            "properties": {
                "inner": {"type": "object", "properties": {"x": {"type": ["integer", "null"]}}}
            },
        }
    )
    assert with_nulls(plan, {"inner": {}}) == {"inner": {"x": None}}


def test_extras_go_on_open_records_only() -> None:
    value = {"id": "x", "tags": {"k": "v"}, "children": [{"when": "t"}], "parent": {"id": "p"}}
    before = copy.deepcopy(value)
    shaped = with_extras(compile_plan(RECORD), value)
    assert shaped == {
        "id": "x",
        "tags": {"k": "v"},  # a map: no invented keys
        "children": [{"when": "t"}],  # additionalProperties: false
        "parent": {"id": "p", **EXTRA_PROPERTIES},
        **EXTRA_PROPERTIES,
    }
    assert value == before
    # Each object gets an extra value of its own, not one shared between them.
    assert shaped["mockAddedDetails"] is not shaped["parent"]["mockAddedDetails"]


def test_codat_shape_drops_optional_nulls_and_keeps_required_ones() -> None:
    value = {"id": "x", "note": None, "parent": None, "children": [{"when": None}]}
    assert without_nulls(compile_plan(RECORD), value) == {
        "id": "x",
        "parent": None,
        "children": [{}],
    }


def test_unknown_shapes_are_refused_by_name() -> None:
    assert [check_shape(name) for name in SHAPES] == ["codat", "nulls", "extra"]
    with pytest.raises(ShapeError, match=r"'flat'.*codat, nulls, extra"):
        check_shape("flat")
    with pytest.raises(ShapeError):
        Shaper(Spec.load()).shape({}, "flat", "#/components/schemas/Company")


def test_codat_shape_is_the_answer_itself(spec: Spec) -> None:
    """The default shape costs nothing: the very object comes back."""
    answer = {"id": "x"}
    assert Shaper(spec).shape(answer, "codat", "#/components/schemas/Company") is answer


# -- the contract ------------------------------------------------------------------------------


def _response_plans(spec: Spec) -> list[tuple[str, Plan]]:
    shaper = Shaper(spec)
    found = [
        (f"{op.operation_id} {status}", shaper.plan(response.validator.pointer))
        for op in spec.operations.values()
        for status, response in op.responses.items()
        if response.validator is not None
    ]
    return [*found, ("ConnectionWebhook", shaper.schema_plan("ConnectionWebhook"))]


def _required_nullable(plan: Plan, where: str, out: list[str]) -> None:
    out.extend(f"{where}.{name}" for name in plan.nullable if name in plan.required)
    for name, sub in plan.properties.items():
        _required_nullable(sub, f"{where}.{name}", out)
    for sub in (plan.values, plan.items):
        if sub is not None:
            _required_nullable(sub, where + "[]", out)


def test_no_field_of_the_contract_is_both_required_and_nullable(spec: Spec) -> None:
    """Why the default shape carries no null at all (the note in openapi.yaml says so)."""
    found: list[str] = []
    for where, plan in _response_plans(spec):
        _required_nullable(plan, where, found)
    assert found == []


def _examples(node: Any, pointer: str, out: list[tuple[str, Any]]) -> None:
    if isinstance(node, dict):
        media = node.get("application/json")
        if isinstance(media, dict) and "schema" in media:
            for example in (media.get("examples") or {}).values():
                out.append((f"{pointer}/application~1json/schema", example["value"]))
        for key, value in node.items():
            _examples(value, f"{pointer}/{key.replace('~', '~0').replace('/', '~1')}", out)


def test_the_contracts_examples_are_in_the_default_shape(spec: Spec) -> None:
    """Every example of a body in openapi.yaml sends no null where a field may be left out,
    and is valid: so an example and the mock's default answer look alike."""
    found: list[tuple[str, Any]] = []
    _examples(yaml.safe_load(spec.yaml_text), "#", found)
    assert len(found) > 15
    shaper = Shaper(spec)
    for pointer, example in found:
        plan = shaper.plan(pointer)
        assert without_nulls(plan, example) == example, pointer
        assert spec.validator(pointer).is_valid(example), pointer
