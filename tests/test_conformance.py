"""The mock against its own contract, with schemathesis: every phase, every check, strict mode.

Each operation gets the examples, coverage and fuzzing phases (one pytest item per operation);
a stateful run then chains operations through the contract's OpenAPI links. The app runs in
strict mode, so a response that breaks the contract comes back as a loud 500 and fails
``not_a_server_error`` as well as the schema checks.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import pytest
from schemathesis import Case
from schemathesis.generation.meta import TestPhase

from contracts.server_conformance import (
    ADDITIONAL_CHECKS,
    REQUIRED_CHECKS,
    Budget,
    LinkTally,
    Vocabulary,
    conformance_state_machine,
    enabled_checks,
    is_contract_gap,
    is_other_missing,
    schema_for_app,
    stateful_settings,
)
from mockserver.app import create_app
from mockserver.auth import authorization_for, client_id_for
from mockserver.clock import Clock
from mockserver.settings import Settings

T0 = datetime(2026, 3, 2, 9, 0, 0, tzinfo=timezone.utc)
API_KEY = "conformance-key"
BUDGET = Budget()

# schemathesis needs the operations when pytest collects this module, so the schema (and the
# app it is bound to) exist at import. Tests never rely on what earlier tests left behind:
# every test starts from a freshly reset world (see ``fresh_world``).
APP = create_app(Settings(strict=True, seed=1), clock=Clock(frozen_at=T0))
INTEGRATIONS = APP.state.mock.fixtures.integrations
VOCABULARY = Vocabulary(
    commerce_keys=tuple(i["key"] for i in INTEGRATIONS if i.get("sourceType") == "Commerce"),
    accounting_keys=tuple(i["key"] for i in INTEGRATIONS if i.get("sourceType") == "Accounting"),
    client_ids=(client_id_for(API_KEY),),
)
schema = schema_for_app(APP, authorization_for(API_KEY), BUDGET, VOCABULARY)


@pytest.fixture(autouse=True)
def fresh_world() -> None:
    """Each operation's run (and the stateful run) starts from the seed data.

    State still accumulates between the cases of one run: that is what a stateful mock is for.
    """
    APP.state.mock.reset()


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


@pytest.fixture(scope="module")
def run_log(request: pytest.FixtureRequest) -> Iterator[RunLog]:
    log = RunLog()
    failures_before = request.session.testsfailed
    yield log
    if request.session.testsfailed > failures_before:
        # A failing case ends its operation's run early, so later phases never started;
        # the failure itself is what needs fixing.
        return
    operations = {operation for operation, _ in log.cases}
    # A configuration slip (or a schemathesis upgrade) that silently drops a phase would
    # leave the suite green while testing less; insist that each phase produced cases.
    for phase in (TestPhase.EXAMPLES, TestPhase.COVERAGE, TestPhase.FUZZING):
        assert any(log.cases[(op, str(phase))] for op in operations), f"no {phase} cases ran"
    for operation in operations:
        assert log.cases[(operation, str(TestPhase.COVERAGE))], f"{operation}: no coverage"
        assert log.cases[(operation, str(TestPhase.FUZZING))], f"{operation}: no fuzzing"
    # positive_data_acceptance takes 401 for an answer, so a suite whose credentials never
    # reached the server would pass; these operations need nothing else to succeed.
    for operation in log.unparameterised:
        assert log.successes[operation], f"{operation}: never answered 2xx"


@schema.parametrize()
def test_operation_conforms(case: Case[Any], run_log: RunLog) -> None:
    """Examples, coverage and fuzzing cases of one operation: every check must pass."""
    assert case.meta is not None
    label = case.operation.label
    run_log.cases[(label, str(case.meta.phase.name))] += 1
    if "{" not in case.operation.path:
        run_log.unparameterised.add(label)
    response = case.call_and_validate(additional_checks=ADDITIONAL_CHECKS)
    if 200 <= response.status_code < 300:
        run_log.successes[label] += 1


def test_every_required_check_is_enabled() -> None:
    assert enabled_checks(schema) == set(REQUIRED_CHECKS)


def _error(error: str, *items: tuple[str, str]) -> dict[str, Any]:
    errors = [{"itemId": item_id, "message": message} for item_id, message in items]
    return {"error": error, "validation": {"errors": errors} if errors else None}


NAME_REQUIRED = ("body.name", "a company name is required")
BAD_PAGE = ("query.page", "0 is less than the minimum of 1")


@pytest.mark.parametrize(
    ("operation", "status", "body", "excused"),
    [
        ("create-company", 400, _error("not valid", NAME_REQUIRED), True),
        # The same refusal from an operation it is not a gap of.
        ("create-connection", 400, _error("not valid", NAME_REQUIRED), False),
        # One entry outside every gap is enough to fail the check.
        ("create-company", 400, _error("not valid", NAME_REQUIRED, BAD_PAGE), False),
        ("create-company", 422, _error("not valid", NAME_REQUIRED), False),
        ("list-companies", 400, _error("Error parsing query - Malformed query."), True),
        ("create-company", 400, _error("Error parsing query - Malformed query."), False),
        # A whole-error gap does not excuse an answer that lists problems of its own.
        ("list-companies", 400, _error("Error parsing query - x", BAD_PAGE), False),
        ("list-companies", 400, "Error parsing query - Malformed query.", False),
    ],
)
def test_contract_gaps_excuse_only_known_refusals(
    operation: str, status: int, body: Any, excused: bool
) -> None:
    assert is_contract_gap(operation, status, body) is excused


COMPANY = "3f9c1a52-7d4e-4b8a-9c61-2e5d8f0b7a14"


@pytest.mark.parametrize(
    ("operation", "error", "excused"),
    [
        ("get-latest-sync", f"No commerce syncs were found for company {COMPANY}", True),
        (
            "get-last-successful-sync",
            f"No successful commerce sync was found for company {COMPANY}",
            True,
        ),
        # The 404 names another company: the addressed one may well be missing.
        ("get-latest-sync", "No commerce syncs were found for company 0000", False),
        ("get-latest-sync", f"No company was found with ID {COMPANY}", False),
        ("create-connection", "No integration was found with key abcd", True),
        ("list-connections", "No integration was found with key abcd", False),
    ],
)
def test_only_404s_about_something_else_are_excused(
    operation: str, error: str, excused: bool
) -> None:
    assert is_other_missing(operation, COMPANY, 404, {"error": error}) is excused
    assert not is_other_missing(operation, COMPANY, 400, {"error": error})


def test_stateful_run_follows_links() -> None:
    """Chains of operations through the contract's links: create-company, then its
    connections and syncs, then the connection and the sync just created."""
    tally = LinkTally()
    machine = conformance_state_machine(schema, tally, reset=APP.state.mock.reset)
    machine.run(settings=stateful_settings(BUDGET))

    # The run must have chained, and the chains must have worked: a link whose target
    # answers 404 every time would mean the ids never reached it.
    assert tally.successes("create-connection", source="POST /companies") > 0, tally
    connection = "POST /companies/{companyId}/connections"
    assert tally.successes("update-connection", source=connection) > 0, tally
    assert tally.successes("update-connection-authorization", source=connection) > 0, tally
    sync = "POST /companies/{companyId}/sync/commerce/latest"
    assert tally.successes("get-sync-by-id", source=sync) > 0, tally
    assert tally.successes("list-syncs", source=sync) > 0, tally
