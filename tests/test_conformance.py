"""The server conformance suite's own parts, tested without a server.

The suite itself (every phase and check against a running mock) is
``contracts/test_server_conformance.py``, which CI runs as part of ``python -m pytest``. Here:
its configuration (every check and phase on, the read-only variant, the budget), the
classifiers that excuse the contract's known gaps and "something else is missing" 404s, the
link tally a stateful run is judged by, the note that names a failed check, and the run log's
own verdict.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests
from schemathesis import Case
from schemathesis.config import ApiKeyAuthConfig
from schemathesis.core.errors import format_transition
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.core.parameters import ParameterLocation
from schemathesis.core.result import Ok
from schemathesis.core.transport import Response
from schemathesis.generation.meta import TestPhase
from schemathesis.generation.stateful.state_machine import (
    ExtractedParam,
    StepInput,
    StepOutput,
    Transition,
)
from schemathesis.openapi.checks import UndefinedStatusCode
from schemathesis.schemas import BaseSchema

from contracts.server_conformance import (
    MIN_STATEFUL_SCENARIOS,
    REQUIRED_CHECKS,
    SAFE_METHODS,
    WRITING_GETS,
    Budget,
    LinkTally,
    Vocabulary,
    enabled_checks,
    note_failed_checks,
    schema_for_url,
)
from contracts.server_gaps import is_contract_gap, is_other_missing
from contracts.test_server_conformance import RunLog
from mockserver.auth import authorization_for

#: Loading the contract needs no server: nothing is sent to this address.
NOWHERE = "http://127.0.0.1:9"
AUTHORIZATION = authorization_for("conformance-key")
OPERATIONS = 22


def contract(*, read_only: bool = False) -> BaseSchema:
    return schema_for_url(NOWHERE, AUTHORIZATION, read_only=read_only)


def operation_ids(schema: BaseSchema) -> set[str]:
    return {
        str(result.ok().definition.raw["operationId"])
        for result in schema.get_all_operations()
        if isinstance(result, Ok)
    }


# -- configuration -------------------------------------------------------------------------


def test_every_required_check_is_enabled() -> None:
    checks = enabled_checks(contract())
    assert checks == set(REQUIRED_CHECKS)
    # The ones the issue names, beyond schemathesis' defaults of old.
    assert {
        "negative_data_rejection",
        "ignored_auth",
        "use_after_free",
        "ensure_resource_availability",
    } <= checks


def test_every_phase_is_enabled_and_the_credentials_are_the_contracts_own() -> None:
    config = contract().config
    phases = config.phases
    assert phases.examples.enabled and phases.coverage.enabled
    assert phases.fuzzing.enabled and phases.stateful.enabled
    # Through the contract's security scheme, so ignored_auth knows what to take away.
    assert config.auth.openapi is not None
    scheme = config.auth.openapi.schemes["auth_header"]
    assert isinstance(scheme, ApiKeyAuthConfig)
    assert scheme.api_key == AUTHORIZATION


def test_the_full_run_covers_every_operation() -> None:
    ids = operation_ids(contract())
    assert len(ids) == OPERATIONS
    assert set(WRITING_GETS) <= ids


def test_a_read_only_run_only_reads() -> None:
    full, read_only = contract(), contract(read_only=True)
    ids = operation_ids(read_only)
    gets = {
        str(result.ok().definition.raw["operationId"])
        for result in full.get_all_operations()
        if isinstance(result, Ok) and result.ok().method.upper() == "GET"
    }
    assert ids == gets - set(WRITING_GETS)
    assert "list-companies" in ids and "create-company" not in ids
    # In place of a listed method it may only try safe ones (OPTIONS, TRACE).
    assert read_only.config.phases.coverage.unexpected_methods == set(SAFE_METHODS)
    assert full.config.phases.coverage.unexpected_methods > set(SAFE_METHODS)
    assert not {"put", "post", "patch", "delete"} & SAFE_METHODS


@pytest.mark.parametrize(
    ("examples", "scenarios"),
    [
        (30, 80),  # the default budget
        (25, 67),  # the --examples default: in proportion, rounded up
        (300, 800),
        (1, MIN_STATEFUL_SCENARIOS),
    ],
)
def test_budget_for_examples_scales_the_stateful_phase(examples: int, scenarios: int) -> None:
    budget = Budget.for_examples(examples)
    assert (budget.max_examples, budget.stateful_scenarios) == (examples, scenarios)
    assert (budget.seed, budget.stateful_steps) == (Budget().seed, Budget().stateful_steps)


def test_vocabulary_binds_known_values_to_their_fields() -> None:
    vocabulary = Vocabulary(commerce_keys=("shpy",), accounting_keys=("qbo1",), client_ids=())
    dictionaries, parameters = vocabulary.bindings()
    assert dictionaries["platform-keys"] == {"values": ["shpy", "qbo1"]}
    assert parameters["path.commerceKey"] == {"dictionary": "commerce-keys", "probability": 0.5}
    assert parameters["body.platformKey"]["dictionary"] == "platform-keys"
    # No known values, no binding: the field stays purely random.
    assert "client-ids" not in dictionaries and "path.clientId" not in parameters


# -- contract gaps and other-missing 404s ---------------------------------------------------


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


# -- the link tally -------------------------------------------------------------------------

CREATE_COMPANY = "POST /companies"
CONNECTIONS_PATH = "/companies/{companyId}/connections"
CREATE_CONNECTION = f"POST {CONNECTIONS_PATH}"


def _step(
    schema: BaseSchema, status: int, *, link: str | None, applied: bool = True
) -> tuple[StepInput, StepOutput]:
    """A create-connection step, reached by ``link`` from create-company (or no link)."""
    operation = schema[CONNECTIONS_PATH]["POST"]
    case: Case[Any] = operation.Case(path_parameters={"companyId": COMPANY})
    transition = None
    if link is not None:
        company_id = ExtractedParam(definition=None, value=Ok(COMPANY), is_required=True)
        transition = Transition(
            id=format_transition(CREATE_COMPANY, "200", link, CREATE_CONNECTION),
            parent_id=CREATE_COMPANY,
            is_inferred=False,
            parameters={"path_parameters": {"companyId": company_id}},
            request_body=None,
        )
    applied_parameters: list[tuple[ParameterLocation, str | None]] = (
        [(ParameterLocation.PATH, "companyId")] if applied else []
    )
    step = StepInput(case=case, transition=transition, applied_parameters=applied_parameters)
    request = requests.Request("POST", f"{NOWHERE}/companies/{COMPANY}/connections").prepare()
    response = Response(
        status_code=status, headers={}, content=b"{}", request=request, elapsed=0.0, verify=True
    )
    return step, StepOutput(response=response, case=case)


def test_link_tally_counts_followed_links_by_outcome() -> None:
    schema = contract()
    tally = LinkTally()
    for status, link, applied in [
        (200, "CreateConnection", True),
        (200, "CreateConnection", True),
        (404, "CreateConnection", True),
        (200, "CreateConnection", False),  # the link's values did not make it into the call
        (200, None, True),  # a scenario's first call: no link at all
    ]:
        tally.record(*_step(schema, status, link=link, applied=applied))

    assert tally.calls == {"create-connection": 5}
    assert sum(tally.followed.values()) == 3
    assert tally.successes("create-connection") == 2
    assert tally.successes("create-connection", source=CREATE_COMPANY) == 2
    (followed,) = [f for f in tally.followed if f.status == 404]
    assert (followed.source, followed.link, followed.target) == (
        CREATE_COMPANY,
        "CreateConnection",
        "create-connection",
    )
    # Other sources and targets: nothing followed.
    assert tally.successes("create-connection", source="GET /companies") == 0
    assert tally.successes("update-connection") == 0


# -- naming a failed check ------------------------------------------------------------------


def test_a_failure_note_names_the_checks() -> None:
    undocumented = UndefinedStatusCode(
        operation="GET /companies",
        status_code=418,
        defined_status_codes=["200"],
        allowed_status_codes=[200],
        message="418 is not listed",
    )
    custom = Failure(operation="GET /companies", message="something else")
    group = FailureGroup([undocumented, custom], "2 failures")
    note_failed_checks(group)
    assert group.__notes__ == [
        "Failed checks:\n"
        "  - ST103 Undocumented status code: status_code_conformance\n"
        "  - ST901 Custom check failed: a custom check"
    ]


# -- the run log's verdict ------------------------------------------------------------------

LIST = "GET /companies"
CONNECTIONS = "GET /companies/{companyId}/connections"


def _log(*, skip: tuple[str, TestPhase] | None = None) -> RunLog:
    log = RunLog(unparameterised={LIST})
    for operation in (LIST, CONNECTIONS):
        for phase in (TestPhase.EXAMPLES, TestPhase.COVERAGE, TestPhase.FUZZING):
            if (operation, phase) != skip:
                log.cases[(operation, str(phase))] += 3
    log.successes[LIST] += 1
    return log


def test_run_log_accepts_a_complete_run() -> None:
    _log().verify()


@pytest.mark.parametrize("phase", [TestPhase.COVERAGE, TestPhase.FUZZING])
def test_run_log_insists_on_each_phase_for_each_operation(phase: TestPhase) -> None:
    log = _log(skip=(CONNECTIONS, phase))
    with pytest.raises(AssertionError, match=f"{CONNECTIONS}: no {phase.name.lower()}"):
        log.verify()
    # Unless that operation failed: its run stopped at the failure.
    log.failed.add(CONNECTIONS)
    log.verify()


def test_run_log_insists_that_the_credentials_worked() -> None:
    log = _log()
    log.successes.clear()
    with pytest.raises(AssertionError, match="never answered 2xx"):
        log.verify()
