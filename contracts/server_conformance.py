"""Schemathesis conformance suite: hold a server to ``openapi.yaml`` with every phase and check.

The suite is built from three pieces, usable against the in-process mock or any base URL:

* :func:`schema_for_app` / :func:`schema_for_url` load the contract with a
  :class:`schemathesis.Config` that authenticates through the contract's own security scheme,
  enables every phase (examples, coverage, fuzzing, stateful) and every check, and fixes the
  seed so a run can be replayed.
* :data:`ADDITIONAL_CHECKS` runs two built-in checks in a narrower form (:data:`REPLACED_CHECKS`):
  ``positive_data_acceptance`` knows the rules Codat applies that the contract cannot state
  (:data:`CONTRACT_GAPS`), and ``ensure_resource_availability`` knows the 404s that are about
  something other than the resource just created (:data:`OTHER_MISSING`). Everywhere else
  they are the built-in checks, unchanged.
* :func:`run_stateful` runs the stateful phase, seeded, on :func:`conformance_state_machine`
  (``schema.as_state_machine()`` plus the checks above), and returns which OpenAPI links it
  followed and with what result (:class:`LinkTally`): a stateful test that never chains
  proves nothing, so callers assert on the tally.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import hypothesis
import schemathesis
from schemathesis import Case, CheckContext, Response
from schemathesis.checks import CheckFunction
from schemathesis.core.failures import FailureGroup
from schemathesis.generation.stateful.state_machine import APIStateMachine, StepInput, StepOutput
from schemathesis.schemas import BaseSchema
from schemathesis.specs.openapi import checks as openapi_checks

from mockserver.spec import DEFAULT_SPEC_PATH

#: The contract, wherever the mock finds it (a checkout or an installed wheel).
CONTRACT_PATH = DEFAULT_SPEC_PATH
#: The contract's security scheme: an API key in the ``Authorization`` header.
SECURITY_SCHEME = "auth_header"

#: The methods a read-only run may send: the operations it calls are GETs, and these are what
#: it may try in their place to see that the server refuses an unlisted method.
SAFE_METHODS = frozenset({"options", "trace"})

#: GET operations that change state all the same: get-sync-flow-url prepares a company (and
#: its connections) for the merchant it names. A read-only run leaves them out.
WRITING_GETS = ("get-sync-flow-url",)

#: Every check the suite must run. schemathesis 4 enables all of its built-in checks by
#: default; the list is spelled out so a schemathesis upgrade that drops or renames one is
#: noticed (see :func:`enabled_checks`) instead of silently testing less.
REQUIRED_CHECKS = (
    "positive_data_acceptance",
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "missing_required_header",
    "unsupported_method",
    "allow_header_conformance",
    "ignored_auth",
    "use_after_free",
    "ensure_resource_availability",
    "object_level_authorization",
)


#: Stateful scenarios below which a run rarely gets as deep as a sync's own links.
MIN_STATEFUL_SCENARIOS = 10


@dataclass(slots=True, frozen=True)
class Budget:
    """How much the suite generates; the defaults fit a CI run of a couple of minutes."""

    seed: int = 20260302
    #: Fuzzing-phase cases per operation (the examples and coverage phases come on top:
    #: they enumerate their cases rather than sample them).
    max_examples: int = 30
    #: Stateful scenarios, and the most calls one scenario makes. Few, long scenarios chain
    #: deeper than many short ones: create-company alone has 13 outgoing links, and a
    #: scenario has to get past them to reach the links of the connection or sync it made.
    stateful_scenarios: int = 80
    stateful_steps: int = 50

    @classmethod
    def for_examples(cls, examples: int) -> Budget:
        """A budget of ``examples`` fuzzing cases per operation, and stateful scenarios in
        proportion to the default's (but never fewer than :data:`MIN_STATEFUL_SCENARIOS`)."""
        default = cls()
        scenarios = -(-default.stateful_scenarios * examples // default.max_examples)
        return cls(max_examples=examples, stateful_scenarios=max(MIN_STATEFUL_SCENARIOS, scenarios))


@dataclass(slots=True, frozen=True)
class Vocabulary:
    """Real values from the server under test that random data would almost never hit.

    The contract lets a platform key be any four lowercase letters and a date-time any string,
    so purely random requests almost always meet "not found" or "not a date". Half of the
    generated values for these fields are drawn from here instead, which lets requests (and
    stateful chains) get past the first refusal; the other half stay random, so the refusals
    are tested too.
    """

    #: Keys of commerce and of accounting integrations (platformKey takes either).
    commerce_keys: tuple[str, ...] = ()
    accounting_keys: tuple[str, ...] = ()
    #: The caller's own clientId (get-visible-accounts answers 404 for any other).
    client_ids: tuple[str, ...] = ()
    date_times: tuple[str, ...] = (
        "2024-01-01T00:00:00Z",
        "2024-02-29T23:59:59Z",
        "2024-03-01T09:15:00Z",
        "2025-06-30T12:00:00Z",
    )

    def bindings(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """The ``dictionaries`` and ``parameters`` sections of a schemathesis configuration."""
        fields = {
            "platform-keys": (
                self.commerce_keys + self.accounting_keys,
                ("path.platformKey", "body.platformKey"),
            ),
            "commerce-keys": (self.commerce_keys, ("path.commerceKey",)),
            "accounting-keys": (self.accounting_keys, ("path.accountingKey",)),
            "client-ids": (self.client_ids, ("path.clientId",)),
            "date-times": (
                self.date_times,
                ("body.syncTo", "body.dateRange.start", "body.dateRange.finish"),
            ),
        }
        dictionaries: dict[str, Any] = {}
        parameters: dict[str, Any] = {}
        for name, (values, targets) in fields.items():
            if not values:
                continue
            dictionaries[name] = {"values": list(values)}
            for target in targets:
                parameters[target] = {"dictionary": name, "probability": 0.5}
        return dictionaries, parameters


def conformance_config(
    authorization: str,
    budget: Budget | None = None,
    vocabulary: Vocabulary | None = None,
    *,
    base_url: str | None = None,
    read_only: bool = False,
) -> schemathesis.Config:
    """A schemathesis configuration with every phase and check on, and a fixed seed.

    ``authorization`` is the full ``Authorization`` header value (``Basic <base64 key>``). It is
    given to the contract's ``auth_header`` scheme, so schemathesis knows it as the operation's
    credentials: ``ignored_auth`` can then take it away and check that the server refuses.

    ``read_only`` keeps the run from changing anything on the server (see :data:`SAFE_METHODS`).
    """
    budget = budget or Budget()
    dictionaries, parameters = (vocabulary or Vocabulary()).bindings()
    generation = {
        "max-examples": budget.max_examples,
        # No example database: with the fixed seed, a run depends on nothing else (and a
        # different seed explores different cases; derandomize would ignore it).
        "database": "none",
    }
    raw: dict[str, Any] = {
        "seed": budget.seed,
        # A mock answers in microseconds, but generating large bodies can still be slow on
        # a busy CI machine; slowness is not what this suite measures.
        "suppress-health-check": ["too_slow", "data_too_large", "filter_too_much"],
        "generation": generation,
        "auth": {"openapi": {SECURITY_SCHEME: {"api_key": authorization}}},
        "dictionaries": dictionaries,
        "parameters": parameters,
        "phases": {
            "examples": {"enabled": True},
            "coverage": {"enabled": True},
            "fuzzing": {"enabled": True},
            "stateful": {
                "enabled": True,
                "max-steps": budget.stateful_steps,
                # The other phases already send every operation invalid data, case by case.
                # Here each step must succeed for the next to have ids to follow, so the
                # scenarios stay valid and the budget goes into chains that reach deep.
                "generation": {"mode": "positive"},
                # Only the contract's own links. schemathesis can also guess links from
                # names and shapes; here that adds some hundred guessed rules, which drown the
                # real chains (company -> connection -> update) in a budget this size.
                "inference": {"algorithms": []},
            },
        },
        # Replaced by narrower versions that ADDITIONAL_CHECKS runs (see REPLACED_CHECKS).
        "checks": {name: {"enabled": False} for name in REPLACED_CHECKS},
    }
    if base_url is not None:
        raw["base-url"] = base_url
    if read_only:
        # Only the contract's GET operations, less those that write all the same...
        raw["operations"] = [
            {"exclude-method": "GET", "enabled": False},
            *({"include-operation-id": op, "enabled": False} for op in WRITING_GETS),
        ]
        # ...and, where the coverage phase tries a method the contract does not list for a
        # path, only methods that are safe whatever the server does with them: a live API
        # may well serve an unlisted DELETE on the same path.
        raw["phases"]["coverage"]["unexpected-methods"] = sorted(SAFE_METHODS)
    return schemathesis.Config.from_dict(raw)


def schema_for_app(
    app: Any,
    authorization: str,
    budget: Budget | None = None,
    vocabulary: Vocabulary | None = None,
) -> BaseSchema:
    """The contract as served by an in-process ASGI app at ``/openapi.json``, bound to it."""
    config = conformance_config(authorization, budget, vocabulary)
    return schemathesis.openapi.from_asgi("/openapi.json", app, config=config)


def schema_for_url(
    base_url: str,
    authorization: str,
    budget: Budget | None = None,
    vocabulary: Vocabulary | None = None,
    *,
    contract: Path = CONTRACT_PATH,
    read_only: bool = False,
) -> BaseSchema:
    """The contract from ``contract``, aimed at a running server at ``base_url``.

    ``read_only`` leaves out every operation but the GETs that only read (and unsafe methods
    in their place): for a server whose data must not change, such as the live API.
    """
    config = conformance_config(
        authorization, budget, vocabulary, base_url=base_url, read_only=read_only
    )
    return schemathesis.openapi.from_path(contract, config=config)


def enabled_checks(schema: BaseSchema) -> set[str]:
    """Names of the built-in checks a run performs: those the configuration leaves on, and
    those :data:`ADDITIONAL_CHECKS` performs in a narrower form."""
    checks = schema.config.checks
    builtin = {name for name in checks_known_to_schemathesis() if getattr(checks, name).enabled}
    return builtin | set(REPLACED_CHECKS)


def checks_known_to_schemathesis() -> set[str]:
    """Every built-in check that schemathesis' configuration has a switch for."""
    checks = schemathesis.config.ChecksConfig()
    return {
        name
        for name in dir(checks)
        if not name.startswith("_") and hasattr(getattr(checks, name), "enabled")
    }


# --- Where the contract says less than the API enforces ------------------------------------


@dataclass(slots=True, frozen=True)
class ContractGap:
    """A request the contract calls valid but the API rightly refuses with 400.

    The published contract cannot state every rule Codat applies: which platform keys exist,
    that a date-time must parse, that a range must not overlap an earlier sync, which status
    changes a connection allows. A gap names one such rule, as narrowly as the refusal: one
    operation and the server's message for it. Most gaps match one entry of the error's
    ``validation.errors`` (``item_id`` and its message; ``item_id=None`` for any entry); a gap
    with ``whole_error=True`` matches the top-level ``error`` of an answer that lists no
    entries. A 400 is excused only when everything it complains about is a known gap.
    """

    operation_id: str
    item_id: str | None
    message: re.Pattern[str]
    reason: str
    whole_error: bool = False

    def covers_item(self, operation_id: str, item: Mapping[str, Any]) -> bool:
        return (
            not self.whole_error
            and operation_id == self.operation_id
            and (self.item_id is None or item.get("itemId") == self.item_id)
            and bool(self.message.search(str(item.get("message", ""))))
        )

    def covers_error(self, operation_id: str, error: str) -> bool:
        return (
            self.whole_error
            and operation_id == self.operation_id
            and bool(self.message.search(error))
        )


def _gaps(
    operations: tuple[str, ...],
    item_id: str | None,
    message: str,
    reason: str,
    *,
    whole_error: bool = False,
) -> tuple[ContractGap, ...]:
    pattern = re.compile(message)
    return tuple(
        ContractGap(operation, item_id, pattern, reason, whole_error) for operation in operations
    )


_SYNCS = ("request-sync", "request-sync-for-date-range")
_LISTS = ("list-companies", "list-connections", "list-integrations")

CONTRACT_GAPS: tuple[ContractGap, ...] = (
    *_gaps(
        ("create-company",),
        "body.name",
        r"company name is required$",
        "The published requestBody is not marked required, so schemathesis may send no body; "
        "Codat cannot create a company without a name.",
    ),
    *_gaps(
        ("create-company",),
        "body.name",
        r"^Must not be empty\.$",
        "The published name pattern admits a name of only spaces; Codat wants at least one "
        "visible character.",
    ),
    *_gaps(
        ("create-connection",),
        "body.platformKey",
        r"platformKey is required$",
        "The published body makes platformKey optional (and the body itself optional); a "
        "connection cannot be opened without naming the platform.",
    ),
    *_gaps(
        ("get-sync-flow-url",),
        None,
        r"^\S+ is not an? (commerce|accounting) integration\.$",
        "commerceKey and accountingKey are any strings in the contract; each must name an "
        "integration of its kind (commerce, accounting).",
    ),
    *_gaps(
        ("get-sync-flow-url",),
        "query.merchantIdentifier",
        r"^Cannot name a company\.$",
        "merchantIdentifier is any string in the contract; one that is not a company id must "
        "be usable as a company name (at least one visible allowed character).",
    ),
    *_gaps(
        ("get-sync-flow-url",),
        None,
        r"^Integration \S+ is not enabled\.$",
        "Whether an integration is enabled is account state, not request shape (the seed data "
        "can disable one).",
    ),
    *_gaps(
        ("create-connection",),
        "body.platformKey",
        r"^The integration is disabled\.$",
        "Whether an integration is enabled is account state, not request shape (the seed data "
        "can disable one).",
    ),
    *_gaps(
        ("update-connection",),
        "body.status",
        r"^Only Linked -> Unlinked is allowed\.$",
        "Every status is valid in the contract, but the only change a client may make is to "
        "unlink a linked connection.",
    ),
    *_gaps(
        ("update-config-text-sync-flow",),
        None,
        r"is not a Sync Flow text key for ",
        "LocalizationInfo is published as a map with any keys, but only the Sync Flow's own "
        "field names can be set; an unknown field name is refused.",
    ),
    *_gaps(
        ("request-sync",),
        "body.syncTo",
        r"is not a valid date-time$",
        "The contract's date-time values are plain strings (the published schema has no "
        "format), but Codat parses them; a string that is no date is refused.",
    ),
    *_gaps(
        ("request-sync-for-date-range",),
        None,
        r"( is not a valid date-time|^a dateRange is required)$",
        "start and finish are plain strings in the contract (and the requestBody is optional, "
        "so it may be missing); Codat parses them as date-times.",
    ),
    *_gaps(
        ("request-sync",),
        "body.syncTo",
        r"^Must be later than start\.$",
        "Nothing in the contract orders syncTo; a sync must end after it starts, which for "
        "request-sync is the end of the last successful sync (or the configured start date).",
    ),
    *_gaps(
        ("request-sync-for-date-range",),
        "body.dateRange.finish",
        r"^Must be later than start\.$",
        "Nothing in the contract orders a sync range's ends; a range must end after it starts.",
    ),
    *_gaps(
        _SYNCS,
        None,
        r"^Date overlaps with a previous sync date range\.$",
        "A sync range must not overlap the range of an earlier sync that succeeded or still "
        "runs: a rule about the company's history that no request schema can state.",
        whole_error=True,
    ),
    *_gaps(
        _LISTS,
        None,
        r"^Error parsing query - ",
        "`query` and `orderBy` are plain strings in the contract, but they are sentences of "
        "Codat's query language: one that does not parse, or names an unknown property, is "
        "refused with the documented Malformed-Query 400.",
        whole_error=True,
    ),
)


def is_contract_gap(operation_id: str, status: int, body: Any) -> bool:
    """Whether an answer is a 400 that only complains about known :data:`CONTRACT_GAPS`."""
    if status != 400 or not isinstance(body, dict):
        return False
    validation = body.get("validation")
    items = validation.get("errors") if isinstance(validation, dict) else None
    if items:
        return all(
            isinstance(item, dict)
            and any(gap.covers_item(operation_id, item) for gap in CONTRACT_GAPS)
            for item in items
        )
    error = body.get("error")
    return isinstance(error, str) and any(
        gap.covers_error(operation_id, error) for gap in CONTRACT_GAPS
    )


def positive_data_acceptance_outside_gaps(
    ctx: CheckContext, response: Response, case: Case[Any]
) -> bool | None:
    """schemathesis' ``positive_data_acceptance``, except for the 400s of :data:`CONTRACT_GAPS`."""
    if is_contract_gap(_operation_id(case), response.status_code, _json_or_none(response)):
        return None
    return openapi_checks.positive_data_acceptance(ctx, response, case)


@dataclass(slots=True, frozen=True)
class OtherMissing:
    """A 404 of ``operation_id`` that reports something other than the addressed company
    missing: the company was found, the thing named in ``error`` was not."""

    operation_id: str
    error: re.Pattern[str]
    reason: str

    def covers(self, operation_id: str, error: str, company_id: str) -> bool:
        found = self.error.match(error)
        return (
            found is not None
            and operation_id == self.operation_id
            # When the message names a company, it must be the one the request addressed.
            and found.groupdict().get("company", company_id) == company_id
        )


_NO_SYNC_YET = re.compile(
    r"^No (successful commerce sync was|commerce syncs were) found for company (?P<company>\S+)$"
)
_NO_SYNC_YET_REASON = "A company just created has no sync, and so no latest or successful one."

OTHER_MISSING: tuple[OtherMissing, ...] = (
    OtherMissing("get-latest-sync", _NO_SYNC_YET, _NO_SYNC_YET_REASON),
    OtherMissing("get-last-successful-sync", _NO_SYNC_YET, _NO_SYNC_YET_REASON),
    OtherMissing(
        "create-connection",
        re.compile(r"^No integration was found with key \S+$"),
        "platformKey is any four lowercase letters in the contract; a key that names no "
        "integration is not found, whichever company asks.",
    ),
)


def is_other_missing(operation_id: str, company_id: str, status: int, body: Any) -> bool:
    """Whether an answer is a 404 about something other than company ``company_id``."""
    if status != 404 or not isinstance(body, dict):
        return False
    error = body.get("error")
    return isinstance(error, str) and any(
        other.covers(operation_id, error, company_id) for other in OTHER_MISSING
    )


def ensure_resource_availability_for_the_company(
    ctx: CheckContext, response: Response, case: Case[Any]
) -> bool | None:
    """schemathesis' ``ensure_resource_availability``, for 404s that concern the company.

    The check reads any 404 under the path of a company just created as proof that the
    company is missing. Some operations under that path answer 404 about something else (an
    integration, a sync the new company has not had yet) while the company is there, and the
    error says so (:data:`OTHER_MISSING`); those 404s are not what the check is about.
    """
    company = str((case.path_parameters or {}).get("companyId", ""))
    body = _json_or_none(response)
    if is_other_missing(_operation_id(case), company, response.status_code, body):
        return None
    return openapi_checks.ensure_resource_availability(ctx, response, case)


def note_failed_checks(group: FailureGroup) -> None:
    """Add a note to ``group`` naming the checks behind its failures.

    schemathesis titles a failure by what went wrong (``ST108 Response violates schema``);
    the note adds the check names this suite's configuration and docs use.
    """
    lines = {
        f"{failure.code} {failure.title}: {' or '.join(type(failure).checks) or 'a custom check'}"
        for failure in group.exceptions
    }
    group.add_note("Failed checks:\n" + "\n".join(f"  - {line}" for line in sorted(lines)))


def _json_or_none(response: Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


#: Built-in checks the suite runs in a narrower form; the config turns the originals off and
#: :data:`ADDITIONAL_CHECKS` runs the replacements (which call the originals).
REPLACED_CHECKS: dict[str, CheckFunction] = {
    "positive_data_acceptance": positive_data_acceptance_outside_gaps,
    "ensure_resource_availability": ensure_resource_availability_for_the_company,
}

#: Checks to pass as ``additional_checks`` wherever a response is validated.
ADDITIONAL_CHECKS: list[CheckFunction] = list(REPLACED_CHECKS.values())


# --- Stateful runs ---------------------------------------------------------------------------


class FollowedLink(NamedTuple):
    """One link a stateful run followed: from which operation, by which link, to what answer."""

    source: str  # the source operation's label, e.g. "POST /companies"
    link: str  # the link's name in that response's ``links``, e.g. "CreateConnection"
    target: str  # the target's operationId
    status: int


# schemathesis identifies a transition as "<source> -> [<status>] <link> -> <target>".
_TRANSITION_ID = re.compile(
    r"^(?P<source>.+?) -> \[(?P<status>[^\]]+)\] (?P<link>.+) -> (?P<target>.+)$"
)


@dataclass(slots=True)
class LinkTally:
    """What a stateful run did: calls per operation, and links followed with their outcome."""

    calls: Counter[str] = field(default_factory=Counter)
    followed: Counter[FollowedLink] = field(default_factory=Counter)

    def record(self, step: StepInput, output: StepOutput) -> None:
        operation_id = _operation_id(output.case)
        self.calls[operation_id] += 1
        if step.transition is not None and step.is_applied:
            match = _TRANSITION_ID.match(step.transition.id)
            source, link = (match["source"], match["link"]) if match else ("?", step.transition.id)
            status = output.response.status_code
            self.followed[FollowedLink(source, link, operation_id, status)] += 1

    def successes(self, target: str, *, source: str | None = None) -> int:
        """How many followed links into operation ``target`` (from ``source``) answered 2xx."""
        return sum(
            count
            for followed, count in self.followed.items()
            if followed.target == target
            and (source is None or followed.source == source)
            and 200 <= followed.status < 300
        )


def _operation_id(case: Case[Any]) -> str:
    return str(case.operation.definition.raw.get("operationId", case.operation.label))


def conformance_state_machine(
    schema: BaseSchema,
    tally: LinkTally,
    *,
    reset: Callable[[], None] | None = None,
    seed: int | None = None,
) -> type[APIStateMachine]:
    """``schema.as_state_machine()``, recording into ``tally`` and running ADDITIONAL_CHECKS.

    ``reset``, when given, puts the server back to its initial state before each scenario.
    Hypothesis replays scenarios (to confirm and shrink a failure) and expects a replay to
    see the same responses; a server whose state carries over from earlier scenarios breaks
    that, and a real failure then surfaces as a confusing ``FlakyStrategyDefinition``.
    ``seed`` fixes the scenarios Hypothesis generates.
    """
    base = schema.as_state_machine()

    class ConformanceStateMachine(base):  # type: ignore[valid-type, misc]
        def setup(self) -> None:
            if reset is not None:
                reset()
            super().setup()

        def step(self, input: StepInput) -> StepOutput:
            output: StepOutput = super().step(input)
            tally.record(input, output)
            return output

        def validate_response(
            self,
            response: Response,
            case: Case[Any],
            additional_checks: list[CheckFunction] | None = None,
            **kwargs: Any,
        ) -> None:
            extra = [*ADDITIONAL_CHECKS, *(additional_checks or [])]
            try:
                super().validate_response(response, case, additional_checks=extra, **kwargs)
            except FailureGroup as group:
                note_failed_checks(group)
                raise

    if seed is not None:
        # Hypothesis takes a state machine's seed from the class, as @seed leaves it.
        hypothesis.seed(seed)(ConformanceStateMachine)
    return ConformanceStateMachine


def stateful_settings(budget: Budget | None = None) -> hypothesis.settings:
    """Hypothesis settings for a stateful run within the budget (seed it for determinism)."""
    budget = budget or Budget()
    return hypothesis.settings(
        max_examples=budget.stateful_scenarios,
        stateful_step_count=budget.stateful_steps,
        database=None,
        deadline=None,
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate, hypothesis.Phase.shrink],
        suppress_health_check=[
            hypothesis.HealthCheck.too_slow,
            hypothesis.HealthCheck.data_too_large,
            hypothesis.HealthCheck.filter_too_much,
        ],
    )


def run_stateful(
    schema: BaseSchema, budget: Budget | None = None, *, reset: Callable[[], None] | None = None
) -> LinkTally:
    """Run the stateful phase within ``budget``, seeded with its seed; what it did."""
    budget = budget or Budget()
    tally = LinkTally()
    machine = conformance_state_machine(schema, tally, reset=reset, seed=budget.seed)
    machine.run(settings=stateful_settings(budget))
    return tally
