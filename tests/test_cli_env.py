"""Tests of mockserver/cli_env.py: every ``serve`` flag reads ``CODAT_MOCK_<FLAG>``, the flag
wins, a bad value names its variable; and ``codat-mock --version``."""

from __future__ import annotations

import argparse
from importlib.metadata import version
from pathlib import Path

import pytest

from mockserver import cli_env
from mockserver.cli import build_parser, main, parse_args, settings_from
from mockserver.faults.ratelimit import RateLimitConfig
from mockserver.faults.rules import parse_fault_string


def serve_parser() -> argparse.ArgumentParser:
    parser = build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            serve: argparse.ArgumentParser = action.choices["serve"]
            return serve
    raise AssertionError("no serve command")


def test_every_serve_flag_has_a_variable_named_in_its_help(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["serve", "--help"])
    assert caught.value.code == 0
    # argparse wraps help lines; compare without the line breaks.
    text = " ".join(capsys.readouterr().out.split())
    flags = [a for a in serve_parser()._actions if a.option_strings and a.dest != "help"]
    assert len(flags) >= 11
    for action in flags:
        long = next(o for o in action.option_strings if o.startswith("--"))
        variable = "CODAT_MOCK_" + long[2:].replace("-", "_").upper()
        assert variable == cli_env.variable_for(action)
        assert f"[env {variable}" in text, variable
    for variable in ("PORT", "HOST", "SEED", "FIXTURES", "FAULTS", "FAULT", "RATE_LIMIT"):
        assert f"CODAT_MOCK_{variable}" in text
    assert "a flag given on the command line wins" in text


def test_the_environment_configures_serve(tmp_path: Path) -> None:
    environ = {
        "CODAT_MOCK_HOST": "127.0.0.5",
        "CODAT_MOCK_PORT": "5111",
        "CODAT_MOCK_SEED": "42",
        "CODAT_MOCK_STRICT": "true",
        "CODAT_MOCK_FIXTURES": str(tmp_path),
        "CODAT_MOCK_SYNC_DURATION": "2.5",
        "CODAT_MOCK_LOG_LEVEL": "debug",
        "CODAT_MOCK_FAULT": "'list-companies:429:times=2' create-company:503",
        "CODAT_MOCK_RATE_LIMIT": "dailyBase=3",
        "CODAT_MOCK_WEBHOOK": "http://127.0.0.1:9/a http://127.0.0.1:9/b",
        "UNRELATED": "x",
    }
    args = parse_args(["serve"], environ)
    assert args.log_level == "debug"
    settings = settings_from(args)
    assert (settings.host, settings.port, settings.seed, settings.strict) == (
        "127.0.0.5",
        5111,
        42,
        True,
    )
    assert (settings.fixtures_overlay, settings.sync_duration) == (tmp_path, 2.5)
    assert settings.fault_rules == [
        parse_fault_string("list-companies:429:times=2"),
        parse_fault_string("create-company:503"),
    ]
    assert settings.rate_limit == RateLimitConfig(enabled=True, daily_base=3)
    assert settings.webhook_urls == ["http://127.0.0.1:9/a", "http://127.0.0.1:9/b"]


@pytest.mark.parametrize(
    ("argv", "environ", "expected"),
    [
        (["--port", "5"], {"CODAT_MOCK_PORT": "6"}, ("port", 5)),
        (["--port=5"], {"CODAT_MOCK_PORT": "6"}, ("port", 5)),
        ([], {"CODAT_MOCK_PORT": "6"}, ("port", 6)),
        ([], {}, ("port", 4010)),
        (["--fault", "a:503"], {"CODAT_MOCK_FAULT": "b:429"}, ("fault", ["a:503"])),
        ([], {"CODAT_MOCK_STRICT": "0"}, ("strict", False)),
        ([], {"CODAT_MOCK_STRICT": "YES"}, ("strict", True)),
        ([], {"CODAT_MOCK_RATE_LIMIT": ""}, ("rate_limit", None)),  # empty: unset
        ([], {"CODAT_MOCK_PORT": ""}, ("port", 4010)),
        ([], {"CODAT_MOCK_RATE_LIMIT": "enabled=true"}, ("rate_limit", "enabled=true")),
        (["--rate-limit"], {"CODAT_MOCK_RATE_LIMIT": "dailyBase=3"}, ("rate_limit", "")),
    ],
)
def test_the_flag_wins_over_its_variable(
    argv: list[str], environ: dict[str, str], expected: tuple[str, object]
) -> None:
    dest, value = expected
    assert getattr(parse_args(["serve", *argv], environ), dest) == value


@pytest.mark.parametrize(
    ("environ", "fragment"),
    [
        ({"CODAT_MOCK_PORT": "http"}, "CODAT_MOCK_PORT='http': not a valid int"),
        ({"CODAT_MOCK_SEED": "1.5"}, "CODAT_MOCK_SEED='1.5'"),
        ({"CODAT_MOCK_STRICT": "maybe"}, "CODAT_MOCK_STRICT='maybe': use 1/true"),
        ({"CODAT_MOCK_LOG_LEVEL": "loud"}, "CODAT_MOCK_LOG_LEVEL='loud': choose from critical"),
        ({"CODAT_MOCK_FAULT": "'unclosed"}, 'CODAT_MOCK_FAULT="\'unclosed": No closing'),
    ],
)
def test_a_bad_value_names_its_variable(
    environ: dict[str, str], fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["serve"], environ)
    assert caught.value.code == 2
    last = capsys.readouterr().err.splitlines()[-1]
    assert last.startswith(f"codat-mock serve: error: {fragment}")


def test_a_bad_value_is_ignored_when_the_flag_is_given() -> None:
    assert parse_args(["serve", "--port", "7"], {"CODAT_MOCK_PORT": "http"}).port == 7


def test_other_commands_read_no_variables() -> None:
    args = parse_args(["report"], {"CODAT_MOCK_PORT": "http", "CODAT_MOCK_URL": "x"})
    assert args.url == "http://127.0.0.1:4010"


def test_a_flag_added_later_gets_its_variable_too() -> None:
    """The mechanism is generic: a parser it has never seen, with its own kinds of flags."""
    parser = argparse.ArgumentParser(prog="p")
    parser.add_argument("--control-token", help="a token")
    parser.add_argument("--load", action="append", default=[], type=Path)
    parser.add_argument("--verbose", action="count", default=0)
    parser.add_argument("--pair", nargs=2, type=int)
    cli_env.document(parser)
    assert "[env CODAT_MOCK_CONTROL_TOKEN]" in parser.format_help()
    assert "[env CODAT_MOCK_LOAD, space-separated]" in " ".join(parser.format_help().split())
    args = parser.parse_args([])
    environ = {
        "CODAT_MOCK_CONTROL_TOKEN": "s3cret",
        "CODAT_MOCK_LOAD": "'a b.json' c.json",
        "CODAT_MOCK_VERBOSE": "on",
        "CODAT_MOCK_PAIR": "1 2",
    }
    cli_env.apply(parser, args, [], environ)
    assert args.control_token == "s3cret"
    assert args.load == [Path("a b.json"), Path("c.json")]
    assert args.verbose == 1
    assert args.pair == [1, 2]


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--version"])
    assert caught.value.code == 0
    assert capsys.readouterr().out == f"codat-mock {version('codat-mock')}\n"
