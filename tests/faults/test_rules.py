"""Unit tests of mockserver/faults/rules.py: what a fault rule may say, and the three ways to
say it (JSON-like data, the CLI's compact string, a YAML or JSON file)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver.auth import client_id_for
from mockserver.faults.rules import (
    FaultRule,
    FaultRuleError,
    load_rules_file,
    parse_fault_string,
    rule_from,
)


def rule_error(data: Any) -> str:
    """The message of the FaultRuleError that ``data`` must raise."""
    with pytest.raises(FaultRuleError) as caught:
        rule_from(data)
    return str(caught.value)


# -- coherence rules ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"operationId": "list-companies"},
        {"operationId": "list-companies", "times": 2, "when": "after"},
        {"retryAfter": 1},
    ],
)
def test_a_rule_needs_an_action(data: dict[str, Any]) -> None:
    message = rule_error(data)
    assert "needs an action: status, drop, shape, latencyMs or latency" in message


@pytest.mark.parametrize("drop", ["reset", "empty", "truncate", "hang"])
def test_status_and_drop_exclude_each_other(drop: str) -> None:
    assert "status and drop exclude each other" in rule_error({"status": 503, "drop": drop})


@pytest.mark.parametrize(
    "data",
    [
        {"drop": "reset", "retryAfter": 1},
        {"latencyMs": 5, "retryAfter": 1},
        {"latency": {"min": 1, "max": 2}, "retryAfter": 0},
    ],
)
def test_retry_after_needs_a_status(data: dict[str, Any]) -> None:
    assert "retryAfter goes with a status" in rule_error(data)


def test_latency_ms_and_latency_exclude_each_other() -> None:
    message = rule_error({"latencyMs": 5, "latency": {"min": 1, "max": 2}})
    assert "latencyMs or latency, not both" in message


def test_api_key_and_client_id_exclude_each_other() -> None:
    message = rule_error({"status": 503, "apiKey": "k", "clientId": client_id_for("k")})
    assert "apiKey or clientId, not both" in message


@pytest.mark.parametrize(
    "data",
    [
        {"status": 503, "retryAfter": 0},
        {"status": 503, "latencyMs": 10},
        {"drop": "truncate", "latency": {"median": 20, "sigma": 0.5}},
        {"latencyMs": 0},
        {"latency": {"min": 0, "max": 0}},
        {"drop": "hang", "apiKey": "k"},
        {"status": 500, "clientId": "ABC"},
    ],
)
def test_coherent_combinations_are_accepted(data: dict[str, Any]) -> None:
    assert rule_from(data).model_dump(exclude_none=True, exclude={"operationId", "when"}) == data


# -- ranges, types and unknown fields ----------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("status", 99),
        ("status", 600),
        ("status", "teapot"),
        ("retryAfter", -1),
        ("retryAfter", "soon"),
        ("latencyMs", -0.5),
        ("times", 0),
        ("times", 1.5),
        ("every", 0),
        ("after", -1),
        ("probability", -0.01),
        ("probability", 1.01),
        ("seed", "lucky"),
        ("id", ""),
        ("id", "x" * 101),
        ("drop", "explode"),
        ("when", "during"),
        ("method", 5),
        ("retryAfter", 1e308),
        ("retryAfter", 31_536_001),
        ("message", "m" * 1001),
        ("path", "/" * 2049),
        ("operationId", "o" * 101),
        ("clientId", "c" * 256),
    ],
)
def test_out_of_range_or_mistyped_fields_are_named(field: str, value: Any) -> None:
    message = rule_error({"status": 503, field: value} if field != "status" else {field: value})
    assert message.startswith(f"{field}: "), message


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("status", 100),
        ("status", 599),
        ("retryAfter", 0),
        ("times", 1),
        ("every", 1),
        ("after", 0),
        ("probability", 0),
        ("probability", 1),
        ("seed", -3),
        ("id", "x" * 100),
        ("retryAfter", 31_536_000),
        ("message", "m" * 1000),
    ],
)
def test_boundary_values_are_accepted(field: str, value: Any) -> None:
    data = {"status": 503, field: value} if field != "status" else {field: value}
    assert getattr(rule_from(data), field) == value


def test_unknown_fields_are_refused_by_name() -> None:
    assert rule_error({"status": 503, "colour": "red"}) == (
        "colour: Extra inputs are not permitted"
    )


def test_every_problem_is_named_at_once() -> None:
    message = rule_error({"status": 600, "times": 0, "colour": "red"})
    named = [part.split(":", 1)[0] for part in message.split("; ")]
    assert sorted(named) == ["colour", "status", "times"]


def test_a_rule_must_be_an_object() -> None:
    assert rule_error("list-companies:503").startswith("rule: ")
    assert rule_error([{"status": 503}]).startswith("rule: ")


def test_fault_rule_error_is_a_value_error() -> None:
    assert issubclass(FaultRuleError, ValueError)


# -- latency distributions ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("latency", "fragment"),
    [
        ({}, "either {min, max} or {median, sigma}"),
        ({"min": 1, "max": 2, "median": 3, "sigma": 1}, "either {min, max} or {median, sigma}"),
        ({"min": 1, "sigma": 1}, "either {min, max} or {median, sigma}"),
        ({"min": 5, "max": 1}, "min <= max"),
        ({"min": 5}, "min <= max"),
        ({"max": 5}, "min <= max"),
        ({"median": 5}, "both median and sigma"),
        ({"sigma": 0.5}, "both median and sigma"),
    ],
)
def test_latency_takes_one_whole_distribution(latency: dict[str, Any], fragment: str) -> None:
    message = rule_error({"latency": latency})
    assert message.startswith("latency: "), message
    assert fragment in message


@pytest.mark.parametrize(
    ("latency", "where"),
    [
        ({"min": -1, "max": 2}, "latency.min"),
        ({"min": 1, "max": -2}, "latency.max"),
        ({"median": 0, "sigma": 1}, "latency.median"),
        ({"median": 5, "sigma": -1}, "latency.sigma"),
        ({"min": 1, "max": 2, "mean": 1}, "latency.mean"),
    ],
)
def test_latency_fields_are_named_with_their_path(latency: dict[str, Any], where: str) -> None:
    assert rule_error({"latency": latency}).startswith(f"{where}: ")


# -- derived properties ------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "Post", "DELETE"])
def test_method_is_upper_cased(method: str) -> None:
    assert rule_from({"status": 503, "method": method}).method == method.upper()


@pytest.mark.parametrize(
    ("data", "action", "delays"),
    [
        ({"status": 503}, "status", False),
        ({"status": 503, "latencyMs": 5}, "status", True),
        ({"drop": "reset"}, "drop:reset", False),
        ({"drop": "hang", "latency": {"min": 1, "max": 2}}, "drop:hang", True),
        ({"latencyMs": 5}, "latency", True),
        ({"latency": {"median": 5, "sigma": 1}}, "latency", True),
    ],
)
def test_action_and_delays(data: dict[str, Any], action: str, delays: bool) -> None:
    rule = rule_from(data)
    assert rule.action == action
    assert rule.delays is delays


def test_defaults() -> None:
    rule = rule_from({"status": 503})
    assert (rule.operationId, rule.when, rule.id) == ("*", "before", None)


def test_client_filter_goes_through_the_client_id() -> None:
    assert rule_from({"status": 503}).client_filter is None
    assert rule_from({"status": 503, "apiKey": "secret"}).client_filter == client_id_for("secret")
    upper = client_id_for("secret").upper()
    assert rule_from({"status": 503, "clientId": upper}).client_filter == client_id_for("secret")


def test_public_masks_the_api_key_and_omits_unset_fields() -> None:
    rule = rule_from({"operationId": "list-companies", "status": 429, "apiKey": "secret"})
    assert rule.public() == {
        "operationId": "list-companies",
        "status": 429,
        "apiKey": "********",
        "when": "before",
    }
    assert "secret" not in repr(rule)
    assert rule.apiKey == "secret"  # the rule itself still matches on the real key


def test_public_without_an_api_key_has_no_api_key() -> None:
    assert "apiKey" not in rule_from({"status": 429, "clientId": "c"}).public()


# -- the CLI form ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "list-companies:429:times=2,retryAfter=1",
            {"operationId": "list-companies", "status": 429, "times": 2, "retryAfter": 1.0},
        ),
        (
            "create-company:503:when=after,times=1",
            {"operationId": "create-company", "status": 503, "when": "after", "times": 1},
        ),
        (
            "*:drop=reset:probability=0.1,seed=7",
            {"operationId": "*", "drop": "reset", "probability": 0.1, "seed": 7},
        ),
        ("get-sync-status:latencyMs=250", {"operationId": "get-sync-status", "latencyMs": 250}),
        (
            "*:500:method=post,path=/companies/*",
            {"operationId": "*", "status": 500, "method": "POST", "path": "/companies/*"},
        ),
        (
            " list-companies : 503 : times = 2 , after = 1 ",
            {"operationId": "list-companies", "status": 503, "times": 2, "after": 1},
        ),
        ("x::503:", {"operationId": "x", "status": 503}),
        (
            "x:every=2:503:id=flaky,message=down",
            {"operationId": "x", "status": 503, "every": 2, "id": "flaky", "message": "down"},
        ),
        ("x:status=502,retryAfter=0.25", {"operationId": "x", "status": 502, "retryAfter": 0.25}),
        (
            "x:drop=hang,seed=-4,probability=1",
            {"operationId": "x", "drop": "hang", "seed": -4, "probability": 1.0},
        ),
    ],
)
def test_parse_fault_string(text: str, expected: dict[str, Any]) -> None:
    rule = parse_fault_string(text)
    assert rule.model_dump(exclude_none=True) == {"when": "before", **expected}


def test_parse_fault_string_gives_numbers_their_types() -> None:
    rule = parse_fault_string("x:503:times=2,every=3,after=1,seed=9,retryAfter=2,probability=1")
    assert [type(getattr(rule, k)) for k in ("status", "times", "every", "after", "seed")] == [
        int
    ] * 5
    assert isinstance(rule.retryAfter, float)
    assert isinstance(rule.probability, float)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "start with an operationId or *"),
        (":503", "start with an operationId or *"),
        ("x:abc", "expected key=value, got 'abc'"),
        ("x:503:times=2,oops", "expected key=value, got 'oops'"),
        ("x:=5", "expected key=value, got '=5'"),
        ("x:503:times=two", "times must be a number, not 'two'"),
        ("x:503:retryAfter=soon", "retryAfter must be a number, not 'soon'"),
        ("x:503:probability=high", "probability must be a number, not 'high'"),
        ("x:status=abc", "status must be a number, not 'abc'"),
        ("x:503:colour=red", "colour: Extra inputs are not permitted"),
        ("x:999", "status: "),
        ("x:503:drop=reset", "status and drop exclude each other"),
        ("x", "needs an action"),
        ("x:drop=reset:retryAfter=1", "retryAfter goes with a status"),
        ("x:503:when=later", "when: "),
    ],
)
def test_parse_fault_string_errors_quote_the_text(text: str, fragment: str) -> None:
    with pytest.raises(FaultRuleError) as caught:
        parse_fault_string(text)
    message = str(caught.value)
    assert message.startswith(f"{text!r}: "), message
    assert fragment in message


def test_a_non_ascii_digit_is_a_fault_rule_error() -> None:
    with pytest.raises(FaultRuleError):
        parse_fault_string("list-companies:5²")


# -- files -------------------------------------------------------------------------------------

YAML_LIST = """\
- operationId: list-companies
  status: 429
  retryAfter: 1
  times: 2
- operationId: create-company
  status: 503
  when: after
"""


def test_load_a_yaml_list(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(YAML_LIST, encoding="utf-8")
    assert load_rules_file(path) == [
        parse_fault_string("list-companies:429:retryAfter=1,times=2"),
        parse_fault_string("create-company:503:when=after"),
    ]


def test_load_a_rules_mapping(tmp_path: Path) -> None:
    path = tmp_path / "rules.yml"
    path.write_text("rules:\n" + "".join("  " + line + "\n" for line in YAML_LIST.splitlines()))
    rules = load_rules_file(path)
    assert [rule.operationId for rule in rules] == ["list-companies", "create-company"]


def test_load_json(tmp_path: Path) -> None:
    path = tmp_path / "rules.json"
    path.write_text(json.dumps({"rules": [{"drop": "reset", "probability": 0.5, "seed": 3}]}))
    assert load_rules_file(path) == [rule_from({"drop": "reset", "probability": 0.5, "seed": 3})]


def test_an_empty_list_is_no_rules(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text("[]\n")
    assert load_rules_file(path) == []


@pytest.mark.parametrize(
    "text", ["", "status: 503\n", "just a string\n", "rules: 5\n", "{rules: {status: 503}}\n"]
)
def test_a_file_that_is_not_a_list_of_rules(tmp_path: Path, text: str) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(text)
    with pytest.raises(FaultRuleError) as caught:
        load_rules_file(path)
    assert str(caught.value) == f"{path}: expected a list of rules (or a mapping with 'rules')"


def test_bad_yaml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text("- status: [503\n")
    with pytest.raises(FaultRuleError) as caught:
        load_rules_file(path)
    assert str(caught.value).startswith(f"{path}: ")


def test_a_missing_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.yaml"
    with pytest.raises(FaultRuleError) as caught:
        load_rules_file(path)
    assert str(caught.value).startswith(f"{path}: ")


def test_a_bad_item_names_its_index_and_field(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text("- status: 503\n- status: 503\n  times: 0\n- status: 700\n")
    with pytest.raises(FaultRuleError) as caught:
        load_rules_file(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: rules[1]: times: "), message
    assert "rules[2]" not in message


def test_cli_yaml_and_api_forms_agree(tmp_path: Path) -> None:
    data = {"operationId": "list-companies", "status": 429, "retryAfter": 1, "times": 2}
    path = tmp_path / "rules.yaml"
    path.write_text("- operationId: list-companies\n  status: 429\n  retryAfter: 1\n  times: 2\n")
    from_cli = parse_fault_string("list-companies:429:times=2,retryAfter=1")
    assert load_rules_file(path) == [from_cli] == [rule_from(data)]


# -- round trips -------------------------------------------------------------------------------

_names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=20)
_ms = st.floats(min_value=0, max_value=10_000, allow_nan=False, allow_infinity=False)


@st.composite
def valid_rules(draw: st.DrawFn) -> FaultRule:
    """Any rule the model accepts: one action (with or without a delay), any match, any
    schedule."""
    data: dict[str, Any] = {}
    action = draw(st.sampled_from(["status", "drop", "delay"]))
    if action == "status":
        data["status"] = draw(st.integers(100, 599))
        if draw(st.booleans()):
            data["retryAfter"] = draw(_ms)
    elif action == "drop":
        data["drop"] = draw(st.sampled_from(["reset", "empty", "truncate", "hang"]))
    delay = draw(st.sampled_from(["none", "fixed", "uniform", "lognormal"]))
    if action == "delay" and delay == "none":
        delay = "fixed"
    if delay == "fixed":
        data["latencyMs"] = draw(_ms)
    elif delay == "uniform":
        low, high = sorted((draw(_ms), draw(_ms)))
        data["latency"] = {"min": low, "max": high}
    elif delay == "lognormal":
        median = draw(st.floats(min_value=0.001, max_value=10_000, allow_nan=False))
        sigma = draw(st.floats(min_value=0, max_value=3, allow_nan=False))
        data["latency"] = {"median": median, "sigma": sigma}
    optional = {
        "id": st.text(min_size=1, max_size=100),
        "operationId": st.one_of(st.just("*"), _names),
        "method": st.sampled_from(["get", "POST", "Put", "patch", "DELETE"]),
        "path": st.text(max_size=30),
        "message": st.text(max_size=30),
        "times": st.integers(1, 100),
        "every": st.integers(1, 100),
        "after": st.integers(0, 100),
        "probability": st.floats(min_value=0, max_value=1, allow_nan=False),
        "seed": st.integers(-(2**40), 2**40),
        "when": st.sampled_from(["before", "after"]),
    }
    for key, strategy in optional.items():
        if draw(st.booleans()):
            data[key] = draw(strategy)
    caller = draw(st.sampled_from(["none", "apiKey", "clientId"]))
    if caller != "none":
        data[caller] = draw(st.text(min_size=1, max_size=20))
    return rule_from(data)


@settings(max_examples=200)
@given(valid_rules())
def test_a_dumped_rule_reads_back_as_itself(rule: FaultRule) -> None:
    assert rule_from(rule.model_dump(exclude_none=True, mode="json")) == rule


@settings(max_examples=200)
@given(valid_rules())
def test_a_rule_survives_json_and_yaml_text(rule: FaultRule) -> None:
    import yaml

    dumped = rule.model_dump(exclude_none=True, mode="json")
    assert rule_from(json.loads(json.dumps(dumped))) == rule
    assert rule_from(yaml.safe_load(yaml.safe_dump(dumped))) == rule


_CLI_FIELDS = ("times", "every", "after", "seed", "probability", "retryAfter", "latencyMs")


@settings(max_examples=200)
@given(valid_rules())
def test_the_cli_form_of_a_simple_rule_reads_back_as_itself(rule: FaultRule) -> None:
    # The compact form has no nesting and no escaping: only rules made of names, numbers
    # and the plain keywords can be written in it.
    unwritable = (rule.latency, rule.apiKey, rule.clientId, rule.path, rule.message)
    if any(value is not None for value in unwritable):
        return
    if rule.id is not None and not rule.id.isalnum():
        return
    pairs = [f"{key}={getattr(rule, key)}" for key in _CLI_FIELDS if getattr(rule, key) is not None]
    for key in ("id", "method", "drop", "when"):
        if getattr(rule, key) is not None:
            pairs.append(f"{key}={getattr(rule, key)}")
    status = f":{rule.status}" if rule.status is not None else ""
    text = f"{rule.operationId}{status}:{','.join(pairs)}"
    assert parse_fault_string(text) == rule
