"""The three ways to write a fault rule (CLI string, YAML file, JSON to the control API) load
the same rules, and ``codat-mock serve``'s options build a server that enforces them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from mockserver import cli
from mockserver.auth import authorization_for
from mockserver.clock import Clock
from mockserver.faults.ratelimit import RateLimitConfig
from mockserver.faults.rules import (
    FaultRule,
    FaultRuleError,
    load_rules_file,
    parse_fault_string,
    rule_from,
)
from mockserver.server import MockServer
from mockserver.settings import Settings
from tests.chaos.test_sdk import API_KEY, SEED, add_fault, control, journal
from tests.conftest import T0

AUTH = {"Authorization": authorization_for(API_KEY)}

#: Each rule in the CLI's compact form and as JSON (which the YAML file also holds).
FORMS: list[tuple[str, dict[str, Any]]] = [
    (
        "list-companies:429:times=2,retryAfter=1",
        {"operationId": "list-companies", "status": 429, "times": 2, "retryAfter": 1},
    ),
    (
        "create-company:503:when=after,times=1",
        {"operationId": "create-company", "status": 503, "when": "after", "times": 1},
    ),
    (
        "*:drop=reset:probability=0.1,seed=7",
        {"operationId": "*", "drop": "reset", "probability": 0.1, "seed": 7},
    ),
    (
        "list-integrations:latencyMs=25,every=2,after=1,method=get",
        {
            "operationId": "list-integrations",
            "latencyMs": 25,
            "every": 2,
            "after": 1,
            "method": "get",
        },
    ),
    (
        "*:500:path=/companies/*/sync/*,clientId=ABC,id=sync-500,message=Boom",
        {
            "operationId": "*",
            "status": 500,
            "path": "/companies/*/sync/*",
            "clientId": "ABC",
            "id": "sync-500",
            "message": "Boom",
        },
    ),
    (
        "get-sync-status:drop=hang:apiKey=secret-key",
        {"operationId": "get-sync-status", "drop": "hang", "apiKey": "secret-key"},
    ),
]
CLI_FORMS = [text for text, _ in FORMS]
JSON_FORMS = [data for _, data in FORMS]


def dumped(rules: list[FaultRule]) -> list[dict[str, Any]]:
    return [rule.model_dump() for rule in rules]


@pytest.fixture
def rules_file(tmp_path: Path) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump({"rules": JSON_FORMS}, sort_keys=False), encoding="utf-8")
    return path


def test_cli_yaml_and_json_forms_are_the_same_rules(rules_file: Path, tmp_path: Path) -> None:
    from_cli = [parse_fault_string(text) for text in CLI_FORMS]
    from_yaml = load_rules_file(rules_file)
    from_json = [rule_from(data) for data in JSON_FORMS]
    assert dumped(from_cli) == dumped(from_yaml) == dumped(from_json)
    # A bare list works as well as a mapping with 'rules'.
    bare = tmp_path / "bare.yml"
    bare.write_text(yaml.safe_dump(JSON_FORMS), encoding="utf-8")
    assert dumped(load_rules_file(bare)) == dumped(from_json)
    # Spot checks that the parse is not merely equal but right.
    assert from_cli[0].retryAfter == 1.0
    assert from_cli[1].when == "after"
    assert from_cli[3].method == "GET"
    assert from_cli[4].client_filter == "abc"


def test_the_served_rules_match_the_rules_posted_to_the_api(rules_file: Path) -> None:
    args = cli.build_parser().parse_args(
        [
            "serve",
            "--port",
            "0",
            "--seed",
            "5",
            "--fault",
            CLI_FORMS[0],
            "--fault",
            CLI_FORMS[1],
            "--faults",
            str(rules_file),
            "--rate-limit",
            "dailyBase=2",
        ]
    )
    settings = cli.settings_from(args)
    assert settings.seed == 5
    assert settings.rate_limit == RateLimitConfig(enabled=True, daily_base=2)
    assert dumped(settings.fault_rules) == dumped(
        [rule_from(data) for data in [*JSON_FORMS[:2], *JSON_FORMS]]
    )

    with MockServer(settings, clock=Clock(frozen_at=T0)) as served, control(served) as served_ctl:
        from_cli = served_ctl.get("/_mock/faults").json()["rules"]
        assert served_ctl.get("/_mock/rate-limit").json()["dailyBase"] == 2
        # The limit is in force: two calls a day for a client without companies.
        assert served_ctl.delete("/_mock/faults").status_code == 200
        codes = [served_ctl.get("/companies", headers=AUTH).status_code for _ in range(3)]
        assert codes == [200, 200, 429]

    with (
        MockServer(Settings(port=0, strict=True, seed=SEED), clock=Clock(frozen_at=T0)) as posted,
        control(posted) as posted_ctl,
    ):
        answer = posted_ctl.post(
            "/_mock/faults",
            json=[data for data in [*JSON_FORMS[:2], *JSON_FORMS] if "id" not in data],
        )
        assert answer.status_code == 200
        # The 'sync-500' id may only be used once per server: post it on its own.
        add_fault(posted_ctl, **JSON_FORMS[4])
        from_api = posted_ctl.get("/_mock/faults").json()["rules"]

    def without_ids(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return sorted(({k: v for k, v in rule.items() if k != "id"} for rule in rules), key=repr)

    assert without_ids(from_cli) == without_ids(from_api)
    assert len(from_cli) == len(FORMS) + 2
    # The API key never comes back.
    assert {rule.get("apiKey") for rule in from_cli} == {None, "********"}


def test_a_cli_rule_fires_like_a_posted_one() -> None:
    args = cli.build_parser().parse_args(
        ["serve", "--port", "0", "--fault", "list-companies:429:times=2,retryAfter=1"]
    )
    with (
        MockServer(cli.settings_from(args), clock=Clock(frozen_at=T0)) as served,
        control(served) as ctl,
    ):
        codes = [ctl.get("/companies", headers=AUTH).status_code for _ in range(3)]
        assert codes == [429, 429, 200]
        entries = journal(ctl, 3)
        assert [e["retryAfter"] for e in entries] == ["1", "1", None]
        (rule,) = ctl.get("/_mock/faults").json()["rules"]
        assert (rule["fired"], rule["retired"]) == (2, True)


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("list-companies:429:times=two", "times"),
        ("list-companies:429:times", "times"),
        (":429", "operationId"),
        ("list-companies:drop=explode", "drop"),
        ("list-companies:429:colour=red", "colour"),
    ],
)
def test_a_bad_cli_rule_is_refused_naming_the_problem(text: str, named: str) -> None:
    with pytest.raises(FaultRuleError, match=named):
        parse_fault_string(text)
    args = cli.build_parser().parse_args(["serve", "--fault", text])
    with pytest.raises(FaultRuleError):
        cli.settings_from(args)


def test_a_bad_rules_file_names_the_rule(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("- {operationId: list-companies, status: 429}\n- {drop: later}\n", "utf-8")
    with pytest.raises(FaultRuleError, match=r"rules\[1\].*drop"):
        load_rules_file(path)
    path.write_text("operationId: list-companies\n", encoding="utf-8")
    with pytest.raises(FaultRuleError, match="list of rules"):
        load_rules_file(path)


def test_serve_without_options_has_no_rules_and_no_limits() -> None:
    settings = cli.settings_from(cli.build_parser().parse_args(["serve"]))
    assert settings.fault_rules == []
    assert settings.rate_limit == RateLimitConfig()
    assert settings.rate_limit.enabled is False
    assert httpx.URL(f"http://{settings.host}:{settings.port}").host == "127.0.0.1"
