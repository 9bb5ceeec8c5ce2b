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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import hypothesis
import schemathesis
from schemathesis import Case, Response
from schemathesis.checks import CheckFunction
from schemathesis.core.failures import FailureGroup
from schemathesis.generation.stateful.state_machine import APIStateMachine, StepInput, StepOutput
from schemathesis.schemas import BaseSchema

from contracts.server_gaps import (
    ensure_resource_availability_for_the_company,
    operation_id,
    positive_data_acceptance_outside_gaps,
)
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
    operations: Sequence[str] = (),
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
        # No cache of discoveries between runs: it would be written to .schemathesis/ in the
        # current folder (the user's checkout), and a run should depend on nothing left over.
        "cache": {"enabled": False},
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
    raw["operations"] = []
    if operations:
        # Every operation but the named ones is switched off.
        raw["operations"].append({"exclude-operation-id": list(operations), "enabled": False})
    if read_only:
        # Only the contract's GET operations, less those that write all the same...
        raw["operations"] += [
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
    operations: Sequence[str] = (),
) -> BaseSchema:
    """The contract from ``contract``, aimed at a running server at ``base_url``.

    ``read_only`` leaves out every operation but the GETs that only read (and unsafe methods
    in their place): for a server whose data must not change, such as the live API.
    ``operations`` (operationIds) narrows the run to those operations.
    """
    config = conformance_config(
        authorization,
        budget,
        vocabulary,
        base_url=base_url,
        read_only=read_only,
        operations=operations,
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
        target = operation_id(output.case)
        self.calls[target] += 1
        if step.transition is not None and step.is_applied:
            match = _TRANSITION_ID.match(step.transition.id)
            source, link = (match["source"], match["link"]) if match else ("?", step.transition.id)
            status = output.response.status_code
            self.followed[FollowedLink(source, link, target, status)] += 1

    def successes(self, target: str, *, source: str | None = None) -> int:
        """How many followed links into operation ``target`` (from ``source``) answered 2xx."""
        return sum(
            count
            for followed, count in self.followed.items()
            if followed.target == target
            and (source is None or followed.source == source)
            and 200 <= followed.status < 300
        )


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
