"""Tests of mockserver/server.py and mockserver/handles.py: MockServer as the library's Python
API (faults, clock, journal, reset, the SDK with short retries), used through the plugin's
own ``codat_mock`` fixture."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from codat_sync_for_commerce.models import errors
from codat_sync_for_commerce.utils import BackoffStrategy, RetryConfig

from mockserver import FaultRule, JournalEntry, MockServer, authorization_for
from mockserver.errors import NotFound
from mockserver.faults import ActiveRule

NO_RETRIES = RetryConfig("none", BackoffStrategy(1, 1, 1, 1), False)


def test_faults_are_added_listed_and_removed_as_typed_rules(codat_mock: MockServer) -> None:
    added = codat_mock.faults.add({"operationId": "list-companies"}, status=503, times=1)
    assert isinstance(added, ActiveRule)
    assert (added.rule_id, added.rule.status, added.rule.times) == ("rule-1", 503, 1)
    typed = codat_mock.faults.add(FaultRule(operationId="create-company", status=500))
    assert [rule.rule_id for rule in codat_mock.faults.list()] == ["rule-1", typed.rule_id]
    with pytest.raises(TypeError):
        codat_mock.faults.add(FaultRule(status=500), times=1)
    assert codat_mock.faults.remove("rule-1").rule_id == "rule-1"
    with pytest.raises(NotFound):
        codat_mock.faults.remove("rule-1")
    codat_mock.faults.clear()
    assert codat_mock.faults.list() == []


def test_the_clock_moves_and_the_mock_sees_it(codat_mock: MockServer) -> None:
    instant = datetime(2031, 5, 6, 7, 8, 9, tzinfo=timezone.utc)
    assert codat_mock.clock.set(instant) == instant
    assert codat_mock.clock.advance(90) == instant + timedelta(seconds=90)
    assert codat_mock.clock.now() == instant + timedelta(seconds=90)
    assert codat_mock.components.clock.now() == instant + timedelta(seconds=90)


@pytest.mark.codat_faults({"operationId": "list-companies", "status": 503, "times": 3})
def test_sdk_retries_quickly_by_default(codat_mock: MockServer) -> None:
    sdk = codat_mock.sdk()
    assert sdk.advanced_controls.list_companies(request={}).total_results == 0
    entries = codat_mock.requests("list-companies")
    assert all(isinstance(entry, JournalEntry) for entry in entries)
    assert [entry.status for entry in entries] == [503, 503, 503, 200]
    config = sdk.sdk_configuration
    assert config.retry_config.backoff.max_interval <= 200
    assert config.retry_config.backoff.max_elapsed_time == 5_000
    assert config.timeout_ms == 10_000


@pytest.mark.codat_faults({"operationId": "list-companies", "status": 503})
def test_sdk_takes_its_own_retry_config_and_timeout(codat_mock: MockServer) -> None:
    sdk = codat_mock.sdk(retry_config=NO_RETRIES, timeout_ms=1234)
    with pytest.raises(errors.ErrorMessage) as caught:
        sdk.advanced_controls.list_companies(request={})
    assert caught.value.data.status_code == 503
    assert [entry.status for entry in codat_mock.requests()] == [503]
    assert sdk.sdk_configuration.timeout_ms == 1234


def test_sdk_takes_another_api_key_as_another_tenant(codat_mock: MockServer) -> None:
    codat_mock.sdk().advanced_controls.create_company(request={"name": "Mine"})
    other = codat_mock.sdk(api_key="someone-else")
    assert other.advanced_controls.list_companies(request={}).total_results == 0
    assert codat_mock.authorization == authorization_for(codat_mock.api_key)


def test_reset_empties_the_journal_and_the_rules(codat_mock: MockServer) -> None:
    codat_mock.faults.add(operationId="list-companies", latencyMs=1)
    codat_mock.sdk().advanced_controls.list_companies(request={})
    assert len(codat_mock.requests()) == 1
    codat_mock.reset()
    assert (codat_mock.requests(), codat_mock.faults.list()) == ([], [])


@pytest.mark.slow
@pytest.mark.codat_faults({"operationId": "list-companies", "status": 503})
def test_a_fault_without_times_fails_the_default_sdk_instead_of_hanging(
    codat_mock: MockServer,
) -> None:
    with pytest.raises(errors.ErrorMessage):
        codat_mock.sdk().advanced_controls.list_companies(request={})
    attempts = codat_mock.requests("list-companies")
    assert len(attempts) > 1 and {entry.status for entry in attempts} == {503}
