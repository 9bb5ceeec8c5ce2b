"""``codat-mock``: the command line.

``codat-mock serve`` starts the mock on 127.0.0.1:4010 with in-memory state seeded from
``fixtures/``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from mockserver.settings import DEFAULT_HOST, DEFAULT_PORT, Settings


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="codat-mock",
        description="A stateful mock of Codat's Sync for Commerce API (v1.1).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the mock server")
    serve.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help=f"address to bind (default {DEFAULT_HOST}; loopback only)",
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
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="how long a requested sync stays in progress (default 30)",
    )
    serve.add_argument(
        "--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"]
    )
    return parser


def settings_from(args: argparse.Namespace) -> Settings:
    """The app settings a parsed ``serve`` command line asks for."""
    return Settings(
        host=args.host,
        port=args.port,
        fixtures_overlay=args.fixtures,
        seed=args.seed,
        strict=args.strict,
        sync_duration=args.sync_duration,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        import uvicorn

        from mockserver.app import create_app

        settings = settings_from(args)
        try:
            app = create_app(settings)
        except Exception as exc:  # a bad fixture or contract: say which, do not trace back
            print(f"codat-mock: cannot start: {exc}", file=sys.stderr)
            return 2
        uvicorn.run(
            app, host=settings.host, port=settings.port, log_level=args.log_level, access_log=False
        )
        return 0
    return 2  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
