"""Running a retry scenario against a codat-mock, and what it came to.

Each run resets the caller's tenant, installs the scenario's fault rule, calls
``advanced_controls.create_company`` once through the SDK, and records an
:class:`Observation`: the attempts the SDK sent (counted on the client and in the journal),
the waits between them and the Retry-After verdict (from ``GET /_mock/report``), what the
caller got back or had raised, and the companies that exist afterwards.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from codat_sync_for_commerce import CodatSyncCommerce
from codat_sync_for_commerce.models import errors, shared

from contracts.retry_scenarios import OPERATION_ID, PROBE_NAME, SCENARIOS, RetryMode, Scenario

#: A dropped exchange reaches the journal when the server notices the connection is gone,
#: which can be a moment after the client raised: wait for it this long at most.
JOURNAL_WAIT_SECONDS = 5.0


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
