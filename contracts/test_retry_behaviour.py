"""The official SDK's retry behaviour, fault kind by fault kind, and the table that publishes it.

Each scenario of :mod:`contracts.retry_scenarios` runs against the ``mock_target`` and is
held to :data:`EXPECTED`, written out by hand here: what the SDK is documented (in
``docs/retry-behaviour.md``) to do. The observations come from three independent places
(the SDK's return value or exception, the mock's journal and report, and the companies the
API lists afterwards), so a change in the SDK, in a fault action or in the report shows up
as a failure here. The last tests keep the published table in step with the generator.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from codat_sync_for_commerce.models import errors

from contracts import retry_behaviour, retry_scenarios
from contracts.retry_behaviour import SHORT_WAIT_SECONDS, waits_cell
from contracts.retry_runner import Observation, run_scenario
from contracts.retry_scenarios import BACKOFF, KINDS, NO_RETRIES, SCENARIOS, TIMEOUT_MS, Scenario
from mockserver.faults.rules import parse_fault_string, rule_from

if TYPE_CHECKING:
    from contracts.conftest import Summary, Target

# The SDK's own serializers trip pydantic 2.11's deprecation of instance ``model_fields``
# (see filterwarnings in pyproject.toml); exactly that warning from the SDK's models is let
# through, here too because `codat-mock contract` runs this suite outside the checkout.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Accessing the 'model_fields' attribute on the instance is deprecated"
    r":pydantic.warnings.PydanticDeprecatedSince211:codat_sync_for_commerce\.models\."
)

DOC = Path(__file__).resolve().parent.parent / "docs" / "retry-behaviour.md"


@dataclass(slots=True, frozen=True)
class Expected:
    """What one scenario must come to."""

    #: The status the client saw on each attempt; None where the connection was dropped.
    statuses: tuple[int | None, ...]
    #: The exact exception type the caller gets, None when the call returns the company.
    error: type[BaseException] | None = None
    #: The status an SDK error carries.
    error_status: int | None = None
    companies: int = 0
    duplicates: int = 0
    retry_after_honoured: bool | None = None


def _retried(status: int, honoured: bool | None = None) -> Expected:
    """Two faulted attempts, then the company: what the SDK's backoff does with a status."""
    return Expected((status, status, 200), companies=1, retry_after_honoured=honoured)


def _raised(status: int, error: type[BaseException] = errors.ErrorMessage) -> Expected:
    """One attempt, and the status's error straight to the caller: retries off."""
    return Expected((status,), error=error, error_status=status)


EXPECTED: dict[str, Expected] = {
    # The SDK retries a 429 but does not wait for Retry-After (1 s here).
    "429-retry-after/backoff": _retried(429, honoured=False),
    "429-retry-after/none": _raised(429),
    "429/backoff": _retried(429),
    "429/none": _raised(429),
    "503/backoff": _retried(503),
    "503/none": _raised(503),
    "500/backoff": _retried(500),
    "500/none": _raised(500),
    "408/backoff": _retried(408),
    # 408 is not among the statuses the SDK parses into ErrorMessage: it falls to 4XX.
    "408/none": _raised(408, errors.SDKError),
    # A reset is httpx.ReadError, which the SDK never retries, connection errors or not.
    "reset/backoff": Expected((None,), error=httpx.ReadError),
    "reset/backoff-no-connection": Expected((None,), error=httpx.ReadError),
    "reset/none": Expected((None,), error=httpx.ReadError),
    # A hang ends in the client's timeout, a TimeoutException: retried only with the flag on.
    "hang/backoff": Expected((None, 200), companies=1),
    "hang/backoff-no-connection": Expected((None,), error=httpx.ReadTimeout),
    "hang/none": Expected((None,), error=httpx.ReadTimeout),
    # The lost response: the first attempt committed, so the retry makes a second company.
    "lost-response/backoff": Expected((503, 200), companies=2, duplicates=1),
    "lost-response/none": Expected(
        (503,), error=errors.ErrorMessage, error_status=503, companies=1
    ),
}


def test_every_scenario_has_an_expectation() -> None:
    assert set(EXPECTED) == {scenario.id for scenario in SCENARIOS}
    # Both retry modes for every kind, so the main table has no holes.
    ids = {scenario.id for scenario in SCENARIOS}
    for kind in KINDS:
        assert {f"{kind.key}/{BACKOFF.key}", f"{kind.key}/{NO_RETRIES.key}"} <= ids


def _check_journal(observation: Observation, expected: Expected) -> None:
    journal = observation.journal
    # Attempts seen by the SDK's httpx client and by the server agree.
    assert observation.client_attempts == len(journal)
    assert tuple(observation.statuses) == expected.statuses
    assert {entry["method"] for entry in journal} == {"POST"}
    assert {entry["requestBody"] for entry in journal} == {'{"name":"RetryProbe"}'}
    # Every attempt but a final success met the rule.
    faulted = len(journal) if expected.error is not None else len(journal) - 1
    rule_id = observation.rule_id
    assert [entry["faultId"] for entry in journal] == [rule_id] * faulted + [None] * (
        len(journal) - faulted
    )
    kind = observation.scenario.kind
    drop = kind.rule.get("drop")
    assert [entry["dropped"] for entry in journal[:faulted]] == [drop] * faulted
    # Only the 'after' rule lets the handler run (and commit) on a faulted attempt.
    handler = 200 if kind.rule.get("when") == "after" else None
    assert [entry["handlerStatus"] for entry in journal[:faulted]] == [handler] * faulted
    retry_after = None if kind.rule.get("retryAfter") is None else str(kind.rule["retryAfter"])
    assert [entry["retryAfter"] for entry in journal[:faulted]] == [retry_after] * faulted


def _check_report(observation: Observation, expected: Expected) -> None:
    # The report sees all the attempts as one logical call.
    (call,) = observation.calls
    assert call["attempts"] == len(expected.statuses)
    assert tuple(call["statuses"]) == expected.statuses
    assert call["succeeded"] is (expected.error is None)
    assert call["retryAfterHonoured"] is expected.retry_after_honoured
    # The SDK's waits are its backoff's (about 5 ms here), whatever the server asked for.
    assert len(observation.gaps) == len(expected.statuses) - 1
    assert all(gap < SHORT_WAIT_SECONDS for gap in observation.gaps), observation.gaps
    assert observation.duplicates == expected.duplicates


def _check_outcome(observation: Observation, expected: Expected) -> None:
    if expected.error is None:
        assert observation.error is None, repr(observation.error)
        assert observation.returned_id in observation.company_ids
    else:
        assert type(observation.error) is expected.error, repr(observation.error)
        assert observation.error_status == expected.error_status
        assert observation.returned_id is None
    assert observation.companies == expected.companies
    if observation.scenario.kind.rule.get("drop") == "hang":
        # Nothing answered the first attempt: the call lasted at least the client's timeout.
        # (Measured on the client: the journal's durationMs starts when the server gets to
        # the request, which under load can be well after the client started its clock.)
        assert observation.elapsed_seconds >= TIMEOUT_MS / 1000


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[scenario.id for scenario in SCENARIOS])
def test_the_sdk_meets_each_fault_as_documented(
    mock_target: Target, scenario: Scenario, summary: Summary
) -> None:
    try:
        observation = run_scenario(
            mock_target.url, mock_target.authorization, scenario, mock_target.control_headers
        )
        expected = EXPECTED[scenario.id]
        _check_outcome(observation, expected)
        _check_journal(observation, expected)
        _check_report(observation, expected)
    except BaseException:
        summary.record("retries", scenario.id, failed=True)
        raise
    summary.record("retries", scenario.id)


def test_an_error_message_carries_no_retry_after(mock_target: Target) -> None:
    """The advice for 429 says to read Retry-After in a hook: the exception has no headers."""
    (scenario,) = [s for s in SCENARIOS if s.id == "429-retry-after/none"]
    observation = run_scenario(
        mock_target.url, mock_target.authorization, scenario, mock_target.control_headers
    )
    assert isinstance(observation.error, errors.ErrorMessage)
    assert observation.journal[0]["retryAfter"] == "1"
    assert set(vars(observation.error)) == {"data"}
    assert observation.error.data.can_be_retried == "True"


@pytest.mark.parametrize("kind", KINDS, ids=[kind.key for kind in KINDS])
def test_the_rule_column_is_the_cli_form_of_the_rule(kind: retry_scenarios.FaultKind) -> None:
    assert parse_fault_string(kind.rule_text) == rule_from(dict(kind.rule))


def test_waits_are_bucketed_so_the_table_is_stable() -> None:
    assert waits_cell([]) == "-"
    assert waits_cell([0.006]) == "< 0.5 s"
    assert waits_cell([0.006, -0.002]) == "each < 0.5 s"
    assert waits_cell([0.006, 1.04]) == "0.0 s, 1.0 s"


# -- the published table ----------------------------------------------------------------------


def test_the_committed_table_is_what_the_generator_writes(tmp_path: Path) -> None:
    fresh = tmp_path / "retry-behaviour.md"
    assert retry_behaviour.main(["--write", str(fresh)]) == 0
    generated = fresh.read_text(encoding="utf-8")
    committed = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
    diff = "".join(
        difflib.unified_diff(
            committed.splitlines(keepends=True),
            generated.splitlines(keepends=True),
            "docs/retry-behaviour.md",
            "generated",
        )
    )
    assert generated == committed, f"stale; run `{retry_behaviour.REGENERATE}`\n{diff}"


def test_check_exits_non_zero_on_a_stale_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(retry_behaviour, "_generate", lambda: "# fresh\n")
    stale = tmp_path / "doc.md"
    stale.write_text("# stale\n", encoding="utf-8")
    assert retry_behaviour.main(["--check", str(stale)]) == 1
    assert retry_behaviour.REGENERATE in capsys.readouterr().err
    stale.write_text("# fresh\n", encoding="utf-8")
    assert retry_behaviour.main(["--check", str(stale)]) == 0
