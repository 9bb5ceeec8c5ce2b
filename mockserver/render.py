"""Response shapes: the same answer, sent the way Codat sends it or the ways clients break.

Every shape is valid under the contract; they differ only where the contract leaves a choice.

* ``codat`` (the default): an optional property with no value is left out, as in every example
  Codat publishes. ``null`` is sent only for a property the contract both requires and lets be
  null (this contract has none). The store and the error layer build their answers in this
  shape already, so rendering it costs nothing.
* ``nulls``: every declared property that has no value and may be ``null`` is sent as an
  explicit ``null``. Generated clients that type such fields as "optional" but not "nullable"
  reject it.
* ``extra``: every object whose schema leaves it open gets properties the contract does not
  name, as Codat's additive (non-breaking) changes would bring. Maps whose keys are data
  (``tags``, ``connectionInfo``, the texts and account maps) get no invented keys, and objects
  with ``additionalProperties: false`` get none.

A :class:`Shaper` compiles, once per schema, a :class:`Plan` that says for each object which
properties may be null, which are required, and whether it is open; reshaping then walks the
answer alongside its plan, copying the objects it may change and sharing the rest (answers
share fixture data, which must never change).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal, get_args

from mockserver.errors import CodatMockError

if TYPE_CHECKING:
    from mockserver.fixtures import Fixtures
    from mockserver.spec import Spec

ShapeName = Literal["codat", "nulls", "extra"]
#: Every response shape, the default first.
SHAPES: tuple[str, ...] = get_args(ShapeName)
DEFAULT_SHAPE: ShapeName = "codat"

#: The properties the ``extra`` shape adds to each open object: a string and an object, the
#: two kinds an additive change brings. Names the contract does not use anywhere.
EXTRA_PROPERTIES: Mapping[str, Any] = {
    "mockAddedNote": "codat-mock: a property the contract does not name",
    "mockAddedDetails": {"kind": "additive-change", "version": 2},
}


#: Puts one value (an answer, an error body, a webhook body) into a response shape.
Render = Callable[[Any], Any]

#: The contract's error body, and the body of its connection webhooks.
ERROR_SCHEMA = "#/components/schemas/ErrorMessage"
WEBHOOK_SCHEMA = "#/components/schemas/ConnectionWebhook"


class ShapeError(CodatMockError, ValueError):
    """A response shape that does not exist; the message lists the ones that do."""


def check_shape(name: str) -> ShapeName:
    """``name`` if it is a response shape; :class:`ShapeError` otherwise."""
    if name not in SHAPES:
        raise ShapeError(f"unknown response shape {name!r}: choose one of {', '.join(SHAPES)}")
    return name  # type: ignore[return-value]


@dataclass(slots=True)
class Plan:
    """What one schema says about the shape of the values it describes."""

    #: Declared properties (``allOf`` branches merged) and their own plans.
    properties: dict[str, Plan] = field(default_factory=dict)
    #: Declared properties that admit ``null`` (an enum without ``null`` does not).
    nullable: tuple[str, ...] = ()
    required: frozenset[str] = frozenset()
    #: Whether unnamed properties may be added (a record, not closed, not a map).
    open: bool = False
    #: The plan of a map's values (``additionalProperties`` given as a schema).
    values: Plan | None = None
    #: The plan of an array's items.
    items: Plan | None = None

    @property
    def trivial(self) -> bool:
        """Nothing below this plan changes under any shape."""
        return not (self.properties or self.open or self.values or self.items)


_EMPTY = Plan()


def compile_plan(schema: Any) -> Plan:
    """The plan of a resolved schema (every ``$ref`` inlined, as ``Spec.resolved`` gives)."""
    if not isinstance(schema, Mapping):
        return _EMPTY
    branches = [schema, *(b for b in schema.get("allOf", ()) if isinstance(b, Mapping))]
    properties: dict[str, Any] = {}
    required: set[str] = set()
    closed = False
    values: Any = None
    items: Any = None
    for branch in branches:
        properties.update(branch.get("properties") or {})
        required.update(branch.get("required") or ())
        extra = branch.get("additionalProperties")
        if extra is False:
            closed = True
        elif isinstance(extra, Mapping):
            values = extra
        if isinstance(branch.get("items"), Mapping):
            items = branch["items"]
    plan = Plan(
        properties={name: compile_plan(sub) for name, sub in properties.items()},
        nullable=tuple(name for name, sub in properties.items() if _admits_null(sub)),
        required=frozenset(required),
        open=bool(properties) and not closed and values is None,
        values=compile_plan(values) if values is not None else None,
        items=compile_plan(items) if items is not None else None,
    )
    return _EMPTY if plan.trivial else plan


def _admits_null(schema: Any) -> bool:
    if not isinstance(schema, Mapping):
        return False
    kind = schema.get("type")
    if not (kind == "null" or (isinstance(kind, list) and "null" in kind)):
        return False
    enum = schema.get("enum")
    return enum is None or None in enum


def _reshape(plan: Plan, value: Any, finish: Callable[[Plan, dict[str, Any]], None]) -> Any:
    """``value`` walked along ``plan``, with ``finish`` adding to each copied object.

    Objects that may change are copies; parts of ``value`` no shape touches are shared.
    """
    if plan is _EMPTY:
        return value
    if type(value) is dict:
        properties, values = plan.properties, plan.values
        out = {}
        for key, item in value.items():
            if type(item) is dict or type(item) is list:
                sub = properties.get(key, values)
                if sub is not None:
                    item = _reshape(sub, item, finish)
            out[key] = item
        finish(plan, out)
        return out
    if type(value) is list and plan.items is not None:
        items = plan.items
        return [_reshape(items, item, finish) for item in value]
    return value


def _add_nulls(plan: Plan, out: dict[str, Any]) -> None:
    for name in plan.nullable:
        if name not in out:
            out[name] = None


def _add_extras(plan: Plan, out: dict[str, Any]) -> None:
    if plan.open:
        for name, extra in EXTRA_PROPERTIES.items():
            if name not in plan.properties and name not in out:
                out[name] = dict(extra) if type(extra) is dict else extra


def with_nulls(plan: Plan, value: Any) -> Any:
    """``value`` with every absent property that may be null sent as ``null``."""
    return _reshape(plan, value, _add_nulls)


def with_extras(plan: Plan, value: Any) -> Any:
    """``value`` with :data:`EXTRA_PROPERTIES` added to every open object."""
    return _reshape(plan, value, _add_extras)


def without_nulls(plan: Plan, value: Any) -> Any:
    """``value`` in the ``codat`` shape: optional properties holding ``null`` left out (a copy).

    Used where outside data (fixtures) enters the mock, so that answers built from it are in
    the default shape already.
    """
    if isinstance(value, dict):
        return {
            key: _plain_below(plan, key, item)
            for key, item in value.items()
            if item is not None or key in plan.required
        }
    if isinstance(value, list):
        items = plan.items or _EMPTY
        return [without_nulls(items, item) for item in value]
    return value


def _plain_below(plan: Plan, key: str, item: Any) -> Any:
    if not isinstance(item, (dict, list)):
        return item
    return without_nulls(plan.properties.get(key, plan.values or _EMPTY), item)


class Shaper:
    """Reshapes answers of one contract; plans are compiled once per schema pointer."""

    def __init__(self, spec: Spec) -> None:
        self._spec = spec
        self._plans: dict[str, Plan] = {}

    def plan(self, pointer: str) -> Plan:
        """The plan of the schema at ``pointer`` (cached)."""
        found = self._plans.get(pointer)
        if found is None:
            found = self._plans[pointer] = compile_plan(self._spec.resolved(pointer))
        return found

    def schema_plan(self, name: str) -> Plan:
        """The plan of ``components/schemas/<name>``."""
        return self.plan(f"#/components/schemas/{name}")

    def settle(self, fixtures: Fixtures) -> Fixtures:
        """The seed data in the ``codat`` shape: a ``null`` in a fixture means "no value",
        so it is left out here once, rather than from every answer built from it."""
        integration = self.schema_plan("Integration")
        branding = self.schema_plan("Branding")
        localization = self.schema_plan("Localization")
        return replace(
            fixtures,
            integrations=[without_nulls(integration, item) for item in fixtures.integrations],
            branding={key: without_nulls(branding, b) for key, b in fixtures.branding.items()},
            configuration=without_nulls(self.schema_plan("Configuration"), fixtures.configuration),
            texts={
                locale: {key: without_nulls(localization, t) for key, t in texts.items()}
                for locale, texts in fixtures.texts.items()
            },
        )

    def renderer(self, shape: str, pointer: str) -> Render | None:
        """What puts values of the schema at ``pointer`` into ``shape``; None for the default
        shape, which needs nothing done."""
        check_shape(shape)
        if shape == DEFAULT_SHAPE:
            return None
        plan = self.plan(pointer)
        return (
            (lambda value: with_nulls(plan, value))
            if shape == "nulls"
            else (lambda value: with_extras(plan, value))
        )

    def shape(self, value: Any, shape: str, pointer: str | None) -> Any:
        """``value`` (already in the ``codat`` shape) as ``shape`` has it, under the schema
        at ``pointer`` (``None``: no schema, sent as it is)."""
        if shape == "codat" or pointer is None:
            return value
        plan = self.plan(pointer)
        if shape == "nulls":
            return with_nulls(plan, value)
        if shape == "extra":
            return with_extras(plan, value)
        raise ShapeError(f"unknown response shape {shape!r}")
