"""``codat-mock check-client`` and ``serve --responses``: the verdict per shape, in-process.

The client's command is stood in for by a runner that talks HTTP to the mock it is given, so
these tests start no process; the TypeScript SDK runs it for real in tests/typescript.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Sequence

import httpx
import pytest

from mockserver.auth import authorization_for
from mockserver.check_client import (
    BASE_URL_VARIABLE,
    MOCK_URL_VARIABLE,
    CommandCannotStart,
    ShapeRun,
    check_client,
    format_runs,
)
from mockserver.cli import build_parser, main, settings_from
from mockserver.render import ShapeError

AUTH = {"Authorization": authorization_for("check-client-key")}
#: A program that exists (check-client looks the command up before it starts any mock).
CLIENT = sys.executable


def fussy_client(command: Sequence[str], env: dict[str, str]) -> int:
    """A client that cannot take a null ``lastSync`` and sends one off-contract request."""
    assert env[BASE_URL_VARIABLE] == env[MOCK_URL_VARIABLE]
    with httpx.Client(base_url=env[BASE_URL_VARIABLE], headers=AUTH, trust_env=False) as http:
        company = http.post("/companies", json={"name": "Fussy Ltd"}).json()
        http.post("/companies", json={"name": 7})  # off-contract: the name is no string
        listed = http.get("/companies").json()["results"]
    takes_it = all(c.get("lastSync", "") is not None for c in [company, *listed])
    return 0 if takes_it and list(command) == [CLIENT, "--all"] else 1


def test_each_shape_gets_a_fresh_mock_and_a_verdict() -> None:
    out = io.StringIO()
    runs = check_client([CLIENT, "--all"], ["codat", "nulls"], runner=fussy_client, out=out)
    assert [(r.shape, r.exit_status) for r in runs] == [("codat", 0), ("nulls", 1)]
    for run in runs:
        # A fresh mock each time: the company created in the first run is not in the second.
        assert run.operations == ["create-company", "list-companies"]
        assert run.violations == ['POST /companies: body.name: 7 is not of type "string"']
        assert not run.passed
    assert out.getvalue().count("== codat-mock check-client: shape") == 2


def test_the_table_gives_exit_status_operations_and_off_contract_requests() -> None:
    runs = [
        ShapeRun("codat", 0, ["list-companies"]),
        ShapeRun("nulls", 1, ["list-companies", "create-company"], ["POST /companies: x: bad"]),
    ]
    text = format_runs(runs)
    lines = text.splitlines()
    assert lines[0].split() == ["shape", "exit", "operations", "off-contract", "verdict"]
    assert lines[2].split() == ["codat", "0", "1", "0", "pass"]
    assert lines[3].split() == ["nulls", "1", "2", "1", "FAIL"]
    assert "nulls: operations called: list-companies, create-company" in lines
    assert "nulls: off-contract: POST /companies: x: bad" in lines


def test_a_command_that_cannot_start_is_said_before_any_mock_starts() -> None:
    def never(command: Sequence[str], env: dict[str, str]) -> int:
        raise AssertionError("no command may run")

    with pytest.raises(CommandCannotStart, match="no-such-command-here"):
        check_client(["no-such-command-here"], ["codat"], runner=never)
    with pytest.raises(ShapeError):
        check_client(["python3"], ["flat"], runner=never)


# -- the command line --------------------------------------------------------------------------


def test_cli_without_a_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["check-client", "--shapes", "codat"])
    assert exited.value.code == 2
    assert "check-client needs a command to run" in capsys.readouterr().err


def test_cli_with_an_unknown_shape_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["check-client", "--shapes", "codat,flat", "--", "true"])
    assert exited.value.code == 2
    assert "--shapes takes some of codat, nulls, extra" in capsys.readouterr().err


def test_cli_command_that_cannot_start_is_one_line_and_status_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["check-client", "--", "/no/such/client-tests"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        "codat-mock: cannot start '/no/such/client-tests': not found or not executable"
    ]


def test_serve_responses_flag() -> None:
    parse = build_parser().parse_args
    assert settings_from(parse(["serve"])).responses == "codat"
    assert settings_from(parse(["serve", "--responses", "nulls"])).responses == "nulls"
    with pytest.raises(SystemExit):
        parse(["serve", "--responses", "flat"])
