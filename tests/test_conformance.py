"""The mock against its own contract, with schemathesis: every phase, every check, strict mode.

Each operation gets the examples, coverage and fuzzing phases (one pytest item per operation);
a stateful run then chains operations through the contract's OpenAPI links. The app runs in
strict mode, so a response that breaks the contract comes back as a loud 500 and fails
``not_a_server_error`` as well as the schema checks.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timezone

import pytest
from schemathesis import Case
from schemathesis.generation.meta import TestPhase

from contracts.server_conformance import (
    ADDITIONAL_CHECKS,
    REQUIRED_CHECKS,
    Budget,
    LinkTally,
    conformance_state_machine,
    enabled_checks,
    schema_for_app,
    stateful_settings,
)
from mockserver.app import create_app
from mockserver.auth import authorization_for
from mockserver.clock import Clock
from mockserver.settings import Settings

T0 = datetime(2026, 3, 2, 9, 0, 0, tzinfo=timezone.utc)
BUDGET = Budget()

# schemathesis needs the operations when pytest collects this module, so the schema (and the
# app it is bound to) exist at import. Tests never rely on what earlier tests left behind:
# every test starts from a freshly reset world (see ``fresh_world``).
APP = create_app(Settings(strict=True, seed=1), clock=Clock(frozen_at=T0))
schema = schema_for_app(APP, authorization_for("conformance-key"), BUDGET)


@pytest.fixture(autouse=True)
def fresh_world() -> None:
    """Each operation's run (and the stateful run) starts from the seed data.

    State still accumulates between the cases of one run: that is what a stateful mock is for.
    """
    APP.state.mock.reset()


@pytest.fixture(scope="module")
def phases_seen(request: pytest.FixtureRequest) -> Iterator[Counter[tuple[str, str]]]:
    """(operation, phase) -> cases; checked once every operation has run."""
    seen: Counter[tuple[str, str]] = Counter()
    failures_before = request.session.testsfailed
    yield seen
    if request.session.testsfailed > failures_before:
        # A failing case ends its operation's run early, so later phases never started;
        # the failure itself is what needs fixing.
        return
    operations = {operation for operation, _ in seen}
    # A configuration slip (or a schemathesis upgrade) that silently drops a phase would
    # leave the suite green while testing less; insist that each phase produced cases.
    for phase in (TestPhase.EXAMPLES, TestPhase.COVERAGE, TestPhase.FUZZING):
        assert any(seen[(op, phase.value)] for op in operations), f"no {phase.value} cases ran"
    for operation in operations:
        assert seen[(operation, TestPhase.COVERAGE.value)], f"{operation}: no coverage cases"
        assert seen[(operation, TestPhase.FUZZING.value)], f"{operation}: no fuzzing cases"


@schema.parametrize()
def test_operation_conforms(case: Case, phases_seen: Counter[tuple[str, str]]) -> None:
    """Examples, coverage and fuzzing cases of one operation: every check must pass."""
    assert case.meta is not None
    phases_seen[(case.operation.label, case.meta.phase.name.value)] += 1
    case.call_and_validate(additional_checks=ADDITIONAL_CHECKS)


def test_every_required_check_is_enabled() -> None:
    assert enabled_checks(schema) == set(REQUIRED_CHECKS)


def test_stateful_run_follows_links() -> None:
    """Chains of operations through the contract's links: create-company, then its
    connections and syncs, then the connection and the sync just created."""
    tally = LinkTally()
    machine = conformance_state_machine(schema, tally)
    machine.run(settings=stateful_settings(BUDGET))

    # The run must have chained, and the chains must have worked: a link whose target
    # answers 404 every time would mean the ids never reached it.
    assert tally.successes("create-connection", source="POST /companies") > 0, tally
    assert tally.successes("update-connection") > 0, tally
    assert tally.successes("get-sync-by-id") > 0, tally
    assert tally.successes("list-syncs") > 0, tally
