"""Proof that the client conformance checks catch what they are for.

The suite (``contracts/test_client_conformance.py``) passes against the real SDK, which on its
own proves nothing: a checker that never complains passes too. Here the SDK is made to
misbehave on purpose, through its own httpx client, against an in-process strict mock:

* an event hook renames ``pageSize`` to ``page_size``, or sends ``pageSize=0``: the request
  leaves the contract, and the check names the parameter;
* a transport drops ``integrationKey`` from a connection the mock sent: the body still keeps
  the contract, the SDK cannot parse it, and the check reports a parse failure that the
  table's ``integrationKey`` row explains (and that fails the suite when the row is absent).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import httpx
import pytest
from codat_sync_for_commerce.models import shared
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from contracts.client import (
    ConformanceRun,
    Disagreement,
    Driver,
    Finding,
    Scenario,
    ScenarioContext,
    call,
    describe,
    failures,
    format_table,
    parse_failure_location,
)
from contracts.test_client_conformance import SCENARIOS, new_company
from mockserver.auth import authorization_for
from mockserver.server import MockServer
from mockserver.settings import Settings
from mockserver.spec import Spec

pytestmark = pytest.mark.filterwarnings(
    "ignore:Accessing the 'model_fields' attribute on the instance is deprecated"
    r":pydantic.warnings.PydanticDeprecatedSince211:codat_sync_for_commerce\.models\."
)

AUTHORIZATION = authorization_for("catches-key")


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer(Settings(port=0, strict=True)) as mock:
        yield mock


@pytest.fixture(scope="module")
def run(spec: Spec) -> ConformanceRun:
    return ConformanceRun.for_spec(spec)


def rename_page_size(request: httpx.Request) -> None:
    """An httpx request hook: ``pageSize`` goes out as ``page_size``."""
    params = [
        ("page_size" if name == "pageSize" else name, value)
        for name, value in request.url.params.multi_items()
    ]
    request.url = request.url.copy_with(params=params)


def zero_page_size(request: httpx.Request) -> None:
    """An httpx request hook: ``pageSize`` goes out as 0 (the contract's minimum is 1)."""
    if "pageSize" in request.url.params:
        request.url = request.url.copy_merge_params({"pageSize": "0"})


class DropField(httpx.BaseTransport):
    """A transport that removes one top-level field from every created connection."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.method != "POST" or not request.url.path.endswith("/connections"):
            return response
        response.read()
        body = json.loads(response.content)
        body.pop(self.name, None)
        return httpx.Response(response.status_code, json=body, request=request)

    def close(self) -> None:
        self.inner.close()


def list_companies_once(w: ScenarioContext) -> Scenario:
    yield from new_company(w)
    yield from call("list-companies")


def connect_once(w: ScenarioContext) -> Scenario:
    company = yield from new_company(w)
    yield from call("create-connection", {"companyId": company.id}, {"platformKey": "gbol"})


def play_once(driver: Driver, scenario: Callable[[ScenarioContext], Scenario]) -> list[Finding]:
    """Play a scenario that draws nothing but a company, with a fixed hypothesis draw."""
    found: list[Finding] = []

    @settings(max_examples=1, database=None, derandomize=True, deadline=None)
    @given(data=st.data())
    def once(data: st.DataObject) -> None:
        world = ScenarioContext(data.draw, driver.strategies, driver.catalog)
        outcomes = driver.play(scenario(world))
        found.extend(driver.check(outcomes))

    once()
    return found


# -- an off-contract request ----------------------------------------------------------------


def test_a_renamed_query_parameter_is_reported(
    server: MockServer, spec: Spec, run: ConformanceRun
) -> None:
    with Driver(spec, server.url, AUTHORIZATION, run, request_hooks=[rename_page_size]) as driver:
        found = play_once(driver, list_companies_once)
    renamed = [f for f in found if f.operation == "list-companies" and f.kind == "request"]
    assert [(f.where, f.known) for f in renamed] == [("query.page_size", None)]
    assert "not a parameter" in renamed[0].detail
    assert renamed[0] in failures(found)
    # create-company, untouched by the hook, is clean.
    assert not [f for f in found if f.operation == "create-company"]


def test_a_page_size_below_the_minimum_is_a_journal_violation(
    server: MockServer, spec: Spec, run: ConformanceRun
) -> None:
    with Driver(spec, server.url, AUTHORIZATION, run, request_hooks=[zero_page_size]) as driver:
        found = play_once(driver, list_companies_once)
    kinds = {(f.kind, f.where) for f in failures(found)}
    # The mock's validator flagged the parameter, and answered the 400 nothing explains.
    assert ("request", "query.pageSize") in kinds
    assert ("status", "status 400") in kinds


def test_the_suite_fails_when_the_sdk_sends_an_undeclared_parameter(
    server: MockServer, spec: Spec, run: ConformanceRun
) -> None:
    """The suite's own list-companies scenario, hypothesis and all, fails on the hook."""
    with Driver(spec, server.url, AUTHORIZATION, run, request_hooks=[rename_page_size]) as driver:

        @settings(
            max_examples=5,
            database=None,
            derandomize=True,
            deadline=None,
            # Shrinking would replay the failure dozens of times; the first one proves the point.
            phases=[Phase.generate],
            suppress_health_check=[HealthCheck.too_slow],
        )
        @given(data=st.data())
        def example(data: st.DataObject) -> None:
            world = ScenarioContext(data.draw, driver.strategies, driver.catalog)
            outcomes = driver.play(SCENARIOS["list-companies"](world))
            unexplained = failures(driver.check(outcomes))
            assert not unexplained, describe(unexplained)

        with pytest.raises(AssertionError, match=r"\[request\] list-companies query\.page_size"):
            example()


# -- a response the SDK cannot parse ---------------------------------------------------------


def test_a_connection_without_integration_key_is_a_parse_failure(
    server: MockServer, spec: Spec, run: ConformanceRun
) -> None:
    dropped: list[dict[str, object]] = []

    class Keep(DropField):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            response = super().handle_request(request)
            if request.url.path.endswith("/connections") and request.method == "POST":
                dropped.append(json.loads(response.read()))
            return response

    with Driver(spec, server.url, AUTHORIZATION, run, transport=Keep("integrationKey")) as driver:
        found = play_once(driver, connect_once)
    # What the SDK got still keeps the contract: integrationKey is optional there.
    (connection,) = dropped
    assert "integrationKey" not in connection
    assert spec.check("Connection", connection) == []
    (parse,) = [f for f in found if f.kind == "response"]
    assert (parse.operation, parse.where) == ("create-connection", "response.integrationKey")
    assert "could not parse" in parse.detail
    # The table explains it, so the suite counts it rather than failing...
    assert parse.known is not None
    assert (parse.known.sdk_says, parse.known.contract_says) == ("required", "optional")
    assert parse.known.seen >= 1
    assert failures(found) == []


def test_the_same_parse_failure_fails_the_suite_without_its_table_row(
    server: MockServer, spec: Spec
) -> None:
    bare = ConformanceRun(disagreements=[])
    with Driver(spec, server.url, AUTHORIZATION, bare, transport=DropField("integrationKey")) as d:
        found = play_once(d, connect_once)
    assert [(f.kind, f.where) for f in failures(found)] == [("response", "response.integrationKey")]


def test_an_unparsable_required_field_outside_the_table_fails(
    server: MockServer, spec: Spec, run: ConformanceRun
) -> None:
    """Dropping ``status`` (which the contract requires too) is no known disagreement."""
    with Driver(spec, server.url, AUTHORIZATION, run, transport=DropField("status")) as driver:
        found = play_once(driver, connect_once)
    assert [(f.kind, f.where) for f in failures(found)] == [("response", "response.status")]


# -- the table's pieces ----------------------------------------------------------------------


def test_parse_failure_locations_skip_pydantic_union_tags() -> None:
    tagged = ("body", "dataConnections", "nullable[list[Connection]]", 0, "integrationKey")
    assert parse_failure_location(shared.SyncStatus, tagged) == (
        "response.dataConnections[].integrationKey"
    )
    nested = ("body", "results", 0, "dataConnections", 0, "integrationKey")
    assert parse_failure_location(shared.Companies, nested) == (
        "response.results[].dataConnections[].integrationKey"
    )


def test_the_table_merges_rows_that_differ_only_in_operation() -> None:
    rows = [
        Disagreement("a-op", "x", "required", "optional", "fails", seen=2),
        Disagreement("b-op", "x", "required", "optional", "fails", seen=1),
        Disagreement("c-op", "y|z", "n", "m", "e"),
    ]
    lines = format_table(rows).splitlines()
    assert lines[2] == "| a-op, b-op | `x` | required | optional | fails | 3 |"
    assert lines[3] == "| c-op | `y\\|z` | n | m | e | 0 |"
    assert len(lines) == 4
