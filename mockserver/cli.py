"""``codat-mock``: the command line.

``codat-mock serve`` starts the mock on 127.0.0.1:4010 with in-memory state seeded from
``fixtures/``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from mockserver import cli_env
from mockserver.control_guard import TOKEN_ENV, TOKEN_HEADER, control_headers
from mockserver.faults.ratelimit import parse_rate_limit_string
from mockserver.faults.rules import load_rules_file, parse_fault_string
from mockserver.render import DEFAULT_SHAPE, SHAPES
from mockserver.report import format_report
from mockserver.settings import DEFAULT_HOST, DEFAULT_PORT, Settings
from mockserver.store.syncs import check_sync_duration


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="codat-mock",
        description="A stateful mock of Codat's Sync for Commerce API (v1.1).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the mock server")
    serve.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help=f"address to bind (default {DEFAULT_HOST}); any address beyond loopback needs "
        "--control-token",
    )
    serve.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port to listen on (default {DEFAULT_PORT})"
    )
    serve.add_argument(
        "--fixtures",
        type=Path,
        metavar="DIR",
        help="a folder of your own fixtures, overlaid on the built-in ones",
    )
    serve.add_argument(
        "--seed", type=int, default=0, help="seed for every random choice (ids, OTPs); default 0"
    )
    serve.add_argument(
        "--strict",
        action="store_true",
        help="validate every response against the contract (500 on a violation)",
    )
    serve.add_argument(
        "--sync-duration",
        type=_sync_duration,
        default=30.0,
        metavar="SECONDS",
        help="how long a requested sync stays in progress (default 30)",
    )
    serve.add_argument(
        "--log-level",
        default="info",
        choices=["critical", "error", "warning", "info", "debug"],
        help="the server's own log (startup, errors); default info",
    )
    serve.add_argument(
        "--quiet", action="store_true", help="no request log (one line per Codat request)"
    )
    serve.add_argument(
        "--log-format",
        default="text",
        choices=["text", "json"],
        help="the request log as text lines (default) or one JSON object a line",
    )
    serve.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="RULE",
        help="a fault rule, OPERATION[:STATUS][:key=value,...], e.g. "
        "'list-companies:429:times=2,retryAfter=1' (repeatable)",
    )
    serve.add_argument(
        "--faults", type=Path, metavar="FILE", help="fault rules from a YAML or JSON file"
    )
    serve.add_argument(
        "--rate-limit",
        nargs="?",
        const="",
        default=None,
        metavar="SETTINGS",
        help="emulate Codat's rate limits; optionally key=value,... e.g. "
        "'dailyBase=2,perCompanyConcurrency=1,perIpPerMinute=5'",
    )
    serve.add_argument(
        "--responses",
        choices=SHAPES,
        default=DEFAULT_SHAPE,
        help="how answers are shaped where the contract leaves a choice: codat (as Codat "
        "sends them, the default), nulls (explicit nulls) or extra (unnamed additional "
        "properties)",
    )
    serve.add_argument(
        "--webhook",
        action="append",
        default=[],
        metavar="URL",
        help="deliver webhooks (connection.deleted, ...) to URL; GET /_mock/webhooks shows "
        "its signing secret (repeatable)",
    )
    serve.add_argument(
        "--control-token",
        metavar="TOKEN",
        help=f"require {TOKEN_HEADER}: TOKEN on every /_mock route but /_mock/health; "
        "needed to bind beyond loopback",
    )
    serve.add_argument(
        "--state",
        type=Path,
        metavar="PATH",
        help="keep the state in this SQLite file: every acknowledged change survives a "
        "restart or a crash (default: in memory only)",
    )
    serve.add_argument(
        "--load",
        type=Path,
        metavar="SNAPSHOT",
        help="start from a snapshot saved from GET /_mock/state",
    )
    webhooks = commands.add_parser("webhooks", help="webhook tools")
    webhook_commands = webhooks.add_subparsers(dest="webhooks_command", required=True)
    listen = webhook_commands.add_parser(
        "listen", help="a local receiver that verifies and prints each delivery"
    )
    listen.add_argument("--port", type=int, required=True)
    listen.add_argument("--secret", required=True, help="the consumer's whsec_ secret")
    listen.add_argument("--host", default=DEFAULT_HOST)
    contract = commands.add_parser(
        "contract", help="run the contract suites (needs the 'test' extra installed)"
    )
    contract.add_argument("--base-url", help="the server under test (default: a fresh mock)")
    contract.add_argument(
        "--api-key",
        help="API key (default: against a codat-mock, a fresh one, so the run has a tenant of "
        "its own; against another server, $CODAT_API_KEY or a made-up one)",
    )
    contract.add_argument(
        "--allow-writes",
        action="store_true",
        help="allow state-changing calls against a server that is no mock",
    )
    contract.add_argument("--examples", type=int, help="generated examples per operation")
    _control_token_option(contract)
    contract.add_argument(
        "--operation",
        action="append",
        default=[],
        metavar="OPERATION_ID",
        help="run the server suite on this operation only (repeatable)",
    )
    contract.add_argument(
        "--suite",
        choices=["server", "client", "retries", "all"],
        default="all",
        help="which suite to run (default all; client and retries need a codat-mock)",
    )
    contract.add_argument("pytest_args", nargs="*", help="more pytest arguments, after --")
    check = commands.add_parser(
        "check-client",
        help="run your client's own command against a fresh mock per response shape",
        description="Runs COMMAND once per response shape against a fresh strict mock, with "
        "CODAT_BASE_URL and CODAT_MOCK_URL set to it, then prints one table: exit status, "
        "operations called and off-contract requests per shape. Exits 1 if any run fails or "
        "sends anything off-contract, 2 if the command cannot start.",
    )
    check.add_argument(
        "--shapes",
        default=",".join(SHAPES),
        help=f"comma-separated response shapes to run under (default {','.join(SHAPES)})",
    )
    check.add_argument("--seed", type=int, default=0, help="the mocks' seed (default 0)")
    check.add_argument("client_command", nargs="*", metavar="COMMAND", help="after --")
    report = commands.add_parser("report", help="print the chaos report of a running mock")
    report.add_argument(
        "--url", default=f"http://{DEFAULT_HOST}:{DEFAULT_PORT}", help="the mock's base URL"
    )
    report.add_argument("--json", action="store_true", help="print the raw JSON report")
    _control_token_option(report)
    # Last, so that every serve flag, whoever added it, gets its variable.
    cli_env.document(serve)
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("codat-mock")
    except PackageNotFoundError:  # pragma: no cover - run from a checkout never installed
        return "unknown"


def _subparser(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            found: argparse.ArgumentParser = action.choices[name]
            return found
    raise LookupError(name)  # pragma: no cover - build_parser always has the command


def parse_args(
    argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None
) -> argparse.Namespace:
    """The command line, with each ``serve`` flag it leaves out taken from its
    ``CODAT_MOCK_*`` variable in ``environ`` (default: the process environment)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "serve":
        serve = _subparser(parser, "serve")
        try:
            cli_env.apply(
                serve,
                args,
                argv[argv.index("serve") + 1 :],
                os.environ if environ is None else environ,
            )
        except cli_env.EnvError as exc:
            serve.error(str(exc))
    return args


def _control_token_option(command: argparse.ArgumentParser) -> None:
    """``--control-token`` for a command that talks to a running mock's control API."""
    command.add_argument(
        "--control-token",
        default=os.environ.get(TOKEN_ENV),
        metavar="TOKEN",
        help=f"the mock's control token, if it has one (default: ${TOKEN_ENV})",
    )


def _sync_duration(text: str) -> float:
    """``--sync-duration``: refused at startup unless the mock can run syncs that long."""
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    try:
        return check_sync_duration(seconds)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def settings_from(args: argparse.Namespace) -> Settings:
    """The app settings a parsed ``serve`` command line asks for (rules and rate limits
    checked here, so a typo stops the server with a clear message)."""
    rules = [parse_fault_string(text) for text in args.fault]
    if args.faults is not None:
        rules.extend(load_rules_file(args.faults))
    settings = Settings(
        host=args.host,
        port=args.port,
        fixtures_overlay=args.fixtures,
        seed=args.seed,
        strict=args.strict,
        sync_duration=args.sync_duration,
        responses=args.responses,
        fault_rules=rules,
        webhook_urls=list(args.webhook),
        control_token=args.control_token or None,
        state=args.state,
        load=args.load,
    )
    if args.rate_limit is not None:
        settings.rate_limit = parse_rate_limit_string(args.rate_limit)
    return settings


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    args = parse_args(argv, environ)
    if args.command == "check-client":
        return _check_client(args)
    if args.command == "report":
        return _report(args.url, as_json=args.json, token=args.control_token)
    if args.command == "contract":
        return _contract(args)
    if args.command == "webhooks":
        from mockserver.binding import BindError
        from mockserver.webhooks import SecretError, run_listener

        try:
            run_listener(args.port, args.secret, host=args.host)
        except (SecretError, BindError) as exc:
            print(f"codat-mock: {exc}", file=sys.stderr)
            return 2
        return 0
    if args.command == "serve":
        return _serve(args)
    return 2  # pragma: no cover - argparse rejects unknown commands


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from mockserver.app import create_app
    from mockserver.banner import banner, has_route
    from mockserver.binding import base_url, listen
    from mockserver.collector import Collector
    from mockserver.errors import CodatMockError
    from mockserver.request_log import RequestLog
    from mockserver.wire import uvicorn_config

    log = None if args.quiet else RequestLog(sys.stdout, json_lines=args.log_format == "json")
    sock = None
    try:
        settings = settings_from(args)
        # The app first: a setting that cannot work (say, --host beyond loopback without a
        # token) is the error to report, whether or not the port happens to be free.
        collector = Collector()
        app = create_app(settings, on_request=log, on_reset=collector.after_reset)
        sock = listen(settings.host, settings.port)
    except CodatMockError as exc:  # a bad fixture, contract, rule or port: say which, briefly
        if sock is not None:
            sock.close()
        print(f"codat-mock: cannot start: {exc}", file=sys.stderr)
        return 2
    url = base_url(sock)
    # The secret itself stays out of the logs: the control API answers it.
    webhooks = [
        f"webhooks to {consumer.url} (consumer {consumer.id}); GET /_mock/webhooks shows "
        "its signing secret"
        for consumer in app.state.mock.webhooks.consumers.all()
    ]
    request_log = "off (--quiet)" if log is None else f"stdout ({args.log_format})"
    print(
        banner(
            settings,
            url,
            version=_version(),
            request_log=request_log,
            dashboard=has_route(app.routes, "/_mock/ui"),
            more=webhooks,
        ),
        end="",
        file=sys.stderr,
        flush=True,
    )
    # Everything alive now (the contract, compiled validators, fixtures) lives as long as
    # the process, and so does most of what survives a full collection later (the store):
    # frozen, out of the collector's sight (bench/ shows the pauses this saves).
    collector.install()
    # A hanging fault keeps its connection open until the client leaves; do not let it
    # hold up a shutdown for longer than a moment.
    config = uvicorn_config(app, log_level=args.log_level, timeout_graceful_shutdown=2)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn has shut down gracefully, then re-raises Ctrl-C
        pass
    finally:
        collector.uninstall()
        sock.close()
        sys.stdout.flush()
    return 0


def _contract(args: argparse.Namespace) -> int:
    """Run the contract suites (see :mod:`contracts.command`)."""
    try:
        import pytest  # noqa: F401 - only to say early that the test extra is missing

        from contracts.command import Options, run
    except ImportError as exc:
        print(f"codat-mock: the contract suites need the test extra ({exc})", file=sys.stderr)
        return 2
    options = Options(
        suite=args.suite,
        base_url=args.base_url,
        api_key=args.api_key,
        allow_writes=args.allow_writes,
        examples=args.examples,
        operations=tuple(args.operation),
        pytest_args=tuple(args.pytest_args),
    )
    if args.control_token:
        # Through the environment, not argv: a token on a command line shows in `ps`.
        os.environ[TOKEN_ENV] = args.control_token
    return run(options)


def _check_client(args: argparse.Namespace) -> int:
    """``check-client``: 0 when every shape passed, 1 when one did not, 2 on bad usage or a
    command that cannot start."""
    from mockserver.check_client import CommandCannotStart, check_client, format_runs

    parser = _subparser(build_parser(), "check-client")
    command = list(args.client_command)
    if not command:
        parser.error("check-client needs a command to run: codat-mock check-client -- COMMAND")
    shapes = [name.strip() for name in args.shapes.split(",") if name.strip()]
    unknown = [name for name in shapes if name not in SHAPES]
    if unknown or not shapes:
        parser.error(f"--shapes takes some of {', '.join(SHAPES)} (got {args.shapes!r})")
    try:
        runs = check_client(command, shapes, base=Settings(seed=args.seed))
    except CommandCannotStart as exc:
        print(f"codat-mock: {exc}", file=sys.stderr)
        return 2
    print(format_runs(runs), end="")
    return 0 if all(run.passed for run in runs) else 1


def _report(url: str, *, as_json: bool, token: str | None) -> int:
    import httpx

    try:
        response = httpx.get(
            url.rstrip("/") + "/_mock/report", headers=control_headers(token), timeout=10
        )
        response.raise_for_status()
    except httpx.HTTPError as exc:
        print(f"codat-mock: cannot read the report from {url}: {exc}", file=sys.stderr)
        return 2
    report = response.json()
    print(json.dumps(report, indent=2) if as_json else format_report(report))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
