"""The README says only true things: its serve synopsis names every flag, its control API table
every route, its curl lines send what the control API takes, its webhook walk-through works,
and the fault-rules example it points to loads and does what its comments say."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import yaml
from starlette.testclient import TestClient

from mockserver.app import create_app
from mockserver.auth import authorization_for
from mockserver.cli import build_parser, settings_from
from mockserver.faults.rules import load_rules_file
from mockserver.spec import Spec

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
EXAMPLE = ROOT / "examples" / "fault-rules.yaml"
METHODS = {"GET", "PUT", "POST", "DELETE", "PATCH"}


def section(title: str) -> str:
    start = README.index(f"## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end != -1 else None]


def serve_flags() -> set[str]:
    parser = build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            serve = action.choices["serve"]
            return {
                option
                for flag in serve._actions
                for option in flag.option_strings
                if option.startswith("--") and option != "--help"
            }
    raise AssertionError("no serve command")


def test_the_serve_synopsis_names_every_flag() -> None:
    synopsis = section("Serving").split("```")[1]
    named = set(re.findall(r"--[a-z][a-z-]*", synopsis))
    missing = sorted(serve_flags() - named)
    assert not missing, f"README.md, ## Serving: add {missing} to the serve synopsis"
    assert "codat-mock --version" in synopsis


def _shape(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path)


def table_routes() -> set[tuple[str, str]]:
    """(method, path) for every route the control API table names."""
    table = section("The control API (`/_mock`)")
    routes: set[tuple[str, str]] = set()
    for line in table.splitlines():
        if not line.startswith("| `"):
            continue
        cell = line.split(" | ")[0]
        for group in cell.split(", "):
            ticks = re.findall(r"`([^`]+)`", group)
            method, path = ticks[-1].split(" ", 1)
            for each in [*ticks[:-1], method]:
                routes.add((each, _shape(path)))
    return routes


def test_the_control_api_table_lists_every_route(client: TestClient) -> None:
    document = client.get("/_mock/openapi.json").json()
    documented = {
        (method.upper(), _shape(path))
        for path, item in document["paths"].items()
        for method in item
        if method.upper() in METHODS
    }
    listed = table_routes()
    missing = sorted(documented - listed)
    assert not missing, f"README.md, ## The control API: add {missing} to the table"
    assert listed - documented == set()
    assert ("DELETE", "/_mock/companies/{}/connections/{}") in listed
    assert ("GET", "/_mock/webhooks/deliveries") in listed


def test_the_journal_filters_are_documented() -> None:
    text = section("The control API (`/_mock`)")
    assert "`?since=` takes a time on the mock clock" in text
    assert "`?sinceSeq=N`" in text


def test_every_curl_with_a_body_says_it_is_json() -> None:
    # The control API refuses a body that is not declared JSON (415); curl's -d alone sends
    # it as a form.
    commands = re.findall(r"curl (?:[^\n]*\\\n)*[^\n]*", README)
    with_body = [c for c in commands if " -d " in c or " --json " in c]
    assert len(with_body) >= 4
    for command in with_body:
        assert "--json" in command or "content-type: application/json" in command, command


def test_the_webhook_walk_through_works(spec: Spec) -> None:
    """Its calls, as the README makes them (same bodies, same headers), in-process."""
    walk = section("Webhooks")
    assert "COMPANY=$(" in walk and "CONNECTION=$(" in walk
    app = create_app(spec=spec)
    auth = {"Authorization": authorization_for("my-api-key")}
    json_type = {"content-type": "application/json"}
    with TestClient(app) as client:
        client.post("/_mock/webhooks", json={"url": "http://127.0.0.1:9000/codat"})
        company = client.post(
            "/companies", content=b'{"name": "Harbour Bakery"}', headers=auth | json_type
        ).json()["id"]
        connection = client.post(
            f"/companies/{company}/connections",
            content=b'{"platformKey": "gbol"}',
            headers=auth | json_type,
        ).json()["id"]
        deleted = client.delete(f"/_mock/companies/{company}/connections/{connection}")
        assert deleted.status_code == 200, deleted.text
        moved = client.post("/_mock/clock", content=b'{"advance": 300}', headers=json_type)
        assert moved.status_code == 200, moved.text
        events = [m["eventType"] for m in client.get("/_mock/webhooks/messages").json()["messages"]]
        assert events == ["connection.created", "connection.deleted"]


def test_the_fault_rules_example_loads_both_ways() -> None:
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    assert isinstance(data, dict) and isinstance(data["rules"], list)
    rules = load_rules_file(EXAMPLE)
    assert [rule.id for rule in rules] == [item["id"] for item in data["rules"]]
    # The list form reads the same.
    as_list = EXAMPLE.parent / "as-list.yaml"
    try:
        as_list.write_text(yaml.safe_dump(data["rules"]), encoding="utf-8")
        assert load_rules_file(as_list) == rules
    finally:
        as_list.unlink()
    assert "examples/fault-rules.yaml" in section("Chaos testing")


def test_the_fault_rules_example_does_what_it_says(spec: Spec) -> None:
    args = build_parser().parse_args(["serve", "--faults", str(EXAMPLE)])
    app = create_app(settings_from(args), spec=spec)
    auth = {"Authorization": authorization_for("someone-else")}
    with TestClient(app, headers=auth) as client:
        throttled = [client.get("/companies") for _ in range(3)]
        assert [r.status_code for r in throttled] == [429, 429, 200]
        assert throttled[0].headers["retry-after"] == "1"
        assert throttled[0].json()["error"] == "Rate limit exceeded"
        lost = client.post("/companies", json={"name": "Lost"})
        assert lost.status_code == 503
        names = [c["name"] for c in client.get("/companies").json()["results"]]
        assert names == ["Lost"]  # created all the same: the rule fired after the handler
