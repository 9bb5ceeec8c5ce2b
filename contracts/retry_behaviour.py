"""What the official SDK does about each kind of fault, measured against a codat-mock.

Every scenario resets the mock, installs one fault rule on ``create-company``, calls
``advanced_controls.create_company`` once through the SDK with one retry configuration, and
records what came of it: how many attempts the SDK sent (counted on the client and in the
journal, which must agree), the waits between them and whether ``Retry-After`` was honoured
(from ``GET /_mock/report``), what the caller got back or had raised, how many companies
exist afterwards and how many duplicates the report flags.

A create is used throughout because it is the call where a retry can do harm: the
duplicates column then means something for every kind.

The same observations render the published table, ``docs/retry-behaviour.md``::

    python -m contracts.retry_behaviour                   # print the Markdown
    python -m contracts.retry_behaviour --write docs/retry-behaviour.md
    python -m contracts.retry_behaviour --check docs/retry-behaviour.md

Only columns that do not depend on timing are rendered exactly; waits are put into coarse
buckets (see :func:`waits_cell`), so the document is the same from one run to the next and a
test can hold the committed copy to what the generator produces.

The scenarios are in :mod:`contracts.retry_scenarios`, running one in
:mod:`contracts.retry_runner`; this module renders the table and is its command line.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib.metadata import version
from pathlib import Path

from contracts.retry_runner import Observation, run_all
from contracts.retry_scenarios import (
    BACKOFF,
    BACKOFF_NO_CONNECTION,
    CONNECTION_KINDS,
    EXPONENT,
    INITIAL_INTERVAL_MS,
    KINDS,
    MAX_ELAPSED_MS,
    MAX_INTERVAL_MS,
    NO_RETRIES,
)

#: A wait shorter than this is reported as short; far above the ~5 ms the backoff waits and
#: far below the 1 s that the Retry-After rule asks for, so the bucket never flips by chance.
SHORT_WAIT_SECONDS = 0.5
DOC_PATH = Path("docs") / "retry-behaviour.md"
REGENERATE = "python -m contracts.retry_behaviour --write docs/retry-behaviour.md"


def waits_cell(gaps: Sequence[float]) -> str:
    """The waits between attempts, bucketed so the cell does not change from run to run."""
    if not gaps:
        return "-"
    if all(gap < SHORT_WAIT_SECONDS for gap in gaps):
        # How many there were is in the attempts column already.
        return ("each " if len(gaps) > 1 else "") + f"< {SHORT_WAIT_SECONDS:g} s"
    return ", ".join(f"{gap:.1f} s" for gap in gaps)


def outcome_cell(observation: Observation) -> str:
    if observation.error is None:
        return "returns the company"
    status = observation.error_status
    suffix = f" ({status})" if status is not None else ""
    return f"raises `{observation.error_name}`{suffix}"


def companies_cell(observation: Observation) -> str:
    count = observation.companies
    text = f"{count} {'company' if count == 1 else 'companies'}"
    if observation.duplicates:
        text += f", {observation.duplicates} duplicate"
        text += "s" if observation.duplicates > 1 else ""
    elif count and observation.error is not None:
        text += " (created all the same)"
    return text


def _honoured_cell(value: bool | None) -> str:
    return "-" if value is None else ("yes" if value else "no")


def _attempts_cell(observation: Observation) -> str:
    statuses = ", ".join("drop" if s is None else str(s) for s in observation.statuses)
    return f"{observation.attempts} ({statuses})"


def _markdown_row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def _markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    return [
        _markdown_row(header),
        _markdown_row(["---"] * len(header)),
        *(_markdown_row(row) for row in rows),
    ]


def _by_scenario(observations: Sequence[Observation]) -> dict[tuple[str, str], Observation]:
    return {(o.scenario.kind.key, o.scenario.mode.key): o for o in observations}


def main_table(observations: Sequence[Observation]) -> list[str]:
    """One row per fault kind: the retrying SDK, the same call without retries, the advice."""
    found = _by_scenario(observations)
    header = [
        "Fault",
        "Rule",
        "Attempts (statuses)",
        "Waits",
        "Retry-After honoured",
        "Outcome",
        "Companies",
        "Without retries",
        "What a client should do",
    ]
    rows = []
    for kind in KINDS:
        retried, single = found[(kind.key, BACKOFF.key)], found[(kind.key, NO_RETRIES.key)]
        rule = f"`{kind.rule_text}`"
        if kind.timeout_ms is not None:
            rule += f", client `timeout_ms={kind.timeout_ms}`"
        without = (
            f"{outcome_cell(single)} after {single.attempts} attempt"
            f"{'s' if single.attempts != 1 else ''}; {companies_cell(single)}"
        )
        rows.append(
            [
                kind.title,
                rule,
                _attempts_cell(retried),
                waits_cell(retried.gaps),
                _honoured_cell(retried.retry_after_honoured),
                outcome_cell(retried),
                companies_cell(retried),
                without,
                kind.advice,
            ]
        )
    return _markdown_table(header, rows)


def connection_table(observations: Sequence[Observation]) -> list[str]:
    """The connection-level kinds with ``retry_connection_errors`` on and off."""
    found = _by_scenario(observations)
    header = ["Fault", "retry_connection_errors", "Attempts (statuses)", "Outcome", "Companies"]
    rows = []
    for kind in KINDS:
        if kind.key not in CONNECTION_KINDS:
            continue
        for mode in (BACKOFF, BACKOFF_NO_CONNECTION):
            seen = found[(kind.key, mode.key)]
            rows.append(
                [
                    kind.title,
                    str(mode.connection_errors),
                    _attempts_cell(seen),
                    outcome_cell(seen),
                    companies_cell(seen),
                ]
            )
    return _markdown_table(header, rows)


def render(observations: Sequence[Observation]) -> str:
    """The whole of ``docs/retry-behaviour.md``."""
    sdk_version = version("codat-sync-for-commerce")
    lines = [
        "# How the official SDK retries",
        "",
        f"<!-- Generated by `{REGENERATE}`; edit contracts/retry_behaviour.py, not this file. -->",
        "",
        f"What `codat-sync-for-commerce` {sdk_version}, the official Python SDK, does when a "
        "call fails, measured against codat-mock's fault rules. Each row is one call to "
        f"`advanced_controls.create_company` (`POST /companies`) on a freshly reset mock "
        "with one rule installed. A create is the interesting case, because retrying one "
        "can create the company twice.",
        "",
        "The SDK is given its own backoff with tiny waits "
        f"(`BackoffStrategy({INITIAL_INTERVAL_MS}, {MAX_INTERVAL_MS}, {EXPONENT:g}, "
        f"{MAX_ELAPSED_MS})`, so every wait is about {MAX_INTERVAL_MS} ms) and "
        "`retry_connection_errors=True`, the flag the SDK uses when it is given no "
        '`retry_config`. *Without retries* is the same call with strategy `"none"`. '
        "Attempts are counted both on the client and in the mock's journal, and the two "
        "counts must agree. *Waits* and the Retry-After verdict come from `GET /_mock/report`: "
        "a wait runs from the end of one attempt (for a hang, the moment the client gave up "
        "on it) to the arrival of the next. They are only shown as under "
        f"{SHORT_WAIT_SECONDS:g} s or not, so the table reads the same on every run. "
        "*Companies* counts what `GET /companies` lists afterwards, and how many of those the "
        "report calls duplicates.",
        "",
        *main_table(observations),
        "",
        "## Connection errors",
        "",
        "`retry_connection_errors` covers only `httpx.ConnectError` and "
        "`httpx.TimeoutException`. A reset reaches the caller as `httpx.ReadError` either "
        "way; a hang is retried only when the flag is on (and only ends at all because of "
        "`timeout_ms`).",
        "",
        *connection_table(observations),
        "",
        "## What the table does not show",
        "",
        "- The SDK's default backoff, used when no `retry_config` is given, starts at 0.5 s, "
        "grows 1.5 times per retry, adds up to 1 s of random jitter to each wait, caps a "
        "wait at 60 s and keeps going for up to an hour.",
        "- When that time is up on a retryable status, the SDK stops and raises the last "
        "error as if it had not retried (see `tests/chaos/test_sdk.py` for a persistent 429).",
        "- The SDK retries 408, 429 and every 5xx on all 22 operations, POSTs included; it "
        "never looks at `Retry-After`.",
        "",
        "## Regenerating",
        "",
        "```sh",
        REGENERATE,
        "```",
        "",
        "`contracts/test_retry_behaviour.py` asserts the behaviour in each row and fails when "
        "this file differs from what the generator produces.",
        "",
    ]
    return "\n".join(lines)


def _generate() -> str:
    from mockserver.auth import authorization_for
    from mockserver.server import MockServer
    from mockserver.settings import Settings

    with MockServer(Settings(port=0, strict=True)) as mock:
        observations = run_all(mock.url, authorization_for("retry-behaviour-key"))
    for seen in observations:
        waits = ", ".join(f"{gap * 1000:.1f} ms" for gap in seen.gaps) or "-"
        print(f"{seen.scenario.id}: attempts {seen.attempts}, waits {waits}", file=sys.stderr)
    return render(observations)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m contracts.retry_behaviour",
        description="Measure the SDK's retry behaviour against a codat-mock and write the "
        "Markdown table.",
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--write", type=Path, metavar="PATH", help="write the Markdown here")
    where.add_argument(
        "--check", type=Path, metavar="PATH", help="exit 1 if PATH differs from a fresh run"
    )
    args = parser.parse_args(argv)
    text = _generate()
    if args.write is not None:
        args.write.parent.mkdir(parents=True, exist_ok=True)
        args.write.write_text(text, encoding="utf-8")
    elif args.check is not None:
        current = args.check.read_text(encoding="utf-8") if args.check.exists() else ""
        if current != text:
            print(f"{args.check} is stale; run: {REGENERATE}", file=sys.stderr)
            return 1
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
