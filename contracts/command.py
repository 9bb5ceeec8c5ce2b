"""``codat-mock contract``: the suites run one after the other, each under a heading, with a
table of cases and failures per suite and operation at the end.

Each suite runs in a pytest of its own, in a fresh interpreter: the command's interpreter has
imported starlette (and with it anyio, a pytest plugin), which pytest could then no longer
rewrite; under the checkout's warnings-as-errors configuration that warning would stop the
run before any test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent

#: suite -> (test module, what it holds to the contract)
SUITES = {
    "server": ("test_server_conformance.py", "the server's answers (schemathesis, every check)"),
    "client": ("test_client_conformance.py", "the official SDK's requests and parsing"),
    "retries": ("test_retry_behaviour.py", "what the SDK does under each kind of fault"),
}
#: Suites that need a codat-mock's control API.
MOCK_ONLY = ("client", "retries")


class Unreachable(Exception):
    """Nothing answers at the base URL."""


def probe(url: str) -> bool:
    """Whether ``url`` is a codat-mock (it answers ``GET /_mock/health``); raises
    :class:`Unreachable` when nothing answers there at all."""
    try:
        response = httpx.get(f"{url.rstrip('/')}/_mock/health", timeout=10, trust_env=False)
    except httpx.HTTPError as exc:
        raise Unreachable(str(exc) or type(exc).__name__) from None
    try:
        return response.status_code == 200 and response.json() == {"status": "ok"}
    except ValueError:
        return False


@dataclass(slots=True, frozen=True)
class Options:
    """What the command line asked for."""

    suite: str = "all"
    base_url: str | None = None
    api_key: str | None = None
    allow_writes: bool = False
    examples: int | None = None
    operations: tuple[str, ...] = ()
    pytest_args: tuple[str, ...] = ()


def pytest_argv(suite: str, options: Options, summary_file: Path) -> list[str]:
    """The arguments of the pytest that runs ``suite``."""
    argv = [str(ROOT / SUITES[suite][0]), "-p", "no:cacheprovider", "--rootdir", str(ROOT), "-q"]
    for flag, value in (
        ("--base-url", options.base_url),
        ("--api-key", options.api_key),
        ("--examples", options.examples),
    ):
        if value is not None:
            argv += [flag, str(value)]
    for operation in options.operations:
        argv += ["--operation", operation]
    if options.allow_writes:
        argv.append("--allow-writes")
    argv += ["--summary-file", str(summary_file), "--progress"]
    return [*argv, *options.pytest_args]


def table(rows: Sequence[dict[str, object]]) -> str:
    """The summary: one line per suite and operation, then a total per suite."""
    header = ("suite", "operation", "cases", "failures")
    lines = [
        (str(r["suite"]), str(r["operation"]), str(r["cases"]), str(r["failures"])) for r in rows
    ]
    totals: dict[str, list[int]] = {}
    for row in rows:
        total = totals.setdefault(str(row["suite"]), [0, 0])
        total[0] += int(str(row["cases"]))
        total[1] += int(str(row["failures"]))
    lines += [(suite, "(all)", str(c), str(f)) for suite, (c, f) in totals.items()]
    widths = [max(len(cell) for cell in column) for column in zip(header, *lines, strict=False)]

    def format_row(cells: Sequence[str]) -> str:
        left = [cell.ljust(width) for cell, width in zip(cells[:2], widths[:2], strict=True)]
        right = [cell.rjust(width) for cell, width in zip(cells[2:], widths[2:], strict=True)]
        return "  ".join(left + right).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([format_row(header), rule, *map(format_row, lines)])


def run(options: Options) -> int:
    """Run the suites ``options`` name; the exit status is 0 when all passed, 2 when the
    target cannot be used, else the worst pytest status."""
    suites = list(SUITES) if options.suite == "all" else [options.suite]
    where = dict.fromkeys(suites, "a fresh codat-mock")
    if options.base_url is not None:
        url = options.base_url
        try:
            is_mock = probe(url)
        except Unreachable as exc:
            print(f"codat-mock: cannot reach {url}: {exc}", file=sys.stderr)
            return 2
        if not is_mock:
            if options.suite in MOCK_ONLY:
                print(
                    f"codat-mock: the {options.suite} suite cannot run against {url}: it is not "
                    "a codat-mock (the suite needs its control API, /_mock)",
                    file=sys.stderr,
                )
                return 2
            left_out = [suite for suite in suites if suite in MOCK_ONLY]
            if left_out:
                print(f"codat-mock: {' and '.join(left_out)} left out: {url} is no codat-mock")
            suites = [suite for suite in suites if suite not in MOCK_ONLY]
        where = {
            "server": url + (", in a tenant of the run's own" if is_mock else ""),
            "retries": f"{url}, in a tenant of the run's own",
            # It sets and moves the mock's clock: not something to do to a shared mock.
            "client": "a codat-mock of its own (it moves the mock's clock)",
        }
    statuses: list[int] = []
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="codat-mock-contract-") as scratch:
        for number, suite in enumerate(suites, 1):
            print(
                f"\n== [{number}/{len(suites)}] {suite} suite: {SUITES[suite][1]}; "
                f"against {where[suite]}",
                flush=True,
            )
            summary_file = Path(scratch) / f"{suite}.json"
            argv = pytest_argv(suite, options, summary_file)
            # Hypothesis keeps its examples and caches in ./.hypothesis unless told otherwise:
            # the user's folder is no place for them.
            env = {**os.environ, "HYPOTHESIS_STORAGE_DIRECTORY": str(Path(scratch) / "hypothesis")}
            statuses.append(subprocess.call([sys.executable, "-m", "pytest", *argv], env=env))
            if summary_file.exists():
                rows += json.loads(summary_file.read_text(encoding="utf-8"))
    print("\n== summary")
    print(table(rows) if rows else "(no cases ran)", flush=True)
    failed = [status for status in statuses if status != 0]
    return max(failed) if failed else 0
