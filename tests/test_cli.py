"""Tests of mockserver/cli.py: the ``serve`` command line turned into settings (the server is
never started: uvicorn.run is replaced), its refusals, and ``report`` against a running mock."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from mockserver.auth import authorization_for
from mockserver.cli import build_parser, main, parse_args, settings_from
from mockserver.control_guard import TOKEN_ENV
from mockserver.faults.ratelimit import RateLimitConfig, RateLimitConfigError
from mockserver.faults.rules import FaultRuleError, parse_fault_string, rule_from
from mockserver.report import format_report
from mockserver.server import MockServer
from mockserver.settings import Settings


def serve(*flags: str) -> Settings:
    return settings_from(build_parser().parse_args(["serve", *flags]))


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, dict[str, Any]]]:
    """Stand in for uvicorn's server: record what it was asked to serve, serve nothing."""
    calls: list[tuple[Any, dict[str, Any]]] = []

    def fake_run(server: uvicorn.Server, sockets: list[socket.socket]) -> None:
        config = server.config
        (sock,) = sockets
        options = {
            "address": sock.getsockname(),
            "log_level": config.log_level,
            "access_log": config.access_log,
            "timeout_graceful_shutdown": config.timeout_graceful_shutdown,
        }
        calls.append((config.app, options))

    monkeypatch.setattr(uvicorn.Server, "run", fake_run)
    return calls


# -- parsing -----------------------------------------------------------------------------------


def test_serve_defaults() -> None:
    args = build_parser().parse_args(["serve"])
    assert (args.host, args.port, args.seed, args.strict) == ("127.0.0.1", 4010, 0, False)
    assert (args.sync_duration, args.fault, args.faults, args.rate_limit) == (30.0, [], None, None)
    assert (args.fixtures, args.log_level) == (None, "info")
    settings = settings_from(args)
    assert settings == Settings()


def test_serve_with_every_flag(tmp_path: Path) -> None:
    rules_file = tmp_path / "rules.yaml"
    rules_file.write_text("- operationId: get-sync-status\n  drop: hang\n")
    settings = serve(
        "--host",
        "127.0.0.2",
        "--port",
        "5123",
        "--fixtures",
        str(tmp_path),
        "--seed",
        "42",
        "--strict",
        "--sync-duration",
        "2.5",
        "--fault",
        "list-companies:429:times=2,retryAfter=1",
        "--fault",
        "create-company:503:when=after",
        "--faults",
        str(rules_file),
        "--rate-limit",
        "dailyBase=2,perCompanyConcurrency=1,perIpPerMinute=5",
    )
    assert (settings.host, settings.port, settings.seed, settings.strict) == (
        "127.0.0.2",
        5123,
        42,
        True,
    )
    assert settings.fixtures_overlay == tmp_path
    assert settings.fixtures is None  # the built-in seed data stays underneath
    assert settings.sync_duration == 2.5
    assert settings.fault_rules == [
        parse_fault_string("list-companies:429:times=2,retryAfter=1"),
        parse_fault_string("create-company:503:when=after"),
        rule_from({"operationId": "get-sync-status", "drop": "hang"}),
    ]
    assert settings.rate_limit == RateLimitConfig(
        enabled=True, daily_base=2, per_company_concurrency=1, per_ip_per_minute=5
    )


def test_rate_limit_without_a_value_means_codats_numbers() -> None:
    assert serve("--rate-limit").rate_limit == RateLimitConfig(enabled=True)
    assert serve("--rate-limit", "--seed", "3").rate_limit == RateLimitConfig(enabled=True)
    assert serve().rate_limit == RateLimitConfig(enabled=False)


def test_rate_limit_can_be_given_and_switched_off() -> None:
    assert serve("--rate-limit=dailyBase=7").rate_limit == RateLimitConfig(
        enabled=True, daily_base=7
    )
    assert serve("--rate-limit", "enabled=false").rate_limit.enabled is False


def test_cli_and_file_rules_load_the_same_as_the_api(tmp_path: Path) -> None:
    data = {"operationId": "list-companies", "status": 429, "retryAfter": 1, "times": 2}
    rules_file = tmp_path / "rules.json"
    rules_file.write_text(json.dumps({"rules": [data]}))
    from_flag = serve("--fault", "list-companies:429:times=2,retryAfter=1").fault_rules
    from_file = serve("--faults", str(rules_file)).fault_rules
    assert from_flag == from_file == [rule_from(data)]


@pytest.mark.parametrize(
    ("flags", "error", "fragment"),
    [
        (["--fault", "list-companies:teapot"], FaultRuleError, "expected key=value"),
        (["--fault", "list-companies:999"], FaultRuleError, "status: "),
        (["--fault", "ok:503", "--fault", "x"], FaultRuleError, "'x': "),
        (["--rate-limit", "dailyBase=lots"], RateLimitConfigError, "dailyBase must be an integer"),
        (["--rate-limit", "perMonth=5"], RateLimitConfigError, "unknown key(s) perMonth"),
    ],
)
def test_settings_from_refuses_bad_rules_and_limits(
    flags: list[str], error: type[Exception], fragment: str
) -> None:
    with pytest.raises(error) as caught:
        serve(*flags)
    assert fragment in str(caught.value)


def test_settings_from_refuses_a_bad_rules_file(tmp_path: Path) -> None:
    rules_file = tmp_path / "rules.yaml"
    rules_file.write_text("- status: 503\n- status: 503\n  drop: reset\n")
    with pytest.raises(FaultRuleError, match=r"rules\[1\]: .*status and drop"):
        serve("--faults", str(rules_file))


@pytest.mark.parametrize(
    "argv",
    [[], ["serve", "--port", "http"], ["serve", "--seed", "1.5"], ["serve", "--log-level", "loud"]],
)
def test_argparse_refuses_malformed_command_lines(
    argv: list[str], runs: list[Any], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 2
    assert "usage: codat-mock" in capsys.readouterr().err
    assert runs == []


# -- main serve --------------------------------------------------------------------------------


def test_main_serve_runs_uvicorn_on_the_loopback_default(runs: list[Any]) -> None:
    assert main(["serve", "--port", "0"]) == 0
    ((app, options),) = runs
    host, port = options.pop("address")
    assert (host, port > 0) == ("127.0.0.1", True)
    assert options == {"log_level": "info", "access_log": False, "timeout_graceful_shutdown": 2}
    assert app.state.mock.settings == Settings(port=0)


def test_main_serve_passes_the_settings_to_the_app(runs: list[Any]) -> None:
    argv = ["serve", "--host", "127.0.0.3", "--port", "0", "--seed", "9", "--log-level", "debug"]
    argv += ["--fault", "list-companies:503:id=down", "--rate-limit", "dailyBase=3"]
    assert main(argv) == 0
    ((app, options),) = runs
    assert (options["address"][0], options["log_level"]) == ("127.0.0.3", "debug")
    state = app.state.mock
    assert state.settings.seed == 9
    assert [(active.rule_id, active.rule.status) for active in state.faults.rules()] == [
        ("down", 503)
    ]
    assert state.rate_limiter.config == RateLimitConfig(enabled=True, daily_base=3)


@pytest.mark.parametrize(
    ("flags", "fragments"),
    [
        (["--fault", "list-companies:times=two"], ["'list-companies:times=two'", "times"]),
        (["--fault", "create-company"], ["needs an action"]),
        (["--faults", "/nonexistent/rules.yaml"], ["/nonexistent/rules.yaml"]),
        (["--rate-limit", "dailyBase=0"], ["dailyBase: must be at least 1"]),
        (["--fixtures", "/nonexistent/fixtures"], ["/nonexistent/fixtures"]),
        (
            ["--fault", "list-companies:503:id=a", "--fault", "create-company:503:id=a"],
            ["'a' already exists"],
        ),
        (["--fault", "list-company:503"], ["No operation 'list-company'"]),
        (
            ["--webhook", "http://169.254.169.254/latest"],
            ["--webhook http://169.254.169.254/latest: ", "cloud metadata endpoint"],
        ),
        (["--webhook", "http://2130706433/"], ["four decimal numbers"]),
    ],
)
def test_main_serve_refuses_bad_settings_before_starting(
    flags: list[str],
    fragments: list[str],
    runs: list[Any],
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["serve", "--port", "0", *flags]) == 2
    assert runs == []
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("codat-mock: cannot start: ")
    assert captured.err.count("\n") == 1  # one line, no traceback
    for fragment in fragments:
        assert fragment in captured.err


def test_main_serve_refuses_to_bind_beyond_loopback_without_a_token(
    runs: list[Any], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "--host", "0.0.0.0"]) == 2
    assert runs == []
    err = capsys.readouterr().err
    assert err.startswith("codat-mock: cannot start: --host 0.0.0.0 ")
    assert "--control-token" in err


def test_the_control_token_comes_from_the_flag_or_the_environment() -> None:
    assert serve("--control-token", "t0ken").control_token == "t0ken"
    environ = {TOKEN_ENV: "from-env"}
    assert settings_from(parse_args(["serve"], environ)).control_token == "from-env"
    assert serve().control_token is None


# -- report ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mock() -> Iterator[MockServer]:
    with MockServer(Settings(port=0, seed=3)) as server:
        headers = {"Authorization": authorization_for("cli-key")}
        with httpx.Client(base_url=server.url, headers=headers, timeout=10) as client:
            client.post(
                "/_mock/faults",
                json={"operationId": "create-company", "status": 503, "when": "after", "times": 1},
            ).raise_for_status()
            client.post("/companies", json={"name": "Twice Ltd"})
            client.post("/companies", json={"name": "Twice Ltd"})
            client.get("/companies")
        yield server


def report_of(mock: MockServer) -> Any:
    return httpx.get(mock.url + "/_mock/report", timeout=10).json()


def test_report_prints_the_formatted_report(
    mock: MockServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "--url", mock.url]) == 0
    out = capsys.readouterr().out
    assert out == format_report(report_of(mock)) + "\n"
    assert "create-company" in out
    assert 'body {"name":"Twice Ltd"}' in out  # the duplicate is named with its body


def test_report_json_prints_the_report_itself(
    mock: MockServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "--url", mock.url + "/", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == report_of(mock)
    assert printed["totals"]["duplicates"] == 1


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_report_from_an_unreachable_url_is_2(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    assert main(["report", "--url", url]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"codat-mock: cannot read the report from {url}: ")


def test_report_passes_the_control_token(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    with MockServer(Settings(port=0, control_token="t0ken")) as guarded:
        assert main(["report", "--url", guarded.url]) == 2
        assert "401" in capsys.readouterr().err
        assert main(["report", "--url", guarded.url, "--control-token", "t0ken", "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["totals"]["requests"] == 0
        monkeypatch.setenv(TOKEN_ENV, "t0ken")
        assert main(["report", "--url", guarded.url, "--json"]) == 0
        # What a test needs to call the guarded control API itself:
        answer = httpx.get(guarded.url + "/_mock/clock", headers=guarded.control_headers)
        assert answer.status_code == 200, answer.text


def test_report_from_something_that_is_not_the_mock_is_2(
    mock: MockServer, capsys: pytest.CaptureFixture[str]
) -> None:
    # /elsewhere/_mock/report is a Codat route the mock does not have: a 4xx, not a report.
    assert main(["report", "--url", mock.url + "/elsewhere"]) == 2
    assert "cannot read the report" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("nan", "from 0 to 31536000, not nan"),
        ("inf", "from 0 to 31536000, not inf"),
        ("1e12", "from 0 to 31536000, not 1000000000000.0"),
        ("-1", "from 0 to 31536000, not -1.0"),
        ("soon", "'soon' is not a number of seconds"),
    ],
)
def test_a_sync_duration_the_mock_cannot_run_stops_it_at_startup(
    value: str, fragment: str, runs: list[Any], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["serve", "--sync-duration", value])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert "argument --sync-duration: " in err
    assert fragment in err
    assert runs == []
