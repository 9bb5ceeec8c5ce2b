"""Server conformance: a server held to ``openapi.yaml`` by schemathesis, every phase and check.

Each operation gets the examples, coverage and fuzzing phases (reported one operation at a
time); a stateful run then chains operations through the contract's OpenAPI links. The server
is the ``target``: an in-process codat-mock (strict, so a response that breaks the contract
comes back as a loud 500), or whatever ``--base-url`` names.

* On a codat-mock the suite works in a tenant of its own (see ``contracts/conftest.py``),
  reset (``POST /_mock/reset {"clientId": ...}``) before each operation's run and before each
  stateful scenario, so no run depends on what an earlier one left behind, and nobody else's
  data, faults or webhooks are touched.
* Any other server (the live Codat API, say) is left as it is. Without ``--allow-writes`` the
  suite calls only the operations that read, and skips the stateful phase, whose chains start
  by creating things.
* ``--examples`` sets the fuzzing cases per operation and, in proportion, the stateful budget.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import schemathesis
from schemathesis import Case
from schemathesis.core.failures import FailureGroup
from schemathesis.generation.meta import TestPhase
from schemathesis.schemas import BaseSchema

from contracts.conftest import Summary, Target, Tenant
from contracts.server_conformance import (
    ADDITIONAL_CHECKS,
    Budget,
    Vocabulary,
    note_failed_checks,
    run_stateful,
    schema_for_url,
)

#: The page size the vocabulary asks integrations in (the contract's largest).
PAGE_SIZE = 5000


def may_write(target: Target) -> bool:
    """Whether the suite may call operations that change the server's data."""
    return target.is_mock or target.allow_writes


@dataclass(slots=True)
class Server:
    """The target as the suite drives it: its own tenant when it is a codat-mock."""

    target: Target
    #: The run's tenant on a codat-mock; ``None`` for a server that is no codat-mock.
    tenant: Tenant | None
    #: The operation whose run is under way (so a reset comes when the next one starts).
    operation: str | None = None
    #: Says when a new operation's run starts.
    progress: Callable[[str], None] = lambda _: None

    def reset(self) -> None:
        """Put the run's tenant back to the seed data (nothing to do for another server)."""
        if self.tenant is not None:
            self.tenant.reset()

    def begin(self, operation: str) -> None:
        """Called before every case: a new operation's run starts from the seed data.

        State still accumulates between the cases of one run: that is what a stateful mock is
        for (a case that creates a company makes the next case's list longer).
        """
        if operation != self.operation:
            self.operation = operation
            self.progress(f"server: {operation}")
            self.reset()

    def vocabulary(self) -> Vocabulary:
        """Platform keys (and, from a mock, the caller's clientId) that the server knows."""
        # Through the same proxies (if any) as schemathesis' own requests: for the live API a
        # proxy may be the only way out.
        with httpx.Client(
            base_url=self.target.url,
            headers={"Authorization": self.target.authorization},
            timeout=30,
        ) as api:
            response = api.get("/config/integrations", params={"pageSize": PAGE_SIZE})
            response.raise_for_status()
            integrations = response.json()["results"]
        client_ids = (self.tenant.client_id,) if self.tenant is not None else ()

        def keys(source_type: str) -> tuple[str, ...]:
            return tuple(i["key"] for i in integrations if i.get("sourceType") == source_type)

        return Vocabulary(
            commerce_keys=keys("Commerce"),
            accounting_keys=keys("Accounting"),
            client_ids=client_ids,
        )


@pytest.fixture(scope="session")
def server(
    target: Target, request: pytest.FixtureRequest, progress: Callable[[str], None]
) -> Server:
    tenant = request.getfixturevalue("tenant") if target.is_mock else None
    return Server(target, tenant, progress=progress)


@pytest.fixture(scope="session")
def budget(target: Target) -> Budget:
    return Budget.for_examples(target.examples)


@pytest.fixture(scope="session")
def conformance_schema(server: Server, budget: Budget) -> BaseSchema:
    """The contract aimed at the target; read-only unless the suite may write."""
    server.reset()  # the vocabulary is read from the seed data
    target = server.target
    return schema_for_url(
        target.url,
        target.authorization,
        budget,
        server.vocabulary(),
        read_only=not may_write(target),
        operations=target.operations,
    )


lazy_schema = schemathesis.pytest.from_fixture("conformance_schema")


@pytest.fixture(autouse=True)
def node_id_alias(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let schemathesis rename the running test after each operation, on pytest 9.2 too.

    A lazily loaded schema reports each operation under the test's node id plus the
    operation, which it sets through ``Item._nodeid``; pytest 9.2 keeps the id in a structured
    ``_id`` instead and has no ``_nodeid`` left, so the lazy run stops with an AttributeError
    (schemathesis 4.32.5, the newest at the time of writing). This puts the old attribute
    back, for this module's tests only.
    """
    if hasattr(pytest.Item, "_nodeid"):
        return  # a pytest from before 9.2

    def set_node_id(item: pytest.Item, value: str) -> None:
        item._id = type(item._id).parse(value)

    alias = property(lambda item: item.nodeid, set_node_id)
    monkeypatch.setattr(pytest.Item, "_nodeid", alias, raising=False)


@dataclass(slots=True)
class RunLog:
    """What the per-operation runs did, checked once all of them are over."""

    #: (operation, phase) -> cases.
    cases: Counter[tuple[str, str]] = field(default_factory=Counter)
    #: operation -> 2xx answers.
    successes: Counter[str] = field(default_factory=Counter)
    #: Operations whose path has no parameters, so nothing but the credentials stands
    #: between a valid request and a 2xx.
    unparameterised: set[str] = field(default_factory=set)
    #: Operations with a failing case: the failure ends the run early, so later phases never
    #: started, and the failure itself is what needs fixing.
    failed: set[str] = field(default_factory=set)
    #: Whether the run was narrowed to some operations (which may have no examples at all).
    narrowed: bool = False

    def verify(self) -> None:
        """Every phase produced cases for every operation that passed, and the credentials
        worked. A configuration slip (or a schemathesis upgrade) that silently dropped a
        phase would otherwise leave the suite green while it tests less."""
        operations = {operation for operation, _ in self.cases} - self.failed
        if not self.failed and not self.narrowed:
            for phase in (TestPhase.EXAMPLES, TestPhase.COVERAGE, TestPhase.FUZZING):
                assert any(self.cases[(op, str(phase))] for op in operations), (
                    f"no {phase} cases ran"
                )
        for operation in operations:
            assert self.cases[(operation, str(TestPhase.COVERAGE))], f"{operation}: no coverage"
            assert self.cases[(operation, str(TestPhase.FUZZING))], f"{operation}: no fuzzing"
        # positive_data_acceptance takes 401 for an answer, so a suite whose credentials never
        # reached the server would pass; these operations need nothing else to succeed.
        for operation in self.unparameterised - self.failed:
            assert self.successes[operation], f"{operation}: never answered 2xx"


@pytest.fixture
def run_log(target: Target) -> Iterator[RunLog]:
    # All operations run inside one pytest item (a lazily loaded schema reports them as
    # subtests), so this log sees every one of them before its teardown checks it.
    log = RunLog(narrowed=bool(target.operations))
    yield log
    log.verify()


@lazy_schema.parametrize()
def test_operation_conforms(
    case: Case[Any], server: Server, run_log: RunLog, summary: Summary
) -> None:
    """Examples, coverage and fuzzing cases of one operation: every check must pass."""
    assert case.meta is not None
    label = case.operation.label
    server.begin(label)
    run_log.cases[(label, str(case.meta.phase.name))] += 1
    if "{" not in case.operation.path:
        run_log.unparameterised.add(label)
    try:
        response = case.call_and_validate(additional_checks=ADDITIONAL_CHECKS)
    except FailureGroup as group:  # a BaseExceptionGroup: "except Exception" misses it
        run_log.failed.add(label)
        summary.record("server", label, failed=True)
        note_failed_checks(group)
        raise
    except Exception:
        run_log.failed.add(label)
        summary.record("server", label, failed=True)
        raise
    summary.record("server", label)
    if 200 <= response.status_code < 300:
        run_log.successes[label] += 1


def test_stateful_run_follows_links(
    conformance_schema: BaseSchema, server: Server, budget: Budget, summary: Summary
) -> None:
    """Chains of operations through the contract's links: create-company, then its
    connections and syncs, then the connection and the sync just created."""
    if not may_write(server.target):
        pytest.skip("the stateful phase creates companies; pass --allow-writes to run it")
    if server.target.operations:
        pytest.skip("the stateful phase chains every operation; --operation narrows the run")
    server.operation = None  # whichever operation runs next starts from a reset again
    try:
        tally = run_stateful(
            conformance_schema, budget, reset=server.reset if server.tenant is not None else None
        )
    except BaseException:
        summary.record("server", "stateful (links)", failed=True)
        raise
    summary.record("server", "stateful (links)", cases=sum(tally.calls.values()))

    # The run must have chained, and the chains must have worked: a link whose target
    # answers 404 every time would mean the ids never reached it.
    assert tally.successes("create-connection", source="POST /companies") > 0, tally
    connection = "POST /companies/{companyId}/connections"
    assert tally.successes("update-connection", source=connection) > 0, tally
    assert tally.successes("update-connection-authorization", source=connection) > 0, tally
    sync = "POST /companies/{companyId}/sync/commerce/latest"
    assert tally.successes("get-sync-by-id", source=sync) > 0, tally
    assert tally.successes("list-syncs", source=sync) > 0, tally
