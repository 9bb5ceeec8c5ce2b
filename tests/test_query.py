"""Tests of mockserver.query's syntax: parsing (and what is malformed), rendering back to
text, checking property paths against a schema, and the round trip between the two."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockserver.errors import MalformedQuery
from mockserver.query import (
    MAX_NESTING,
    MAX_QUERY_LENGTH,
    OPERATORS,
    And,
    Comparison,
    Expr,
    Or,
    check_properties,
    filter_records,
    matches,
    parse,
    render,
    render_value,
)
from tests.query_support import MALFORMED, SCHEMA, c, trees

# --- parsing ----------------------------------------------------------------------------------


@pytest.mark.parametrize("op", OPERATORS)
def test_each_operator_parses(op: str) -> None:
    assert parse(f"amount{op}5") == c("amount", op, "5")


def test_whitespace_around_operators_and_braces_is_ignored() -> None:
    assert parse("  amount   >=  5  ") == c("amount", ">=", "5")
    assert parse("{ a = 1 }  &&  { b != 2 }") == And(c("a", "=", "1"), c("b", "!=", "2"))


def test_dotted_path_splits_into_segments() -> None:
    assert parse("dataConnections.status=PendingAuth") == c(
        "dataConnections.status", "=", "PendingAuth"
    )


def test_bare_value_keeps_inner_spaces_and_punctuation() -> None:
    assert parse("name = Codat Ltd. ") == c("name", "=", "Codat Ltd.")
    assert parse("created>2022-10-27T10:22:43Z") == c("created", ">", "2022-10-27T10:22:43Z")


def test_quoted_values_carry_operator_characters_whitespace_and_escapes() -> None:
    assert parse('name="a && b || {c} = d"') == c("name", "=", "a && b || {c} = d")
    assert parse('name=" padded "') == c("name", "=", " padded ")
    assert parse(r'name="say \"hi\" \\ back"') == c("name", "=", 'say "hi" \\ back')
    assert parse(r'name="a\b"') == c("name", "=", "a\\b")  # other escapes stay literal


def test_and_binds_tighter_than_or() -> None:
    a, b, d = c("a", "=", "1"), c("b", "=", "2"), c("d", "=", "3")
    assert parse("a=1 || b=2 && d=3") == Or(a, And(b, d))
    assert parse("a=1 && b=2 || d=3") == Or(And(a, b), d)


def test_chains_associate_left() -> None:
    a, b, d = c("a", "=", "1"), c("b", "=", "2"), c("d", "=", "3")
    assert parse("a=1&&b=2&&d=3") == And(And(a, b), d)
    assert parse("a=1||b=2||d=3") == Or(Or(a, b), d)


def test_braces_group() -> None:
    a, b, d = c("a", "=", "1"), c("b", "=", "2"), c("d", "=", "3")
    assert parse("{a=1 || b=2} && d=3") == And(Or(a, b), d)
    assert parse("a=1 && {b=2 || d=3}") == And(a, Or(b, d))
    assert parse("{{a=1}}") == a


def test_codat_documented_example_parses() -> None:
    expr = parse("{totalAmount > 100 || totalAmount < 50} && status != paid")
    assert expr == And(
        Or(c("totalAmount", ">", "100"), c("totalAmount", "<", "50")), c("status", "!=", "paid")
    )


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "name",
        "name=",
        "name=   ",
        "=value",
        "name value",
        "a b=c",
        "a=b c=d",
        "a=b=c",
        "a==b",
        "a=<b",
        "a<>b",
        "a!b",
        "a~",
        "{a=1",
        "a=1}",
        "{a=1}}",
        "{{a=1}",
        "{}",
        "a=1 && {}",
        "a=1 &&",
        "&& a=1",
        "a=1 ||",
        "|| a=1",
        "a=1 || || b=2",
        "a=1 && && b=2",
        "a=1 & b=2",
        "a=1 | b=2",
        "a=1 b=2",
        "a=1 {b=2}",
        'a=""',
        'a="unterminated',
        'a="x"y',
        'a="x" "y"',
        '"a"=b',
        "a.=b",
        ".a=b",
        "a..b=c",
        "a. b=c",
        "}",
        "{",
    ],
)
def test_malformed_input_raises_codats_message(text: str) -> None:
    with pytest.raises(MalformedQuery) as caught:
        parse(text)
    assert str(caught.value) == MALFORMED
    assert caught.value.message == MALFORMED
    assert caught.value.status == 400


def test_query_length_limit() -> None:
    longest = "name=" + "x" * (MAX_QUERY_LENGTH - 6)
    assert len(longest) == MAX_QUERY_LENGTH - 1
    assert parse(longest) == c("name", "=", "x" * (MAX_QUERY_LENGTH - 6))
    with pytest.raises(MalformedQuery):
        parse(longest + "x")


def test_nesting_limit_is_malformed_not_a_crash() -> None:
    ok = "{" * MAX_NESTING + "a=1" + "}" * MAX_NESTING
    assert parse(ok) == c("a", "=", "1")
    deep = "{" * (MAX_NESTING + 1) + "a=1" + "}" * (MAX_NESTING + 1)
    with pytest.raises(MalformedQuery):
        parse(deep)
    with pytest.raises(MalformedQuery):
        parse("{" * (MAX_QUERY_LENGTH - 1))


def test_long_chains_parse_and_evaluate_without_deep_recursion() -> None:
    text = "&&".join(["a=1"] * 400)  # about as long a chain as the length limit allows
    assert len(text) < MAX_QUERY_LENGTH
    expr = parse(text)
    assert matches(expr, {"a": 1})
    assert not matches(expr, {"a": 2})
    assert matches(parse(text.replace("&&", "||")), {"a": 1})
    assert render(expr) == text.replace("&&", " && ")


# --- rendering --------------------------------------------------------------------------------


def test_render_quotes_only_when_needed() -> None:
    assert render_value("PendingAuth") == "PendingAuth"
    assert render_value("Codat Ltd.") == "Codat Ltd."
    assert render_value("a&b") == '"a&b"'
    assert render_value(" x") == '" x"'
    assert render_value('q"\\') == '"q\\"\\\\"'


def test_render_braces_only_where_grouping_requires() -> None:
    a, b, d = c("a", "=", "1"), c("b", "=", "2"), c("d", "=", "3")
    assert render(Or(a, And(b, d))) == "a=1 || b=2 && d=3"
    assert render(And(Or(a, b), d)) == "{a=1 || b=2} && d=3"
    assert render(And(a, And(b, d))) == "a=1 && {b=2 && d=3}"
    assert render(Or(a, Or(b, d))) == "a=1 || {b=2 || d=3}"
    assert render(And(And(a, b), d)) == "a=1 && b=2 && d=3"


# --- property checks --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "name=x",  # from the first allOf branch
        "dataConnections.status=Linked",  # from the second, through array items
        "dataConnections.count=0",  # the array-length pseudo property
        "products.count>1",
        "tags.region=uk",  # any key of an open string map
        "tags.anything_at-all=x",
        "dataConnections.connectionInfo.any.depth.at.all=x",  # additionalProperties: true
        "description=x",
    ],
)
def test_known_properties_resolve(query: str) -> None:
    check_properties(parse(query), SCHEMA, "Company")


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("nope=1", "nope"),
        ("name=1 || nope.deeper=2", "nope.deeper"),
        ("dataConnections.nope=1", "dataConnections.nope"),
        ("dataConnections.count.x=1", "dataConnections.count.x"),
        ("tags.region.deeper=1", "tags.region.deeper"),
        ("name.first=1", "name.first"),
        ("Name=1", "Name"),  # property names are case-sensitive
    ],
)
def test_unknown_property_names_the_path_and_resource(query: str, name: str) -> None:
    with pytest.raises(MalformedQuery) as caught:
        check_properties(parse(query), SCHEMA, "Company")
    assert caught.value.message == (
        f"Error parsing query - Could not resolve property {name} on Company"
    )


def test_unknown_property_is_reported_even_with_no_records() -> None:
    with pytest.raises(MalformedQuery, match="Could not resolve property isCompleted on Dataset"):
        filter_records([], "isCompleted=true", schema=SCHEMA, resource="Dataset")


def test_anyof_branches_and_open_schemas_resolve() -> None:
    schema = {"anyOf": [{"properties": {"a": {"type": "string"}}}, {"properties": {"b": {}}}]}
    check_properties(parse("a=1 && b.whatever=2"), schema, "Thing")
    with pytest.raises(MalformedQuery):
        check_properties(parse("d=1"), schema, "Thing")


# --- properties -------------------------------------------------------------------------------

SEGMENT = st.text(alphabet="abcxyzABC019_-$", min_size=1, max_size=6)
PATHS = st.lists(SEGMENT, min_size=1, max_size=3).map(tuple)
COMPARISONS = st.builds(
    Comparison, PATHS, st.sampled_from(OPERATORS), st.text(min_size=1, max_size=12)
)


@given(trees(COMPARISONS))
def test_render_then_parse_round_trips(expr: Expr) -> None:
    text = render(expr)
    assert parse(text) == expr
    assert render(parse(text)) == text


@given(st.one_of(st.text(max_size=80), st.text(alphabet='ab.=!~<>&|{} "\\1-', max_size=40)))
def test_parse_only_ever_raises_malformed_query(text: str) -> None:
    try:
        expr = parse(text)
    except MalformedQuery as exc:
        assert exc.message == MALFORMED
    else:
        assert isinstance(expr, (Comparison, And, Or))
