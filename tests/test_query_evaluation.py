"""Tests of mockserver.query's evaluation: what a parsed query matches in a record, filtering
and ordering lists of records, and the set laws filtering obeys."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockserver.errors import MalformedQuery
from mockserver.query import (
    OPERATORS,
    And,
    Comparison,
    Expr,
    Or,
    check_properties,
    filter_records,
    matches,
    order_records,
    parse,
    render,
)
from tests.query_support import MALFORMED, SCHEMA, c, trees


def check(query: str, record: Mapping[str, Any]) -> bool:
    expr = parse(query)
    check_properties(expr, SCHEMA, "Company")
    return matches(expr, record)


def names(records: Sequence[Mapping[str, Any]]) -> list[Any]:
    return [r.get("name") for r in records]


# --- evaluation -------------------------------------------------------------------------------

COMPANY: dict[str, Any] = {
    "id": "8a210b68-6988-11ed-a1eb-0242ac120002",
    "name": "Codat Ltd",
    "description": None,
    "created": "2022-10-23T00:00:00Z",
    "lastSync": "2022-10-27T10:22:43.6464237Z",
    "amount": 10,
    "enabled": True,
    "products": ["Commerce", "Lending"],
    "tags": {"region": "UK"},
    "dataConnections": [
        {"status": "Linked", "platformName": "Xero"},
        {"status": "PendingAuth", "platformName": "Shopify"},
    ],
}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # equality and text: case-insensitive
        ("name=Codat Ltd", True),
        ("name=codat ltd", True),
        ("name=Codat", False),
        ("name!=codat ltd", False),
        ("name!=Other", True),
        ("name~dat l", True),
        ("name~xyz", False),
        ("name>codat", True),  # text ordering is case-folded lexicographic
        ("name<b", False),
        # numbers compare numerically, not as text
        ("amount=10", True),
        ("amount=1e1", True),
        ("amount=10.0", True),
        ("amount>9", True),
        ("amount>10", False),
        ("amount>=10", True),
        ("amount<=9.99", False),
        ("amount<11", True),
        ("amount=ten", False),
        ("amount!=ten", True),
        ("amount>ten", False),
        ("amount~1", False),  # contains is for text only
        # dates compare as instants
        ("created=2022-10-23", True),
        ("created>2022-10-22", True),
        ("created>2022-10-23", False),
        ("created>=2022-10-23", True),
        ("created<2022-10-23T00:00:01Z", True),
        ("created<2022-10-23T01:00:00+02:00", False),  # that is 2022-10-22T23:00Z
        ("lastSync>2022-10-27T10:22:43Z", True),  # seven fractional digits are understood
        ("lastSync<2022-10-27T10:22:43.7Z", True),
        ("created~2022-10", True),  # contains looks at the text
        # booleans
        ("enabled=true", True),
        ("enabled=TRUE", True),
        ("enabled=false", False),
        ("enabled=yes", False),
        ("enabled!=yes", True),
        ("enabled!=false", True),
        # null and missing fields match nothing but !=
        ("description=x", False),
        ("description~x", False),
        ("description>a", False),
        ("description!=x", True),
        ("description=null", False),
        ("tags.owner=x", False),
        ("tags.owner!=x", True),
        # open maps
        ("tags.region=uk", True),
        ("tags.region~u", True),
        ("tags.region=us", False),
        # arrays of objects: any element
        ("dataConnections.status=PendingAuth", True),
        ("dataConnections.status=pendingauth", True),
        ("dataConnections.status=Deauthorized", False),
        ("dataConnections.status!=Linked", False),  # != means no element equals
        ("dataConnections.status!=Deauthorized", True),
        ("dataConnections.platformName~shop", True),
        ("dataConnections.count=2", True),
        ("dataConnections.count>2", False),
        # arrays of scalars: = and ~ ask for an equal element
        ("products=commerce", True),
        ("products~lending", True),
        ("products~lend", False),
        ("products!=Commerce", False),
        ("products.count=2", True),
        # combinations
        ("name=Codat Ltd && amount>5", True),
        ("name=Codat Ltd && amount>50", False),
        ("name=Other || amount>5", True),
        ("name=Other || amount>50", False),
        ("{name=Other || amount>5} && enabled=false", False),
        ("name=Other || amount>5 && enabled=false", False),
        ("name=Codat Ltd || amount>5 && enabled=false", True),
    ],
)
def test_semantics(query: str, expected: bool) -> None:
    assert check(query, COMPANY) is expected


def test_numeric_strings_compare_numerically() -> None:
    record = {"name": "10"}
    assert check("name>9", record)
    assert check("name=10.0", record)
    assert not check("name<9", record)


def test_empty_array_matches_only_negations_and_count_zero() -> None:
    record: dict[str, Any] = {"dataConnections": [], "products": []}
    assert check("dataConnections.count=0", record)
    assert not check("dataConnections.status=Linked", record)
    assert check("dataConnections.status!=Linked", record)
    assert not check("products~x", record)


def test_objects_are_not_comparable_with_text() -> None:
    assert not check("tags=UK", COMPANY)
    assert check("tags!=UK", COMPANY)
    assert not check("dataConnections>a", COMPANY)


def test_nan_never_matches() -> None:
    assert not matches(c("amount", "=", "1"), {"amount": math.nan})
    assert not matches(c("amount", ">", "1"), {"amount": math.nan})


def test_filter_records_keeps_order_and_treats_blank_as_no_filter() -> None:
    records = [{"name": "b", "amount": 1}, {"name": "a", "amount": 2}, {"name": "c", "amount": 3}]
    for blank in (None, "", "   "):
        kept = filter_records(records, blank, schema=SCHEMA, resource="Company")
        assert kept == records
        assert kept is not records
    kept = filter_records(records, "amount>=2", schema=SCHEMA, resource="Company")
    assert names(kept) == ["a", "c"]


def test_filter_records_reports_malformed_queries() -> None:
    with pytest.raises(MalformedQuery, match="Malformed query"):
        filter_records([{"name": "a"}], "name=", schema=SCHEMA, resource="Company")


# --- ordering ---------------------------------------------------------------------------------


def order(records: list[dict[str, Any]], order_by: str | None) -> list[Mapping[str, Any]]:
    return order_records(records, order_by, schema=SCHEMA, resource="Company")


def test_order_ascending_and_descending_case_insensitively() -> None:
    records = [{"name": "cherry"}, {"name": "Banana"}, {"name": "apple"}]
    assert names(order(records, "name")) == ["apple", "Banana", "cherry"]
    assert names(order(records, "-name")) == ["cherry", "Banana", "apple"]


def test_order_numbers_numerically_and_dates_as_instants() -> None:
    records = [
        {"name": "x", "amount": 10},
        {"name": "y", "amount": 9.5},
        {"name": "z", "amount": 100},
    ]
    assert names(order(records, "amount")) == ["y", "x", "z"]
    dated = [
        {"name": "late", "created": "2022-01-01T10:00:00+00:00"},
        {"name": "early", "created": "2022-01-01T10:00:00+05:00"},  # 05:00Z
        {"name": "middle", "created": "2022-01-01T07:00:00.1234567Z"},
    ]
    assert names(order(dated, "created")) == ["early", "middle", "late"]
    assert names(order(dated, "-created")) == ["late", "middle", "early"]


def test_nulls_and_missing_values_sort_last_both_ways() -> None:
    records: list[dict[str, Any]] = [
        {"name": "none", "amount": None},
        {"name": "two", "amount": 2},
        {"name": "gone"},
        {"name": "one", "amount": 1},
    ]
    assert names(order(records, "amount")) == ["one", "two", "none", "gone"]
    assert names(order(records, "-amount")) == ["two", "one", "none", "gone"]


def test_ordering_is_stable_in_both_directions() -> None:
    records = [{"name": f"r{i}", "amount": i % 2} for i in range(6)]
    assert names(order(records, "amount")) == ["r0", "r2", "r4", "r1", "r3", "r5"]
    assert names(order(records, "-amount")) == ["r1", "r3", "r5", "r0", "r2", "r4"]


def test_mixed_types_order_by_kind_without_raising() -> None:
    values: list[Any] = [{"k": 1}, "text", "2021-01-01", 3, True, None, [], 2.5, "Alpha"]
    records = [{"name": str(i), "description": v} for i, v in enumerate(values)]
    ordered = [r["description"] for r in order(records, "description")]
    assert ordered == [True, 2.5, 3, "2021-01-01", "Alpha", "text", {"k": 1}, None, []]


def test_order_by_dotted_paths() -> None:
    records = [{"name": "a", "tags": {"region": "us"}}, {"name": "b", "tags": {"region": "fr"}}]
    assert names(order(records, "tags.region")) == ["b", "a"]
    connected = [
        {"name": "a", "dataConnections": [{"status": "PendingAuth"}]},
        {"name": "b", "dataConnections": [{"status": "Linked"}]},
    ]
    assert names(order(connected, "-dataConnections.status")) == ["a", "b"]


def test_blank_order_by_keeps_input_order() -> None:
    records = [{"name": "b"}, {"name": "a"}]
    for blank in (None, "", "  "):
        ordered = order(records, blank)
        assert ordered == records
        assert ordered is not records


@pytest.mark.parametrize(("order_by", "name"), [("nope", "nope"), ("-tags.x.y", "tags.x.y")])
def test_order_by_unknown_property(order_by: str, name: str) -> None:
    with pytest.raises(MalformedQuery) as caught:
        order([{"name": "a"}], order_by)
    assert caught.value.message == (
        f"Error parsing query - Could not resolve property {name} on Company"
    )


@pytest.mark.parametrize("order_by", ["-", "a..b", "name extra", "- name", ".name"])
def test_order_by_malformed(order_by: str) -> None:
    with pytest.raises(MalformedQuery) as caught:
        order([{"name": "a"}], order_by)
    assert caught.value.message == MALFORMED


# --- properties -------------------------------------------------------------------------------

# Records and comparisons over a fixed set of paths, with values that exercise every rule.
FIELD_VALUES: dict[tuple[str, ...], list[str]] = {
    ("name",): ["a", "B", "ab", "10"],
    ("amount",): ["1", "2.5", "10", "x"],
    ("created",): ["2022-01-01", "2022-06-01T12:00:00Z", "zzz"],
    ("enabled",): ["true", "false"],
    ("tags", "region"): ["uk", "us"],
    ("dataConnections", "status"): ["Linked", "PendingAuth"],
    ("dataConnections", "count"): ["0", "1", "2"],
    ("products",): ["Commerce", "lending"],
}
RECORDS = st.lists(
    st.fixed_dictionaries(
        {},
        optional={
            "name": st.sampled_from(["a", "b", "AB", "10", None]),
            "amount": st.one_of(st.integers(-3, 12), st.floats(-5, 15), st.none()),
            "created": st.sampled_from(["2021-12-31", "2022-03-01T00:00:00Z", "2023-01-01", None]),
            "enabled": st.booleans(),
            "tags": st.dictionaries(st.just("region"), st.sampled_from(["UK", "us", "fr"])),
            "dataConnections": st.lists(
                st.fixed_dictionaries({"status": st.sampled_from(["Linked", "PendingAuth"])}),
                max_size=3,
            ),
            "products": st.lists(st.sampled_from(["commerce", "Lending", "Banking"]), max_size=2),
        },
    ),
    max_size=12,
)


@st.composite
def field_comparisons(draw: st.DrawFn) -> Comparison:
    path = draw(st.sampled_from(sorted(FIELD_VALUES)))
    return Comparison(
        path, draw(st.sampled_from(OPERATORS)), draw(st.sampled_from(FIELD_VALUES[path]))
    )


def run(records: list[dict[str, Any]], expr: Expr) -> set[int]:
    kept = filter_records(records, render(expr), schema=SCHEMA, resource="Company")
    return {id(record) for record in kept}


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(RECORDS, trees(field_comparisons()), trees(field_comparisons()))
def test_or_is_union_and_and_is_intersection(
    records: list[dict[str, Any]], left: Expr, right: Expr
) -> None:
    a, b = run(records, left), run(records, right)
    assert run(records, Or(left, right)) == a | b
    assert run(records, And(left, right)) == a & b
    # The result always keeps the input order.
    kept = filter_records(records, render(Or(left, right)), schema=SCHEMA, resource="Company")
    assert kept == [r for r in records if id(r) in a | b]


@given(RECORDS, field_comparisons())
def test_not_equal_is_the_complement_of_equal(
    records: list[dict[str, Any]], cmp: Comparison
) -> None:
    equal = run(records, Comparison(cmp.path, "=", cmp.value))
    unequal = run(records, Comparison(cmp.path, "!=", cmp.value))
    assert equal | unequal == {id(r) for r in records}
    assert not equal & unequal


@given(RECORDS, st.sampled_from(sorted(FIELD_VALUES)), st.booleans())
def test_ordering_is_a_permutation(
    records: list[dict[str, Any]], path: tuple[str, ...], descending: bool
) -> None:
    order_by = ("-" if descending else "") + ".".join(path)
    ordered = order_records(records, order_by, schema=SCHEMA, resource="Company")
    assert sorted(map(id, ordered)) == sorted(map(id, records))
