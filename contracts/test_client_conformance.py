"""Client conformance: the official SDK, method by method, against a codat-mock.

For each of the SDK's 22 methods, and again for each ``_async`` twin, hypothesis plays
``--examples`` scenarios (25 by default). A scenario sets the stage the way an integration
would (create a company, connect it, authorize, request syncs, move the mock clock) and then
calls the method under test with inputs drawn from ``openapi.yaml``, narrowed to what makes
sense: platform keys from the catalogue, ids made earlier in the same example. Every call of
the scenario is then checked against the mock's journal (see
:meth:`contracts.client.Driver.check`): the SDK sent nothing off-contract, it
parsed every response, and each answer is one the inputs explain (an overlapping sync range is
a 400, a sync requested while another runs blocks set-configuration with a 409, ...).

Known disagreements between the SDK and the contract do not fail the suite; they are counted
and printed as a table in the terminal summary (and written to ``$CODAT_MOCK_DISAGREEMENTS``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.client import (
    METHODS,
    ConformanceRun,
    Control,
    Driver,
    Outcome,
    Scenario,
    ScenarioContext,
    Step,
    SummaryPlugin,
    call,
    describe,
    failures,
    flatten,
    instants,
    json_types,
    render_instant,
    rendered_instants,
    write_table,
)
from mockserver.clock import parse_datetime
from mockserver.spec import Spec
from mockserver.store.instants import one_month_before

if TYPE_CHECKING:
    from contracts.conftest import Summary, Target

pytestmark = pytest.mark.filterwarnings(
    "ignore:Accessing the 'model_fields' attribute on the instance is deprecated"
    r":pydantic.warnings.PydanticDeprecatedSince211:codat_sync_for_commerce\.models\."
)

#: How far the scenarios move the clock: well past any sync's duration.
ADVANCE = 86_400
#: Sync status codes the control API can force, by what they mean for a sync's outcome.
IN_PROGRESS_CODES = (1000, 1010)
SUCCESS_CODES = (2000, 2040)
FAILURE_CODES = (4000, 4040, 4200, 4220, 4260, 5000, 5080, 5120, 5130)
CONNECTION_STATES = ("PendingAuth", "Linked", "Unlinked", "Deauthorized")

Steps = Generator[Step, Any, Any]


# -- what a scenario knows about the companies it made ------------------------------------------


@dataclass(slots=True)
class SyncModel:
    id: str
    start: datetime
    finish: datetime
    requested: datetime
    forced: int | None = None

    def outcome(self, now: datetime) -> str:
        if self.forced is not None:
            if self.forced in IN_PROGRESS_CODES:
                return "in_progress"
            return "success" if self.forced in SUCCESS_CODES else "failure"
        # Scenarios only ever move the clock by ADVANCE, far past a sync's duration.
        return "success" if now > self.requested else "in_progress"


@dataclass(slots=True)
class CompanyModel:
    id: str
    record: dict[str, Any]
    connections: list[dict[str, Any]] = field(default_factory=list)
    syncs: list[SyncModel] = field(default_factory=list)
    schedule_start: datetime | None = None

    def succeeded(self, now: datetime) -> list[SyncModel]:
        return [s for s in self.syncs if s.outcome(now) == "success"]

    def running(self, now: datetime) -> bool:
        return any(s.outcome(now) == "in_progress" for s in self.syncs)

    def accepts(self, start: datetime, finish: datetime, now: datetime) -> bool:
        """Whether a sync of ``[start, finish)`` may start: not empty, and no in-progress or
        successful sync covers any of it."""
        return finish > start and not any(
            s.outcome(now) != "failure" and start < s.finish and s.start < finish
            for s in self.syncs
        )


def instant(text: str) -> datetime:
    return parse_datetime(text).replace(microsecond=0)


# -- building blocks ------------------------------------------------------------------------------


def company_names(w: ScenarioContext) -> st.SearchStrategy[str]:
    """Names the contract allows that still name something once Codat drops what it ignores."""
    schema = w.strategies.body_schema("create-company")["properties"]["name"]
    return w.strategies.for_schema(schema).filter(lambda name: bool(name.strip()))


def new_company(w: ScenarioContext) -> Steps:
    body = w.draw(w.strategies.body("create-company", {"name": company_names(w)}))
    made = yield from call("create-company", body=body)
    return CompanyModel(made.result.id, made.result.model_dump(by_alias=True, mode="json"))


def advance(w: ScenarioContext) -> Steps:
    yield Control("POST", "/_mock/clock", {"advance": ADVANCE})
    w.now += timedelta(seconds=ADVANCE)


def new_connection(w: ScenarioContext, company: CompanyModel, state: str = "PendingAuth") -> Steps:
    """A connection of ``company`` to an enabled platform, brought into ``state``."""
    key = w.draw(st.sampled_from(w.catalog.platforms()))
    body = w.draw(w.strategies.body("create-connection"))
    made = yield from call(
        "create-connection", {"companyId": company.id}, {**body, "platformKey": key}
    )
    connection: dict[str, Any] = made.result.model_dump(by_alias=True, mode="json")
    ids = {"companyId": company.id, "connectionId": connection["id"]}
    if state != "PendingAuth":
        auth = w.draw(w.strategies.body("update-connection-authorization"))
        linked = yield from call("update-connection-authorization", ids, auth)
        connection = linked.result.model_dump(by_alias=True, mode="json")
    if state == "Unlinked":
        unlinked = yield from call("update-connection", ids, {"status": "Unlinked"})
        connection = unlinked.result.model_dump(by_alias=True, mode="json")
    if state == "Deauthorized":
        path = f"/_mock/companies/{company.id}/connections/{connection['id']}/deauthorize"
        yield Control("POST", path)
        connection["status"] = "Deauthorized"
    company.connections.append(connection)
    return connection


def some_connections(w: ScenarioContext, company: CompanyModel, most: int = 2) -> Steps:
    for _ in range(w.draw(st.integers(0, most))):
        yield from new_connection(w, company, w.draw(st.sampled_from(CONNECTION_STATES)))


def learn_schedule(w: ScenarioContext, company: CompanyModel) -> Steps:
    """Read the configuration, whose schedule says where a company's first sync starts."""
    got = yield from call("get-configuration", {"companyId": company.id})
    schedule = got.result.schedule
    start = schedule.start_date if schedule is not None else None
    company.schedule_start = instant(start) if start else None


def request_sync(w: ScenarioContext, company: CompanyModel) -> Steps:
    """request-sync with a drawn body; the expected answer follows from the company's syncs."""
    sync_to = st.one_of(st.none(), rendered_instants(w.now))
    body = w.draw(st.one_of(st.just(...), w.strategies.body("request-sync", {"syncTo": sync_to})))
    given_to = body.get("syncTo") if isinstance(body, dict) else None
    finish = instant(given_to) if given_to else w.now
    done = company.succeeded(w.now)
    start = (
        max(s.finish for s in done) if done else company.schedule_start or one_month_before(w.now)
    )
    fits = company.accepts(start, finish, w.now)
    got = yield from call("request-sync", {"companyId": company.id}, body, [200 if fits else 400])
    if got.ok:
        company.syncs.append(SyncModel(got.result.commerce_sync_id, start, finish, w.now))


def after_a_sync(w: ScenarioContext, company: CompanyModel) -> Steps:
    """Leave the latest sync running, let it finish, or force an outcome."""
    action = w.draw(st.sampled_from(["advance", "leave", "force", "advance"]))
    if action == "advance":
        yield from advance(w)
    elif action == "force" and company.syncs:
        code = w.draw(st.sampled_from(IN_PROGRESS_CODES + SUCCESS_CODES + FAILURE_CODES))
        latest = company.syncs[-1]
        yield Control("POST", f"/_mock/syncs/{latest.id}/outcome", {"syncStatusCode": code})
        latest.forced = code


def company_with_history(w: ScenarioContext, *, most_syncs: int = 2) -> Steps:
    """A company with a few connections and a few syncs in various states."""
    company = yield from new_company(w)
    yield from some_connections(w, company)
    yield from learn_schedule(w, company)
    # One sync first (shrinking goes there), then more or none.
    for _ in range(w.draw(st.sampled_from([1, *range(most_syncs + 1)]))):
        yield from request_sync(w, company)
        yield from after_a_sync(w, company)
    return company


# -- list queries -------------------------------------------------------------------------------


def scalar_properties(w: ScenarioContext, operation_id: str) -> list[str]:
    """The top-level scalar properties of the items a list operation returns."""
    validator = w.strategies.spec.operations[operation_id].responses[200].validator
    assert validator is not None
    page = flatten(w.strategies.spec.resolved(validator.pointer))
    item = flatten(page["properties"]["results"]["items"])
    scalar = {"string", "integer", "boolean", "number"}
    return sorted(
        name
        for name, schema in item["properties"].items()
        if set(json_types(flatten(schema))) - {"null"} <= scalar and json_types(flatten(schema))
    )


def quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def list_query(w: ScenarioContext, operation_id: str, records: Sequence[Mapping[str, Any]]) -> Any:
    """Paging, a Codat query over the items' own properties and values, and an orderBy."""
    names = scalar_properties(w, operation_id)
    words = st.text("abcdefghijklmnopqrstuvwxyz0123456789 -", min_size=1, max_size=8)

    def comparison() -> str:
        name = w.draw(st.sampled_from(names))
        seen = [r[name] for r in records if isinstance(r.get(name), (str, int, bool))]
        raw = w.draw(st.sampled_from(seen) | words if seen else words)
        value = str(raw).lower() if isinstance(raw, bool) else str(raw)
        operator = w.draw(st.sampled_from(["=", "!=", "~", ">", "<", ">=", "<="]))
        return f"{name}{operator}{quoted(value)}"

    text = comparison()
    for _ in range(w.draw(st.integers(0, 2))):
        joiner = w.draw(st.sampled_from(["&&", "||"]))
        text = f"{text} {joiner} {comparison()}"
        if w.draw(st.booleans()):
            text = "{" + text + "}"
    order = st.builds(lambda n, d: ("-" if d else "") + n, st.sampled_from(names), st.booleans())
    overrides = {"query": st.just(text), "orderBy": order}
    return w.draw(w.strategies.query(operation_id, overrides))


# -- one scenario per SDK method ----------------------------------------------------------------


def list_integrations(w: ScenarioContext) -> Scenario:
    params = list_query(w, "list-integrations", w.catalog.integrations)
    yield from call("list-integrations", params)


def get_integration_branding(w: ScenarioContext) -> Scenario:
    key = w.draw(st.sampled_from(w.catalog.platforms() + w.catalog.platforms(enabled=False)))
    yield from call("get-integration-branding", {"platformKey": key})


def get_sync_flow_url(w: ScenarioContext) -> Scenario:
    params: dict[str, Any] = {
        "commerceKey": w.draw(st.sampled_from(w.catalog.platforms("Commerce"))),
        "accountingKey": w.draw(st.sampled_from(w.catalog.platforms("Accounting"))),
    }
    choice = w.draw(st.sampled_from(["none", "id", "name", "new"]))
    if choice in ("id", "name"):
        company = yield from new_company(w)
        yield from some_connections(w, company, most=1)
        params["merchantIdentifier"] = company.id if choice == "id" else company.record["name"]
    elif choice == "new":
        params["merchantIdentifier"] = w.draw(company_names(w))
    yield from call("get-sync-flow-url", params)


def create_company(w: ScenarioContext) -> Scenario:
    yield from new_company(w)


def list_companies(w: ScenarioContext) -> Scenario:
    records = []
    for _ in range(w.draw(st.integers(0, 3))):
        company = yield from new_company(w)
        yield from some_connections(w, company, most=1)
        records.append(company.record)
    yield from call("list-companies", list_query(w, "list-companies", records))


def get_configuration(w: ScenarioContext) -> Scenario:
    company = yield from new_company(w)
    yield from some_connections(w, company)
    if w.draw(st.booleans()):
        yield from call("set-configuration", {"companyId": company.id})
    yield from call("get-configuration", {"companyId": company.id})


def set_configuration(w: ScenarioContext) -> Scenario:
    company = yield from company_with_history(w)
    if w.draw(st.booleans()):
        yield from request_sync(w, company)  # often still running: a 409 then
    busy = company.running(w.now)
    yield from call("set-configuration", {"companyId": company.id}, expect=[409 if busy else 200])


def create_connection(w: ScenarioContext) -> Scenario:
    company = yield from new_company(w)
    yield from some_connections(w, company, most=1)
    key = w.draw(st.sampled_from(w.catalog.platforms() + w.catalog.platforms(enabled=False)))
    body = {**w.draw(w.strategies.body("create-connection")), "platformKey": key}
    if w.draw(st.booleans()):
        # The contract leaves platformKey optional, but a connection needs one: 400 without.
        keyless = {k: v for k, v in body.items() if k != "platformKey"}
        body = w.draw(st.sampled_from([keyless, ...]))
    named = body.get("platformKey") if isinstance(body, dict) else None
    fine = named is not None and named in w.catalog.platforms()
    yield from call("create-connection", {"companyId": company.id}, body, [200 if fine else 400])


def list_connections(w: ScenarioContext) -> Scenario:
    company = yield from new_company(w)
    yield from some_connections(w, company, most=3)
    params = list_query(w, "list-connections", company.connections)
    yield from call("list-connections", {"companyId": company.id, **params})


def update_connection(w: ScenarioContext) -> Scenario:
    company = yield from new_company(w)
    connection = yield from new_connection(w, company, w.draw(st.sampled_from(CONNECTION_STATES)))
    body = w.draw(st.one_of(st.just(...), w.strategies.body("update-connection")))
    status = body.get("status") if isinstance(body, dict) else None
    # Only Linked -> Unlinked is a change a client may ask for; no status changes nothing.
    fine = status is None or (status == "Unlinked" and connection["status"] == "Linked")
    ids = {"companyId": company.id, "connectionId": connection["id"]}
    yield from call("update-connection", ids, body, [200 if fine else 400])


def update_connection_authorization(w: ScenarioContext) -> Scenario:
    company = yield from new_company(w)
    connection = yield from new_connection(w, company, w.draw(st.sampled_from(CONNECTION_STATES)))
    body = w.draw(st.one_of(st.just(...), w.strategies.body("update-connection-authorization")))
    ids = {"companyId": company.id, "connectionId": connection["id"]}
    yield from call("update-connection-authorization", ids, body)


def get_config_text_sync_flow(w: ScenarioContext) -> Scenario:
    if w.draw(st.booleans()):
        yield from update_config_text_sync_flow(w)
    params = w.draw(w.strategies.query("get-config-text-sync-flow"))
    yield from call("get-config-text-sync-flow", params)


def update_config_text_sync_flow(w: ScenarioContext) -> Scenario:
    params = w.draw(w.strategies.query("update-config-text-sync-flow"))
    known = w.catalog.texts[params["locale"]]
    entry = w.strategies.body_schema("update-config-text-sync-flow")["additionalProperties"]
    changes = st.dictionaries(
        st.sampled_from(sorted(known)), w.strategies.for_schema(entry), max_size=4
    )
    body = w.draw(st.one_of(st.just(...), changes))
    # A text the merchant must fill in cannot be set to nothing.
    blanked = [
        k
        for k, v in (body.items() if isinstance(body, dict) else ())
        if known[k] and isinstance(v.get("text"), str) and not v["text"].strip()
    ]
    yield from call("update-config-text-sync-flow", params, body, [400 if blanked else 200])


def get_visible_accounts(w: ScenarioContext) -> Scenario:
    key = w.draw(st.sampled_from(w.catalog.platforms() + w.catalog.platforms(enabled=False)))
    if w.draw(st.booleans()):
        body = w.draw(w.strategies.body("update-visible-accounts-sync-flow"))
        yield from call("update-visible-accounts-sync-flow", {"platformKey": key}, body)
    params = {"clientId": w.catalog.client_id, "platformKey": key}
    yield from call("get-visible-accounts", params)


def update_visible_accounts_sync_flow(w: ScenarioContext) -> Scenario:
    key = w.draw(st.sampled_from(w.catalog.platforms() + w.catalog.platforms(enabled=False)))
    body = w.draw(st.one_of(st.just(...), w.strategies.body("update-visible-accounts-sync-flow")))
    yield from call("update-visible-accounts-sync-flow", {"platformKey": key}, body)


def request_sync_scenario(w: ScenarioContext) -> Scenario:
    company = yield from company_with_history(w)
    yield from request_sync(w, company)


def request_sync_for_date_range(w: ScenarioContext) -> Scenario:
    company = yield from company_with_history(w, most_syncs=1)
    anchors = [w.now, *(s.finish for s in company.syncs), *(s.start for s in company.syncs)]
    # Mostly after an anchor, where a range can fit; sometimes across one, or empty.
    start = w.draw(st.sampled_from(anchors).flatmap(lambda a: instants(a, back=2, ahead=60)))
    forward = st.integers(1, 90 * 86_400)
    length = w.draw(
        st.one_of(forward, forward, st.sampled_from([1, 0, -1]), st.integers(-86_400, 0))
    )
    finish = start + timedelta(seconds=length)
    styles = st.integers(0, 3)
    date_range = {
        "start": render_instant(start, w.draw(styles)),
        "finish": render_instant(finish, w.draw(styles)),
    }
    body = w.draw(
        w.strategies.body("request-sync-for-date-range", {"dateRange": st.just(date_range)})
    )
    fits = company.accepts(start, finish, w.now)
    params = {"companyId": company.id}
    yield from call("request-sync-for-date-range", params, body, [200 if fits else 400])


def get_sync_status(w: ScenarioContext) -> Scenario:
    company = yield from company_with_history(w)
    expect = 200 if company.syncs else 404
    yield from call("get-sync-status", {"companyId": company.id}, expect=[expect])


def get_last_successful_sync(w: ScenarioContext) -> Scenario:
    company = yield from company_with_history(w)
    expect = 200 if company.succeeded(w.now) else 404
    yield from call("get-last-successful-sync", {"companyId": company.id}, expect=[expect])


def get_latest_sync(w: ScenarioContext) -> Scenario:
    company = yield from company_with_history(w)
    expect = 200 if company.syncs else 404
    yield from call("get-latest-sync", {"companyId": company.id}, expect=[expect])


def get_sync_by_id(w: ScenarioContext) -> Scenario:
    company = yield from company_with_history(w)
    ids = st.uuids().map(str)
    known = [s.id for s in company.syncs]
    sync_id = w.draw(st.sampled_from(known) | ids if known else ids)
    expect = 200 if sync_id in known else 404
    yield from call("get-sync-by-id", {"companyId": company.id, "syncId": sync_id}, expect=[expect])


def list_syncs(w: ScenarioContext) -> Scenario:
    company = yield from company_with_history(w)
    yield from call("list-syncs", {"companyId": company.id})


SCENARIOS: Mapping[str, Callable[[ScenarioContext], Scenario]] = MappingProxyType(
    {
        "list-integrations": list_integrations,
        "get-integration-branding": get_integration_branding,
        "get-sync-flow-url": get_sync_flow_url,
        "create-company": create_company,
        "list-companies": list_companies,
        "get-configuration": get_configuration,
        "set-configuration": set_configuration,
        "create-connection": create_connection,
        "list-connections": list_connections,
        "update-connection": update_connection,
        "update-connection-authorization": update_connection_authorization,
        "get-config-text-sync-flow": get_config_text_sync_flow,
        "update-config-text-sync-flow": update_config_text_sync_flow,
        "get-visible-accounts": get_visible_accounts,
        "update-visible-accounts-sync-flow": update_visible_accounts_sync_flow,
        "request-sync": request_sync_scenario,
        "request-sync-for-date-range": request_sync_for_date_range,
        "get-sync-status": get_sync_status,
        "get-last-successful-sync": get_last_successful_sync,
        "get-latest-sync": get_latest_sync,
        "get-sync-by-id": get_sync_by_id,
        "list-syncs": list_syncs,
    }
)

#: Every method runs twice: through its sync form, and through its ``_async`` twin (in the async
#: run, the scenario's set-up calls use the ``_async`` methods as well).
CASES = [
    pytest.param(m.operation_id, mode, id=m.operation_id + ("-async" if mode == "async" else ""))
    for mode in ("sync", "async")
    for m in METHODS
]


# -- the suite ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def conformance(request: pytest.FixtureRequest) -> Iterator[tuple[Spec, ConformanceRun]]:
    """The contract and the run's record, shared by the module; the table is printed in the
    terminal summary and written to $CODAT_MOCK_DISAGREEMENTS when the module is done."""
    spec = Spec.load()
    run = ConformanceRun.for_spec(spec)
    manager = request.config.pluginmanager
    name = "codat-mock-client-conformance"
    if manager.has_plugin(name):
        manager.unregister(name=name)
    manager.register(SummaryPlugin(run), name)
    yield spec, run
    path = os.environ.get("CODAT_MOCK_DISAGREEMENTS")
    if path:
        write_table(run, path)


def test_every_sdk_method_has_a_scenario() -> None:
    assert set(SCENARIOS) == {m.operation_id for m in METHODS}
    assert len(SCENARIOS) == 22


@pytest.mark.parametrize(("operation_id", "mode"), CASES)
def test_sdk_method_keeps_to_the_contract(
    operation_id: str,
    mode: str,
    own_mock_target: Target,
    conformance: tuple[Spec, ConformanceRun],
    summary: Summary,
) -> None:
    spec, run = conformance
    before = run.examples[(operation_id, mode)]
    try:
        _keeps_to_the_contract(spec, run, own_mock_target, operation_id, mode)
    except BaseException:
        summary.record("client", f"{operation_id} ({mode})", cases=0, failed=True)
        raise
    finally:
        ran = run.examples[(operation_id, mode)] - before
        summary.record("client", f"{operation_id} ({mode})", cases=ran)


def _keeps_to_the_contract(
    spec: Spec, run: ConformanceRun, target: Target, operation_id: str, mode: str
) -> None:
    """Every generated example of the method's scenario, checked; some answered 2xx."""
    scenario = SCENARIOS[operation_id]
    answered: list[Outcome] = []
    with Driver(
        spec, target.url, target.authorization, run, control_headers=target.control_headers
    ) as driver:

        @settings(
            max_examples=target.examples,
            deadline=None,
            derandomize=True,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        )
        @given(data=st.data())
        def example(data: st.DataObject) -> None:
            world = ScenarioContext(data.draw, driver.strategies, driver.catalog)
            outcomes = driver.play(scenario(world), use_async=mode == "async")
            run.examples[(operation_id, mode)] += 1
            answered.extend(o for o in outcomes if o.call.operation_id == operation_id and o.ok)
            unexplained = failures(driver.check(outcomes, mode=mode))
            assert not unexplained, describe(unexplained)

        example()
    # The generated inputs must be meaningful: the method under test succeeded for some.
    assert answered, f"{operation_id} ({mode}) never answered 2xx"


def test_the_table_lists_what_reading_the_sdk_finds(
    conformance: tuple[Spec, ConformanceRun],
) -> None:
    """The static comparison finds the disagreements known from reading the SDK by hand."""
    _, run = conformance
    rows = {(r.operation, r.where): r for r in run.disagreements}
    key = rows[("create-connection", "response.integrationKey")]
    assert (key.sdk_says, key.contract_says) == ("required", "optional")
    for operation, where in [
        ("list-connections", "response.results[].integrationKey"),
        ("list-companies", "response.results[].dataConnections[].integrationKey"),
        ("get-sync-status", "response.dataConnections[].integrationKey"),
        ("list-integrations", "response.results[].datatypeFeatures[].datatype"),
        ("update-connection", "400 response"),
        ("create-company", "413 response"),
        ("list-companies", "query.page, query.pageSize"),
        ("set-configuration", "request body"),
    ]:
        assert (operation, where) in rows, (operation, where)
    # Statuses the SDK does type are not listed.
    assert ("update-connection", "404 response") not in rows
    assert ("set-configuration", "409 response") not in rows
