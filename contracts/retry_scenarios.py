"""The retry scenarios: each kind of fault met with each retry configuration of the SDK.

A scenario installs one fault rule on ``create-company`` (a create, because it is the call
where a retry can do harm) and calls it once through the SDK with one :class:`RetryMode`.
:mod:`contracts.retry_runner` runs them; :mod:`contracts.retry_behaviour` publishes the table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

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
