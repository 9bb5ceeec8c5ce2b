"""The driver: plays scenarios through the SDK against a codat-mock and checks every call.

:class:`Driver` plays one scenario per example through the SDK (sync or async methods), then
reads the mock's request journal and checks every call: the request the SDK sent broke nothing
in the contract, and a response the mock sent (valid, since the mock runs strict) was parsed
by the SDK. Anything else is a :class:`Finding`; a finding that a known disagreement explains
is counted, not failed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pydantic
from codat_sync_for_commerce import CodatSyncCommerce
from codat_sync_for_commerce.models import errors, shared
from hypothesis import strategies as st

from contracts.client.run import ConformanceRun
from contracts.client.sdk import METHOD_BY_OPERATION
from contracts.client.strategies import T0, SchemaStrategies
from contracts.client.table import LIST_OPERATIONS, Finding, parse_failure_location
from mockserver.spec import Spec


@dataclass(slots=True, frozen=True)
class SdkCall:
    """One SDK call of a scenario, with the statuses its inputs make legitimate."""

    operation_id: str
    request: Mapping[str, Any] | None
    expect: frozenset[int] = frozenset({200})


@dataclass(slots=True, frozen=True)
class Control:
    """A step through the mock's control API (move the clock, force a sync's outcome, ...)."""

    method: str
    path: str
    body: Mapping[str, Any] | None = None


@dataclass(slots=True, frozen=True)
class Sent:
    """A request that went over the wire, as the SDK's httpx client saw it."""

    method: str
    path: str
    status: int


@dataclass(slots=True)
class Outcome:
    """What one call gave: the typed result or the exception, and what went over the wire."""

    call: SdkCall
    result: Any = None
    error: BaseException | None = None
    sent: Sent | None = None

    @property
    def status(self) -> int | None:
        return self.sent.status if self.sent is not None else None

    @property
    def ok(self) -> bool:
        return self.error is None and self.status is not None and 200 <= self.status < 300


Step = SdkCall | Control
#: A scenario: a generator that yields steps and is sent each call's Outcome.
Scenario = Generator[Step, Any, None]


@dataclass(slots=True)
class ScenarioContext:
    """What a scenario works with: hypothesis draws, the strategies, the catalogue, and the
    mock clock as the scenario has moved it."""

    draw: Callable[[st.SearchStrategy[Any]], Any]
    strategies: SchemaStrategies
    catalog: MockOffer
    now: datetime = T0


def call(
    operation_id: str,
    params: Mapping[str, Any] | None = None,
    body: Any = ...,
    expect: Iterable[int] = (200,),
) -> Generator[Step, Any, Outcome]:
    """Yield one SDK call (params by their contract names) and return its Outcome."""
    request = METHOD_BY_OPERATION[operation_id].request(params or {}, body)
    outcome: Outcome = yield SdkCall(operation_id, request, frozenset(expect))
    return outcome


_CAUGHT = (errors.ErrorMessage, errors.SDKError, pydantic.ValidationError, httpx.HTTPError)


@dataclass(slots=True, frozen=True)
class MockOffer:
    """What the mock offers every client, read once: integrations, text keys, our clientId."""

    client_id: str
    integrations: tuple[Mapping[str, Any], ...]
    #: locale -> text key -> whether the key is required.
    texts: Mapping[str, Mapping[str, bool]]

    def platforms(self, source_type: str | None = None, *, enabled: bool = True) -> list[str]:
        return [
            str(i["key"])
            for i in self.integrations
            if (source_type is None or i.get("sourceType") == source_type)
            and bool(i.get("enabled", True)) == enabled
        ]


class Driver:
    """Plays scenarios through one SDK against one codat-mock and checks every call.

    ``transport`` and ``request_hooks`` go to the SDK's sync httpx client, so a test can make
    the SDK misbehave on the wire (rename a parameter, lose a field) and see the checks catch it.
    """

    def __init__(
        self,
        spec: Spec,
        url: str,
        authorization: str,
        run: ConformanceRun,
        *,
        transport: httpx.BaseTransport | None = None,
        request_hooks: Sequence[Callable[[httpx.Request], None]] = (),
        control_headers: Mapping[str, str] | None = None,
    ) -> None:
        self.spec = spec
        self.run = run
        self.strategies = SchemaStrategies(spec)
        self._sent: list[Sent] = []
        self._control = httpx.Client(
            base_url=url, headers=dict(control_headers or {}), trust_env=False, timeout=30
        )
        self._authorization = authorization
        self._loop = asyncio.new_event_loop()
        self._client = httpx.Client(
            trust_env=False,
            transport=transport,
            event_hooks={"request": list(request_hooks), "response": [self._record]},
        )
        self._async_client = httpx.AsyncClient(
            trust_env=False, event_hooks={"response": [self._record_async]}
        )
        # One SDK for the driver's life: it closes its clients when garbage-collected.
        self.sdk = CodatSyncCommerce(
            security=shared.Security(auth_header=authorization),
            server_url=url,
            client=self._client,
            async_client=self._async_client,
            retry_config=None,
        )
        self.catalog = self._read_catalog()

    def close(self) -> None:
        self._client.close()
        self._loop.run_until_complete(self._async_client.aclose())
        self._loop.close()
        self._control.post("/_mock/clock", json={"realTime": True})
        self._control.close()

    def __enter__(self) -> Driver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the wire --------------------------------------------------------------------------

    def _record(self, response: httpx.Response) -> None:
        request = response.request
        self._sent.append(Sent(request.method, request.url.path, response.status_code))

    async def _record_async(self, response: httpx.Response) -> None:
        self._record(response)

    def _read_catalog(self) -> MockOffer:
        headers = {"Authorization": self._authorization}
        whoami = self._control.get("/_mock/whoami", headers=headers).raise_for_status()
        listed = self._control.get(
            "/config/integrations", params={"pageSize": 2000}, headers=headers
        ).raise_for_status()
        operation = self.spec.operations["get-config-text-sync-flow"]
        locales = next(p for p in operation.parameters if p.name == "locale")
        texts = {}
        for locale in locales.schema["enum"]:
            answer = self._control.get(
                "/sync/commerce/config/ui/text", params={"locale": locale}, headers=headers
            ).raise_for_status()
            texts[locale] = {k: bool(v.get("required")) for k, v in answer.json().items()}
        return MockOffer(whoami.json()["clientId"], tuple(listed.json()["results"]), texts)

    # -- playing a scenario -------------------------------------------------------------------

    async def _call(self, call: SdkCall, use_async: bool) -> Outcome:
        before = len(self._sent)
        function = METHOD_BY_OPERATION[call.operation_id].function(self.sdk, use_async=use_async)
        outcome = Outcome(call)
        try:
            if use_async:
                outcome.result = await function(request=call.request)
            else:
                outcome.result = function(request=call.request)
        except _CAUGHT as exc:
            outcome.error = exc
        outcome.sent = self._sent[before] if len(self._sent) > before else None
        return outcome

    def play(self, scenario: Scenario, *, use_async: bool = False) -> list[Outcome]:
        """Run ``scenario`` from a reset mock with the clock at :data:`T0`.

        Both modes run on the driver's own event loop: the async SDK methods need one, and the
        sync ones do not mind (the loop just steps through the scenario).
        """
        self._control.post("/_mock/reset").raise_for_status()
        self._control.post("/_mock/clock", json={"set": T0.isoformat()}).raise_for_status()
        self._sent.clear()
        outcomes: list[Outcome] = []
        self._loop.run_until_complete(self._play(scenario, outcomes, use_async))
        return outcomes

    async def _play(self, scenario: Scenario, outcomes: list[Outcome], use_async: bool) -> None:
        reply: Any = None
        while True:
            try:
                step = scenario.send(reply)
            except StopIteration:
                return
            if isinstance(step, Control):
                answer = self._control.request(step.method, step.path, json=step.body)
                answer.raise_for_status()
                reply = None
                continue
            reply = await self._call(step, use_async)
            outcomes.append(reply)
            # A call whose result later steps cannot rely on ends the scenario.
            unparsed = reply.error is not None and (reply.status or 0) < 300
            if reply.status not in step.expect or unparsed:
                scenario.close()
                return

    # -- checking ---------------------------------------------------------------------------

    def journal(self) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = self._control.get("/_mock/requests").json()["requests"]
        return sorted(entries, key=lambda entry: int(entry["seq"]))

    def check(self, outcomes: Sequence[Outcome], *, mode: str = "sync") -> list[Finding]:
        """Every finding of the example that produced ``outcomes`` (known ones included)."""
        journal = self.journal()
        wired = [o for o in outcomes if o.sent is not None]
        findings: list[Finding] = []
        if len(wired) != len(journal):
            findings.append(
                Finding(
                    "journal",
                    "*",
                    "journal",
                    f"{len(wired)} requests went out, the journal holds {len(journal)}",
                    "",
                )
            )
            return findings
        entries = iter(journal)
        for outcome in outcomes:
            entry = next(entries) if outcome.sent is not None else None
            self.run.record(outcome.call.operation_id, mode, outcome.status)
            findings.extend(self._check_one(outcome, entry))
        for finding in findings:
            finding.known = self.run.observe(finding)
        return findings

    def _check_one(self, outcome: Outcome, entry: Mapping[str, Any] | None) -> list[Finding]:
        call = outcome.call
        operation = self.spec.operations[call.operation_id]
        shown = f"{METHOD_BY_OPERATION[call.operation_id].name}(request={call.request!r})"

        def finding(kind: str, where: str, detail: str) -> Finding:
            return Finding(kind, call.operation_id, where, detail, shown)

        found: list[Finding] = []
        if entry is None or outcome.sent is None:
            return [finding("refused", "request", f"nothing was sent: {outcome.error!r}")]
        if (entry["method"], entry["path"]) != (outcome.sent.method, outcome.sent.path):
            return [
                finding(
                    "journal", "journal", f"the journal shows {entry['method']} {entry['path']}"
                )
            ]
        if entry["operationId"] != call.operation_id:
            found.append(finding("request", "path", f"{entry['path']} is {entry['operationId']}"))
        for item in entry["violations"]:
            found.append(
                finding("request", str(item.get("itemId") or "request"), str(item["message"]))
            )
        for name, _ in parse_qsl(entry["query"], keep_blank_values=True):
            if name not in operation.query_names:
                found.append(
                    finding("request", f"query.{name}", "not a parameter of the operation")
                )
        status = outcome.status or 0
        error = outcome.error
        if 200 <= status < 300 and error is not None:
            annotation = METHOD_BY_OPERATION[call.operation_id].response_annotation
            where = "response"
            if isinstance(error, pydantic.ValidationError) and error.errors():
                where = parse_failure_location(annotation, error.errors()[0]["loc"])
            found.append(finding("response", where, f"the SDK could not parse it: {error}"[:600]))
        elif status >= 400 and isinstance(error, pydantic.ValidationError):
            found.append(
                finding("response", f"{status} response", f"unparsable error: {error}"[:600])
            )
        elif status >= 400 and isinstance(error, errors.SDKError):
            # Not a failure: the SDK's error typing, counted against its table row.
            self.run.observe(finding("typing", f"{status} response", ""))
        if status not in call.expect:
            body = str(entry.get("responseBody", ""))[:300]
            found.append(
                finding("status", f"status {status}", f"expected {sorted(call.expect)}: {body}")
            )
        self._observe_habits(call, entry)
        return found

    def _observe_habits(self, call: SdkCall, entry: Mapping[str, Any]) -> None:
        request = call.request or {}
        query = dict(parse_qsl(entry["query"]))
        paging = {"page", "pageSize"}
        sent_anyway = not paging & set(request) and paging <= set(query)
        if call.operation_id in LIST_OPERATIONS and sent_anyway:
            self.run.observe(
                Finding("habit", call.operation_id, "query.page, query.pageSize", "", "")
            )
        if call.operation_id == "set-configuration" and entry["requestBody"] == "":
            self.run.observe(Finding("habit", call.operation_id, "request body", "", ""))


def failures(findings: Iterable[Finding]) -> list[Finding]:
    """The findings no known disagreement explains: what fails the suite."""
    return [f for f in findings if f.known is None]


def describe(findings: Sequence[Finding]) -> str:
    return "\n".join(str(f) for f in findings)
