from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver.clock import Clock
from mockserver.errors import BadRequest, Conflict, NotFound
from mockserver.fixtures import Fixtures
from mockserver.store import STATUS_CODES, Tenant, World
from mockserver.store.syncs import OVERLAP_MESSAGE

ContractCheck = Callable[[str, Any], None]
Factory = Callable[..., Fixtures]
T0 = datetime(2026, 3, 2, 9, 0, 0, tzinfo=timezone.utc)
SCHEDULE_START = datetime(2026, 1, 1, tzinfo=timezone.utc)

UTC = timezone.utc


def _iso(instant: datetime) -> str:
    return instant.strftime("%Y-%m-%dT%H:%M:%SZ")


# -- the status table -------------------------------------------------------------------------


def test_documented_codes_are_all_there() -> None:
    assert sorted(STATUS_CODES) == [
        1000,
        1010,
        2000,
        2040,
        4000,
        4040,
        4200,
        4220,
        4260,
        5000,
        5080,
        5120,
        5130,
    ]


@pytest.mark.parametrize(
    ("code", "name"),
    [
        (2000, "Complete"),
        (2040, "Complete"),
        (5130, "PushError"),
        (4200, "MapCoreError"),
        (4000, "ValidateError"),
    ],
)
def test_documented_names(code: int, name: str) -> None:
    assert STATUS_CODES[code].name == name


def test_outcomes_follow_the_code_families() -> None:
    for code, row in STATUS_CODES.items():
        expected = {1: "in_progress", 2: "success"}.get(code // 1000, "failure")
        assert row.outcome == expected, code
        assert (row.default_message is not None) == (expected == "failure"), code
    assert [c for c, row in STATUS_CODES.items() if row.data_pushed] == [2000]


# -- lifecycle --------------------------------------------------------------------------------


def test_a_sync_runs_then_completes(
    tenant: Tenant, linked_company_id: str, clock: Clock, contract: ContractCheck
) -> None:
    summary = tenant.request_sync(linked_company_id)
    assert summary["companyId"] == linked_company_id
    assert summary["syncDateRangeUtc"] == {"start": _iso(SCHEDULE_START), "finish": _iso(T0)}
    assert summary["syncStatusCode"] == 1000
    assert summary["syncStatus"] == "Started"
    assert summary["dataPushed"] is False
    assert "syncUtc" not in summary
    assert "errorMessage" not in summary
    assert summary["dataConnections"] == tenant.list_connections(linked_company_id)
    contract("SyncSummary", summary)
    sync_id = summary["commerceSyncId"]

    clock.advance(29)
    running = tenant.sync(linked_company_id, sync_id)
    assert running["syncStatusCode"] == 1000
    contract("CompanySyncStatus", running)

    clock.advance(1)
    done = tenant.sync(linked_company_id, sync_id)
    assert done == {
        "companyId": linked_company_id,
        "syncId": sync_id,
        "syncStatusCode": 2000,
        "syncStatus": "Complete",
        "errorMessage": "",
        "syncExceptionMessage": "",
        "syncUtc": "2026-03-02T09:00:30Z",
        "dataPushed": True,
    }
    contract("CompanySyncStatus", done)
    assert tenant.company(linked_company_id)["lastSync"] == "2026-03-02T09:00:30Z"


def test_completion_time_stays_put_after_more_time_passes(
    tenant: Tenant, company_id: str, clock: Clock
) -> None:
    sync_id = tenant.request_sync(company_id)["commerceSyncId"]
    clock.advance(3600)
    assert tenant.sync(company_id, sync_id)["syncUtc"] == "2026-03-02T09:00:30Z"


def test_a_long_running_sync_reports_1010(clock: Clock, make_fixtures: Factory) -> None:
    world = World(make_fixtures(), clock=clock, rng=random.Random(1), sync_duration=3600)
    tenant = world.tenant("c")
    company_id = tenant.create_company("Slow")["id"]
    sync_id = tenant.request_sync(company_id)["commerceSyncId"]
    clock.advance(599)
    assert tenant.sync(company_id, sync_id)["syncStatusCode"] == 1000
    clock.advance(1)
    assert tenant.sync(company_id, sync_id)["syncStatusCode"] == 1010
    clock.advance(3000)
    assert tenant.sync(company_id, sync_id)["syncStatusCode"] == 2000


def test_reads_change_nothing(world: World, tenant: Tenant, company_id: str, clock: Clock) -> None:
    tenant.request_sync(company_id)
    clock.advance(40)
    before = world.snapshot()
    tenant.sync_status(company_id)
    tenant.latest_sync(company_id)
    tenant.last_successful_sync(company_id)
    tenant.list_syncs(company_id)
    tenant.company(company_id)
    assert world.snapshot() == before


# -- where a "latest" sync starts and ends -----------------------------------------------------


def test_the_next_sync_resumes_where_the_last_success_finished(
    tenant: Tenant, company_id: str, clock: Clock
) -> None:
    tenant.request_sync(company_id)
    clock.advance(3600)
    second = tenant.request_sync(company_id)
    assert second["syncDateRangeUtc"] == {
        "start": _iso(T0),
        "finish": _iso(T0 + timedelta(hours=1)),
    }


def test_without_a_schedule_start_the_first_sync_covers_a_month(
    clock: Clock, make_fixtures: Factory
) -> None:
    world = World(make_fixtures(schedule_start=None), clock=clock, rng=random.Random(1))
    tenant = world.tenant("c")
    company_id = tenant.create_company("New")["id"]
    summary = tenant.request_sync(company_id)
    assert summary["syncDateRangeUtc"] == {"start": "2026-02-02T09:00:00Z", "finish": _iso(T0)}


def test_sync_to_sets_the_end(tenant: Tenant, company_id: str) -> None:
    sync_to = datetime(2026, 2, 1, 12, 30, tzinfo=UTC)
    summary = tenant.request_sync(company_id, sync_to)
    assert summary["syncDateRangeUtc"]["finish"] == "2026-02-01T12:30:00Z"


def test_sync_to_before_the_start_is_refused(tenant: Tenant, company_id: str) -> None:
    with pytest.raises(BadRequest, match="must end after it starts"):
        tenant.request_sync(company_id, SCHEDULE_START - timedelta(days=1))
    assert tenant.list_syncs(company_id) == []


def test_a_latest_sync_while_one_runs_overlaps(tenant: Tenant, company_id: str) -> None:
    tenant.request_sync(company_id)
    with pytest.raises(BadRequest) as caught:
        tenant.request_sync(company_id)
    assert (
        caught.value.message == OVERLAP_MESSAGE == "Date overlaps with a previous sync date range."
    )
    assert len(tenant.list_syncs(company_id)) == 1


def test_a_latest_sync_right_after_a_success_has_nothing_to_sync(
    tenant: Tenant, company_id: str, clock: Clock
) -> None:
    tenant.request_sync(company_id, T0 - timedelta(seconds=30))
    clock.advance(30)
    # Resumes at T0 - 30 s and ends at now (T0 + 30 s): fine.
    tenant.request_sync(company_id)
    clock.advance(30)
    with pytest.raises(BadRequest, match="must end after it starts"):
        tenant.request_sync(company_id, T0)


# -- explicit ranges --------------------------------------------------------------------------


def _range(day: int, days: int = 1) -> tuple[datetime, datetime]:
    start = datetime(2025, 6, day, tzinfo=UTC)
    return start, start + timedelta(days=days)


def test_sync_for_a_date_range(tenant: Tenant, company_id: str, contract: ContractCheck) -> None:
    start, finish = _range(1, 7)
    summary = tenant.request_sync_for_date_range(company_id, start, finish)
    assert summary["syncDateRangeUtc"] == {"start": _iso(start), "finish": _iso(finish)}
    contract("SyncSummary", summary)


@pytest.mark.parametrize("days", [0, -1])
def test_an_empty_or_backwards_range_is_refused(tenant: Tenant, company_id: str, days: int) -> None:
    start = datetime(2025, 6, 10, tzinfo=UTC)
    with pytest.raises(BadRequest) as caught:
        tenant.request_sync_for_date_range(company_id, start, start + timedelta(days=days))
    assert caught.value.validation[0].item_id == "finish"


def test_overlapping_a_running_sync_is_refused(tenant: Tenant, company_id: str) -> None:
    tenant.request_sync_for_date_range(company_id, *_range(1, 7))
    with pytest.raises(BadRequest, match="Date overlaps"):
        tenant.request_sync_for_date_range(company_id, *_range(7, 2))


def test_overlapping_a_completed_sync_is_refused(
    tenant: Tenant, company_id: str, clock: Clock
) -> None:
    tenant.request_sync_for_date_range(company_id, *_range(1, 7))
    clock.advance(60)
    with pytest.raises(BadRequest, match="Date overlaps"):
        tenant.request_sync_for_date_range(company_id, *_range(3, 1))


def test_adjacent_ranges_do_not_overlap(tenant: Tenant, company_id: str) -> None:
    tenant.request_sync_for_date_range(company_id, *_range(1, 7))
    tenant.request_sync_for_date_range(company_id, *_range(8, 1))
    assert len(tenant.list_syncs(company_id)) == 2


def test_a_failed_range_can_be_synced_again(tenant: Tenant, company_id: str) -> None:
    failed = tenant.request_sync_for_date_range(company_id, *_range(1, 7))
    tenant.force_sync_outcome(failed["commerceSyncId"], 5130)
    tenant.request_sync_for_date_range(company_id, *_range(1, 7))
    assert len(tenant.list_syncs(company_id)) == 2


def test_ranges_of_different_companies_never_clash(tenant: Tenant, company_id: str) -> None:
    other_company = tenant.create_company("Other")["id"]
    tenant.request_sync_for_date_range(company_id, *_range(1, 7))
    tenant.request_sync_for_date_range(other_company, *_range(1, 7))


def test_naive_and_offset_datetimes_are_read_as_utc(tenant: Tenant, company_id: str) -> None:
    start = datetime(2025, 6, 1, 10, 0, 0, 999_999)
    finish = datetime(2025, 6, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    summary = tenant.request_sync_for_date_range(company_id, start, finish)
    assert summary["syncDateRangeUtc"] == {
        "start": "2025-06-01T10:00:00Z",
        "finish": "2025-06-01T12:00:00Z",
    }


@settings(max_examples=60, deadline=None)
@given(
    requests=st.lists(
        st.tuples(st.integers(0, 60), st.integers(-3, 10), st.booleans(), st.integers(0, 40)),
        max_size=12,
    )
)
def test_accepted_ranges_never_overlap(
    make_fixtures: Factory, requests: list[tuple[int, int, bool, int]]
) -> None:
    clock = Clock(frozen_at=T0)
    tenant = World(make_fixtures(), clock=clock, rng=random.Random(0)).tenant("c")
    company_id = tenant.create_company("Prop")["id"]
    base = datetime(2025, 1, 1, tzinfo=UTC)
    for start_day, length, fail, wait in requests:
        start = base + timedelta(days=start_day)
        try:
            summary = tenant.request_sync_for_date_range(
                company_id, start, start + timedelta(days=length)
            )
        except BadRequest:
            continue
        if fail:
            tenant.force_sync_outcome(summary["commerceSyncId"], 5000)
        clock.advance(wait)
    live = {s["syncId"] for s in tenant.list_syncs(company_id) if s["syncStatusCode"] < 4000}
    ranges = _ranges_of(tenant, company_id, live)
    for i, (a_start, a_finish) in enumerate(ranges):
        assert a_start < a_finish
        for b_start, b_finish in ranges[i + 1 :]:
            assert a_finish <= b_start or b_finish <= a_start


def _ranges_of(tenant: Tenant, company_id: str, sync_ids: set[str]) -> list[tuple[str, str]]:
    data = tenant.to_json()
    (company,) = [c for c in data["companies"] if c["id"] == company_id]
    return [(s["start"], s["finish"]) for s in company["syncs"] if s["id"] in sync_ids]


# -- reading syncs ----------------------------------------------------------------------------


def test_sync_status_is_the_latest_sync(
    tenant: Tenant, linked_company_id: str, clock: Clock, contract: ContractCheck
) -> None:
    tenant.request_sync_for_date_range(linked_company_id, *_range(1))
    clock.advance(5)
    second = tenant.request_sync_for_date_range(linked_company_id, *_range(2))
    status = tenant.sync_status(linked_company_id)
    assert status["commerceSyncId"] == status["syncId"] == second["commerceSyncId"]
    assert status["syncStatusCode"] == 1000
    assert status["dataConnections"] == tenant.list_connections(linked_company_id)
    contract("SyncStatus", status)


def test_no_syncs_yet(tenant: Tenant, company_id: str) -> None:
    for call in (tenant.sync_status, tenant.latest_sync, tenant.last_successful_sync):
        with pytest.raises(NotFound, match=company_id):
            call(company_id)
    assert tenant.list_syncs(company_id) == []


def test_latest_sync(tenant: Tenant, company_id: str, clock: Clock) -> None:
    tenant.request_sync_for_date_range(company_id, *_range(1))
    second = tenant.request_sync_for_date_range(company_id, *_range(2))
    latest = tenant.latest_sync(company_id)
    assert latest["syncId"] == second["commerceSyncId"]
    assert latest == tenant.sync(company_id, second["commerceSyncId"])


def test_last_successful_sync(tenant: Tenant, company_id: str, clock: Clock) -> None:
    first = tenant.request_sync_for_date_range(company_id, *_range(1))
    with pytest.raises(NotFound, match="No successful"):
        tenant.last_successful_sync(company_id)
    clock.advance(30)
    assert tenant.last_successful_sync(company_id)["syncId"] == first["commerceSyncId"]
    failed = tenant.request_sync_for_date_range(company_id, *_range(2))
    tenant.force_sync_outcome(failed["commerceSyncId"], 5130)
    tenant.request_sync_for_date_range(company_id, *_range(3))
    # The newest one is still running and the one before failed.
    assert tenant.last_successful_sync(company_id)["syncId"] == first["commerceSyncId"]


def test_list_syncs_newest_first(
    tenant: Tenant, company_id: str, clock: Clock, contract: ContractCheck
) -> None:
    ids = []
    for day in (1, 2, 3):
        ids.append(tenant.request_sync_for_date_range(company_id, *_range(day))["commerceSyncId"])
        clock.advance(10)
    listed = tenant.list_syncs(company_id)
    assert [s["syncId"] for s in listed] == ids[::-1]
    assert [s["syncStatusCode"] for s in listed] == [1000, 1000, 2000]
    for item in listed:
        contract("CompanySyncStatus", item)


def test_unknown_sync(tenant: Tenant, company_id: str) -> None:
    other_company = tenant.create_company("Other")["id"]
    sync_id = tenant.request_sync(other_company)["commerceSyncId"]
    with pytest.raises(NotFound) as caught:
        tenant.sync(company_id, sync_id)
    assert caught.value.message == f"No sync was found with ID {sync_id}"


def test_another_tenant_cannot_see_or_force_a_sync(
    tenant: Tenant, other: Tenant, company_id: str
) -> None:
    sync_id = tenant.request_sync(company_id)["commerceSyncId"]
    with pytest.raises(NotFound):
        other.sync(company_id, sync_id)
    with pytest.raises(NotFound):
        other.force_sync_outcome(sync_id, 5130)
    assert tenant.sync(company_id, sync_id)["syncStatusCode"] == 1000


# -- forced outcomes --------------------------------------------------------------------------


def test_force_a_failure(
    tenant: Tenant, company_id: str, clock: Clock, contract: ContractCheck
) -> None:
    sync_id = tenant.request_sync(company_id)["commerceSyncId"]
    clock.advance(10)
    forced = tenant.force_sync_outcome(sync_id, 5130)
    assert forced["syncStatusCode"] == 5130
    assert forced["syncStatus"] == "PushError"
    assert forced["errorMessage"] == STATUS_CODES[5130].default_message
    assert forced["syncExceptionMessage"] == forced["errorMessage"]
    assert forced["dataPushed"] is False
    # It failed when it was forced, before it would have completed.
    assert forced["syncUtc"] == "2026-03-02T09:00:10Z"
    clock.advance(100)
    assert tenant.sync(company_id, sync_id) == forced
    assert "lastSync" not in tenant.company(company_id)
    contract("CompanySyncStatus", forced)


def test_force_with_a_message(tenant: Tenant, company_id: str) -> None:
    sync_id = tenant.request_sync(company_id)["commerceSyncId"]
    forced = tenant.force_sync_outcome(sync_id, 4000, "No sales customer has been configured.")
    assert forced["errorMessage"] == "No sales customer has been configured."


def test_force_after_completion_keeps_the_completion_time(
    tenant: Tenant, company_id: str, clock: Clock
) -> None:
    sync_id = tenant.request_sync(company_id)["commerceSyncId"]
    clock.advance(300)
    forced = tenant.force_sync_outcome(sync_id, 2040)
    assert forced["syncStatus"] == "Complete"
    assert forced["dataPushed"] is False
    assert forced["errorMessage"] == ""
    assert forced["syncUtc"] == "2026-03-02T09:00:30Z"


def test_force_in_progress_holds_the_sync_open(
    tenant: Tenant, company_id: str, clock: Clock
) -> None:
    sync_id = tenant.request_sync(company_id)["commerceSyncId"]
    tenant.force_sync_outcome(sync_id, 1010)
    clock.advance(10_000)
    status = tenant.sync(company_id, sync_id)
    assert status["syncStatusCode"] == 1010
    assert "syncUtc" not in status
    with pytest.raises(Conflict):
        tenant.set_configuration(company_id)


def test_force_an_unknown_code(tenant: Tenant, company_id: str) -> None:
    sync_id = tenant.request_sync(company_id)["commerceSyncId"]
    with pytest.raises(BadRequest) as caught:
        tenant.force_sync_outcome(sync_id, 1234)
    assert "1234" in caught.value.message
    assert caught.value.validation[0].item_id == "statusCode"
    assert tenant.sync(company_id, sync_id)["syncStatusCode"] == 1000


def test_force_an_unknown_sync(tenant: Tenant) -> None:
    with pytest.raises(NotFound, match="No sync was found"):
        tenant.force_sync_outcome("00000000-0000-4000-8000-000000000000", 2000)


@pytest.mark.parametrize("code", sorted(STATUS_CODES))
def test_every_code_renders_within_the_contract(
    tenant: Tenant, linked_company_id: str, code: int, contract: ContractCheck
) -> None:
    sync_id = tenant.request_sync(linked_company_id)["commerceSyncId"]
    forced = tenant.force_sync_outcome(sync_id, code)
    assert forced["syncStatusCode"] == code
    assert forced["syncStatus"] == STATUS_CODES[code].name
    contract("CompanySyncStatus", forced)
    contract("SyncStatus", tenant.sync_status(linked_company_id))
    contract("Company", tenant.company(linked_company_id))
