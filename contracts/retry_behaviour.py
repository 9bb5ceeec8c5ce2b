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
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import httpx
from codat_sync_for_commerce import CodatSyncCommerce
from codat_sync_for_commerce.models import errors, shared
from codat_sync_for_commerce.utils.retries import BackoffStrategy, RetryConfig

OPERATION_ID = "create-company"
#: The company every scenario asks for; the mock is reset between scenarios, so any company
#: of this name afterwards was created by the scenario.
PROBE_NAME = "RetryProbe"
#: The client timeout for the kinds that need one (a hang never ends without it). It covers
#: the retry too, so it leaves room for a loaded machine to serve that one slowly.
TIMEOUT_MS = 500
#: The backoff the scenarios retry with: the SDK's own strategy and exponent, with waits of
#: a few milliseconds. The SDK adds up to a second of jitter to each wait but caps the sum at
#: ``max_interval``, so every wait here is about 5 ms.
INITIAL_INTERVAL_MS = 1
MAX_INTERVAL_MS = 5
EXPONENT = 1.5
MAX_ELAPSED_MS = 5_000
#: A wait shorter than this is reported as short; far above the ~5 ms the backoff waits and
#: far below the 1 s that the Retry-After rule asks for, so the bucket never flips by chance.
SHORT_WAIT_SECONDS = 0.5
#: A dropped exchange reaches the journal when the server notices the connection is gone,
#: which can be a moment after the client raised: wait for it this long at most.
JOURNAL_WAIT_SECONDS = 5.0
DOC_PATH = Path("docs") / "retry-behaviour.md"
REGENERATE = "python -m contracts.retry_behaviour --write docs/retry-behaviour.md"


@dataclass(slots=True, frozen=True)
class FaultKind:
    """One kind of fault: the rule that produces it and what a client should do about it."""

    key: str
    title: str
    #: The fault rule, as ``POST /_mock/faults`` takes it.
    rule: Mapping[str, Any]
    advice: str
    timeout_ms: int | None = None

    @property
    def rule_text(self) -> str:
        """The rule in the CLI's compact form (``codat-mock serve --fault ...``)."""
        rest = {k: v for k, v in self.rule.items() if k not in ("operationId", "status")}
        parts = [str(self.rule["operationId"])]
        if "status" in self.rule:
            parts.append(str(self.rule["status"]))
        parts.append(",".join(f"{k}={v}" for k, v in rest.items()))
        return ":".join(parts)


@dataclass(slots=True, frozen=True)
class RetryMode:
    """A retry configuration handed to the SDK."""

    key: str
    #: ``"backoff"`` retries; anything else (the SDK's convention is ``"none"``) does not.
    strategy: str
    connection_errors: bool

    def config(self) -> RetryConfig:
        backoff = BackoffStrategy(INITIAL_INTERVAL_MS, MAX_INTERVAL_MS, EXPONENT, MAX_ELAPSED_MS)
        return RetryConfig(self.strategy, backoff, self.connection_errors)


@dataclass(slots=True, frozen=True)
class Scenario:
    """One fault kind met with one retry mode."""

    kind: FaultKind
    mode: RetryMode

    @property
    def id(self) -> str:
        return f"{self.kind.key}/{self.mode.key}"


def _status(code: int, **extra: Any) -> dict[str, Any]:
    return {"operationId": OPERATION_ID, "status": code, **extra, "times": 2}


KINDS: tuple[FaultKind, ...] = (
    FaultKind(
        "429-retry-after",
        "429 with Retry-After",
        _status(429, retryAfter=1),
        "Retry, but not before Retry-After has passed. The SDK neither waits for the header "
        "nor passes it on (`ErrorMessage` has no headers), so read it in an httpx response "
        "hook on the client you give the SDK, or use waits at least as long as the limit.",
    ),
    FaultKind(
        "429",
        "429 without Retry-After",
        _status(429),
        "Retry with backoff. The SDK's default (0.5 s, growing 1.5 times, plus jitter) does.",
    ),
    FaultKind(
        "503",
        "503",
        _status(503),
        "Retry with backoff (the SDK does). On a create, a 5xx can come after the work was "
        "done: see the lost response.",
    ),
    FaultKind(
        "500",
        "500",
        _status(500),
        "Retry a few times, then give up and report it: lower `max_elapsed_time`, which is "
        "an hour by default, so a 500 that persists does not hold the caller that long.",
    ),
    FaultKind(
        "408",
        "408",
        _status(408),
        "Retry (the SDK does). Without retries it arrives as `SDKError`, not `ErrorMessage`: "
        "catch both.",
    ),
    FaultKind(
        "reset",
        "Connection reset",
        {"operationId": OPERATION_ID, "drop": "reset", "times": 1},
        "Catch `httpx.ReadError` yourself: the SDK never retries it, whatever "
        "`retry_connection_errors` says. Before sending a create again, check whether it "
        "went through.",
    ),
    FaultKind(
        "hang",
        "No answer (hang)",
        {"operationId": OPERATION_ID, "drop": "hang", "times": 1},
        "Always set `timeout_ms`: the SDK has none by default and would wait for ever. A "
        "timed-out create may still have been committed, so check before relying on a retry.",
        timeout_ms=TIMEOUT_MS,
    ),
    FaultKind(
        "lost-response",
        "Lost response (503 after the commit)",
        {"operationId": OPERATION_ID, "status": 503, "when": "after", "times": 1},
        "Do not retry a create blindly: the contract has no idempotency key. After a failed "
        "create, list companies by name first and create only if it is missing, or remove "
        "the duplicate afterwards.",
    ),
)

#: The SDK's own flags (the ones it uses when given no retry_config), with short waits.
BACKOFF = RetryMode("backoff", "backoff", connection_errors=True)
BACKOFF_NO_CONNECTION = RetryMode("backoff-no-connection", "backoff", connection_errors=False)
NO_RETRIES = RetryMode("none", "none", connection_errors=False)
MODES: tuple[RetryMode, ...] = (BACKOFF, BACKOFF_NO_CONNECTION, NO_RETRIES)
#: Kinds where ``retry_connection_errors`` could matter: the ones that never answer.
CONNECTION_KINDS = frozenset({"reset", "hang"})

SCENARIOS: tuple[Scenario, ...] = tuple(
    Scenario(kind, mode)
    for kind in KINDS
    for mode in MODES
    if mode is not BACKOFF_NO_CONNECTION or kind.key in CONNECTION_KINDS
)


@dataclass(slots=True)
class Observation:
    """What one scenario came to."""

    scenario: Scenario
    #: Requests the SDK sent, counted by an httpx hook on its client.
    client_attempts: int
    #: The journal's entries for the operation, oldest first.
    journal: list[dict[str, Any]]
    #: The report's logical calls for the operation (one when the SDK retried as one call).
    calls: list[dict[str, Any]]
    #: ``None`` when the call returned.
    error: BaseException | None
    #: The id of the company the call returned, if it did.
    returned_id: str | None
    #: The ids of the companies named :data:`PROBE_NAME` afterwards, as the API lists them.
    company_ids: list[str]
    #: Extra commits the report flags as duplicates (a create committed twice counts 1).
    duplicates: int
    rule_id: str
    elapsed_seconds: float

    @property
    def companies(self) -> int:
        return len(self.company_ids)

    @property
    def attempts(self) -> int:
        return len(self.journal)

    @property
    def statuses(self) -> list[int | None]:
        """Per attempt, the status the client saw (None where the connection was dropped)."""
        return [None if e["dropped"] else e["status"] for e in self.journal]

    @property
    def gaps(self) -> list[float]:
        """The report's waits between attempts, in seconds."""
        return [gap for call in self.calls for gap in call["gapsSeconds"]]

    @property
    def retry_after_honoured(self) -> bool | None:
        verdicts = [call["retryAfterHonoured"] for call in self.calls]
        judged = [verdict for verdict in verdicts if verdict is not None]
        return all(judged) if judged else None

    @property
    def error_name(self) -> str | None:
        return None if self.error is None else error_name(self.error)

    @property
    def error_status(self) -> int | None:
        """The HTTP status an SDK error carries (None for transport errors and success)."""
        if isinstance(self.error, errors.ErrorMessage):
            return self.error.data.status_code
        if isinstance(self.error, errors.SDKError):
            return self.error.status_code
        return None


def error_name(error: BaseException) -> str:
    """``httpx.ReadError``, ``ErrorMessage``: the name a caller would write in ``except``."""
    kind = type(error)
    if isinstance(error, httpx.HTTPError):
        return f"httpx.{kind.__name__}"
    return kind.__name__


# -- running a scenario -----------------------------------------------------------------------


@contextmanager
def _sdk(
    url: str, authorization: str, mode: RetryMode, timeout_ms: int | None, sent: list[str]
) -> Iterator[CodatSyncCommerce]:
    """An SDK on ``url`` with its own httpx clients (no proxies from the environment)."""
    client = httpx.Client(
        trust_env=False, event_hooks={"request": [lambda request: sent.append(request.method)]}
    )
    async_client = httpx.AsyncClient(trust_env=False)
    sdk = CodatSyncCommerce(
        security=shared.Security(auth_header=authorization),
        server_url=url,
        client=client,
        async_client=async_client,
        retry_config=mode.config(),
        timeout_ms=timeout_ms,
    )
    try:
        yield sdk
    finally:
        client.close()
        asyncio.run(async_client.aclose())


def _journal(control: httpx.Client, seen: Seen, count: int) -> list[dict[str, Any]]:
    """The operation's journal entries once there are ``count`` of them (or the wait ran out)."""
    deadline = time.monotonic() + JOURNAL_WAIT_SECONDS
    pause = threading.Event()
    params = seen.params(operationId=OPERATION_ID)
    while True:
        response = control.get("/_mock/requests", params=params)
        response.raise_for_status()
        entries: list[dict[str, Any]] = response.json()["requests"]
        if len(entries) >= count or time.monotonic() > deadline:
            return entries
        pause.wait(0.01)


def _calls(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        call
        for operation in report["operations"]
        if operation["operationId"] == OPERATION_ID
        for call in operation["logicalCalls"]
    ]


def _company_ids(control: httpx.Client, authorization: str) -> list[str]:
    response = control.get(
        "/companies",
        params={"page": 1, "pageSize": 100, "query": f"name={PROBE_NAME}"},
        headers={"Authorization": authorization},
    )
    response.raise_for_status()
    return [
        str(company["id"])
        for company in response.json()["results"]
        if company["name"] == PROBE_NAME
    ]


def run_scenario(
    url: str,
    authorization: str,
    scenario: Scenario,
    control_headers: Mapping[str, str] | None = None,
) -> Observation:
    """Install the scenario's rule on the mock at ``url`` and make one SDK call
    (``control_headers`` go with each control call: the mock's token, when it has one).

    Only the caller's own tenant is touched: its data is reset first, the rule fires for it
    alone and is removed afterwards, and the journal and report are read for it alone, so a
    mock that others use is left as it was.
    """
    with httpx.Client(
        base_url=url, headers=dict(control_headers or {}), trust_env=False, timeout=10
    ) as control:
        whoami = control.get("/_mock/whoami", headers={"Authorization": authorization})
        client_id = str(whoami.raise_for_status().json()["clientId"])
        control.post("/_mock/reset", json={"clientId": client_id}).raise_for_status()
        added = control.post("/_mock/faults", json={**scenario.kind.rule, "clientId": client_id})
        added.raise_for_status()
        rule_id: str = added.json()["id"]
        # Where this scenario's requests start in a journal that earlier ones (and, on a
        # shared mock, other clients) wrote to.
        mark = control.get("/_mock/requests", params={"clientId": client_id, "limit": 0})
        since_seq = int(mark.raise_for_status().json()["lastSeq"])
        seen = Seen(client_id, since_seq)
        try:
            return _observe(control, url, authorization, seen, scenario, rule_id)
        finally:
            control.delete(f"/_mock/faults/{rule_id}")


@dataclass(frozen=True)
class Seen:
    """Which of the journal's requests are a scenario's: its client's, after ``since_seq``."""

    client_id: str
    since_seq: int

    def params(self, **more: str) -> dict[str, str | int]:
        return {"clientId": self.client_id, "sinceSeq": self.since_seq, **more}


def _observe(
    control: httpx.Client,
    url: str,
    authorization: str,
    seen: Seen,
    scenario: Scenario,
    rule_id: str,
) -> Observation:
    """Make the scenario's SDK call and gather what the client and the mock saw."""
    sent: list[str] = []
    error: BaseException | None = None
    returned_id: str | None = None
    started = time.monotonic()
    with _sdk(url, authorization, scenario.mode, scenario.kind.timeout_ms, sent) as sdk:
        try:
            company = sdk.advanced_controls.create_company(request={"name": PROBE_NAME})
        except Exception as exc:  # recorded: what the caller gets is the observation
            error = exc
        else:
            returned_id = None if company is None else company.id
    elapsed = time.monotonic() - started

    journal = _journal(control, seen, len(sent))
    report = control.get("/_mock/report", params=seen.params()).json()
    duplicates = sum(
        dup["count"] - 1 for dup in report["duplicates"] if dup["operationId"] == OPERATION_ID
    )
    return Observation(
        scenario=scenario,
        client_attempts=len(sent),
        journal=journal,
        calls=_calls(report),
        error=error,
        returned_id=returned_id,
        company_ids=_company_ids(control, authorization),
        duplicates=duplicates,
        rule_id=rule_id,
        elapsed_seconds=elapsed,
    )


def run_all(
    url: str, authorization: str, scenarios: Sequence[Scenario] = SCENARIOS
) -> list[Observation]:
    """Every scenario in turn against the mock at ``url`` (which each one resets)."""
    return [run_scenario(url, authorization, scenario) for scenario in scenarios]


# -- the table ----------------------------------------------------------------------------------


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
