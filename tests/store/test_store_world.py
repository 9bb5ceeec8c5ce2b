from __future__ import annotations

import json
import random
import threading
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import pytest

from mockserver.clock import Clock
from mockserver.errors import BadRequest, NotFound
from mockserver.fixtures import Fixtures
from mockserver.store import Tenant, World

ContractCheck = Callable[[str, Any], None]
T0 = datetime(2026, 3, 2, 9, 0, 0, tzinfo=timezone.utc)


def _busy_day(tenant: Tenant, clock: Clock) -> dict[str, Any]:
    """Exercise most of a tenant and return everything it shows afterwards."""
    company_id = tenant.create_company("Bramble & Oak", "bakery", {"region": "uk"})["id"]
    commerce = tenant.create_connection(company_id, "fztf")
    accounting = tenant.create_connection(company_id, "gbol")
    tenant.update_connection_authorization(company_id, commerce["id"], {"k": "v"})
    tenant.update_connection_authorization(company_id, accounting["id"], {"k": "v"})
    tenant.update_connection(company_id, commerce["id"], "Unlinked")
    first = tenant.request_sync(company_id)
    clock.advance(45)
    tenant.set_configuration(company_id)
    failed = tenant.request_sync_for_date_range(
        company_id,
        datetime(2025, 1, 1, tzinfo=timezone.utc),
        datetime(2025, 2, 1, tzinfo=timezone.utc),
    )
    tenant.force_sync_outcome(failed["commerceSyncId"], 5130, "boom")
    tenant.request_sync(company_id)  # still running when the snapshot is taken
    tenant.update_texts("en-us", {"title": {"text": "Hello"}})
    tenant.update_visible_accounts("gbol", ["payments"])
    tenant.sync_flow_url("fztf", "qhyg", "Second merchant")
    return {
        "first": first,
        "view": _view(tenant, company_id),
    }


def _view(tenant: Tenant, company_id: str) -> dict[str, Any]:
    return {
        "companies": tenant.list_companies(),
        "syncs": tenant.list_syncs(company_id),
        "status": tenant.sync_status(company_id),
        "lastSuccessful": tenant.last_successful_sync(company_id),
        "configuration": tenant.configuration(company_id),
        "texts": tenant.texts("en-us"),
        "visible": tenant.visible_accounts("gbol"),
    }


def test_the_same_client_gets_the_same_tenant(world: World) -> None:
    assert world.tenant("a") is world.tenant("a")
    assert world.tenant("a") is not world.tenant("b")
    assert world.tenant("a").client_id == "a"
    assert world.client_ids() == ["a", "b"]


def test_looking_for_a_tenant_creates_none(world: World) -> None:
    assert world.existing_tenant("a") is None
    assert world.client_ids() == []
    created = world.tenant("a")
    assert world.existing_tenant("a") is created
    assert world.client_ids() == ["a"]


def test_tenants_are_isolated(world: World) -> None:
    a, b = world.tenant("a"), world.tenant("b")
    a.create_company("Only in A")
    assert b.list_companies() == []
    assert len(a.list_companies()) == 1


def test_ids_are_uuid4_shaped(world: World) -> None:
    tenant = world.tenant("a")
    company_id = tenant.create_company("X")["id"]
    ids = [company_id, tenant.create_connection(company_id, "gbol")["id"]]
    ids.append(tenant.request_sync(company_id)["commerceSyncId"])
    for value in ids:
        parsed = uuid.UUID(value)
        assert parsed.version == 4
        assert str(parsed) == value
    assert len(set(ids)) == 3


def test_same_seed_same_world(make_fixtures: Callable[..., Fixtures]) -> None:
    def run(seed: int) -> tuple[dict[str, Any], dict[str, Any]]:
        clock = Clock(frozen_at=T0)
        world = World(make_fixtures(), clock=clock, rng=random.Random(seed))
        shown = _busy_day(world.tenant("a"), clock)
        return shown, world.snapshot()

    first, second, other = run(11), run(11), run(12)
    assert first == second
    assert first[0]["first"]["commerceSyncId"] != other[0]["first"]["commerceSyncId"]


def test_snapshot_is_plain_json(world: World, clock: Clock) -> None:
    _busy_day(world.tenant("a"), clock)
    snapshot = world.snapshot()
    assert json.loads(json.dumps(snapshot)) == snapshot
    assert snapshot["version"] == 1
    assert snapshot["syncDuration"] == 30.0
    assert [t["clientId"] for t in snapshot["tenants"]] == ["a"]


def test_snapshot_restore_round_trip(world: World, clock: Clock, fixtures: Fixtures) -> None:
    tenant = world.tenant("a")
    shown = _busy_day(tenant, clock)
    world.tenant("b").create_company("B's")
    snapshot = json.loads(json.dumps(world.snapshot()))

    restored = World.restore(snapshot, fixtures, clock=clock, rng=random.Random(999))
    assert restored.snapshot() == snapshot
    company_id = shown["view"]["companies"][0]["id"]
    assert _view(restored.tenant("a"), company_id) == shown["view"]
    assert [c["name"] for c in restored.tenant("b").list_companies()] == ["B's"]

    # Time keeps working on the restored state: the running sync finishes in both worlds.
    clock.advance(60)
    assert restored.tenant("a").sync_status(company_id) == tenant.sync_status(company_id)
    assert restored.tenant("a").sync_status(company_id)["syncStatusCode"] == 2000


def test_load_replaces_everything(world: World, clock: Clock) -> None:
    world.tenant("a").create_company("Before")
    snapshot = world.snapshot()
    world.tenant("a").create_company("After")
    world.tenant("c").create_company("Other tenant")
    world.load(snapshot)
    assert world.client_ids() == ["a"]
    assert [c["name"] for c in world.tenant("a").list_companies()] == ["Before"]
    assert world.tenant("c").list_companies() == []


@pytest.mark.parametrize(
    "bad",
    [
        {"version": 2, "tenants": []},
        {"tenants": []},
        {"version": 1},
        {"version": 1, "tenants": [{"clientId": "x"}]},
        {"version": 1, "tenants": [{"clientId": "x", "companies": [{"id": "c"}]}]},
    ],
)
def test_a_bad_snapshot_is_refused_and_changes_nothing(world: World, bad: dict[str, Any]) -> None:
    world.tenant("a").create_company("Kept")
    before = world.snapshot()
    with pytest.raises(BadRequest):
        world.load(bad)
    assert world.snapshot() == before


def test_reset(world: World) -> None:
    world.tenant("a").create_company("A")
    world.tenant("b").create_company("B")
    world.reset("a")
    assert world.tenant("a").list_companies() == []
    assert len(world.tenant("b").list_companies()) == 1
    world.reset()
    assert world.client_ids() == []


def test_sync_duration_applies_to_new_syncs_only(world: World, clock: Clock) -> None:
    tenant = world.tenant("a")
    company_id = tenant.create_company("X")["id"]
    old = tenant.request_sync(company_id)["commerceSyncId"]
    world.sync_duration = 5
    assert world.sync_duration == 5
    other_company = tenant.create_company("Y")["id"]
    new = tenant.request_sync(other_company)["commerceSyncId"]
    clock.advance(5)
    assert tenant.sync(other_company, new)["syncStatusCode"] == 2000
    assert tenant.sync(company_id, old)["syncStatusCode"] == 1000


def test_negative_sync_durations_are_refused(
    world: World, fixtures: Fixtures, clock: Clock
) -> None:
    with pytest.raises(ValueError):
        world.sync_duration = -1
    with pytest.raises(ValueError):
        World(fixtures, clock=clock, rng=random.Random(0), sync_duration=-1)


def test_concurrent_creation_loses_nothing(world: World) -> None:
    tenant = world.tenant("a")

    def create(n: int) -> None:
        for i in range(50):
            tenant.create_company(f"T{n} C{i}")

    threads = [threading.Thread(target=create, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    companies = tenant.list_companies()
    assert len(companies) == 200
    assert len({c["id"] for c in companies}) == 200


def test_snapshots_keep_sub_second_precision(fixtures: Fixtures) -> None:
    clock = Clock(frozen_at=T0.replace(microsecond=500_000))
    world = World(fixtures, clock=clock, rng=random.Random(5))
    tenant = world.tenant("a")
    company_id = tenant.create_company("Precise")["id"]
    clock.set(T0.replace(microsecond=100_000))
    tenant.request_sync(company_id)  # requested "before" the connection below
    clock.set(T0.replace(microsecond=700_000))
    tenant.create_connection(company_id, "gbol")
    clock.advance(60)
    restored = World.restore(world.snapshot(), fixtures, clock=clock, rng=random.Random(5))
    assert "lastSync" not in restored.tenant("a").list_connections(company_id)[0]
    assert restored.tenant("a").company(company_id) == tenant.company(company_id)


def test_a_full_reset_is_the_world_as_built_in_place(world: World) -> None:
    first_ids = [world.tenant("a").create_company(name)["id"] for name in ("A", "B")]
    world.sync_duration = 99
    world.reset()
    assert world.client_ids() == []
    assert world.sync_duration == 30.0
    # The same RNG draws again: ids repeat, as in a freshly built world with that seed.
    assert [world.tenant("a").create_company(name)["id"] for name in ("A", "B")] == first_ids


def test_owners_are_found_across_tenants(world: World) -> None:
    world.tenant("a").create_company("A")
    bob = world.tenant("b")
    company_id = bob.create_company("B")["id"]
    connection_id = bob.create_connection(company_id, "gbol")["id"]
    sync_id = bob.request_sync(company_id)["commerceSyncId"]
    assert world.connection_owner(company_id, connection_id) is bob
    assert world.sync_owner(sync_id) is bob
    with pytest.raises(NotFound, match="Data connection"):
        world.connection_owner(company_id, str(uuid.uuid4()))
    with pytest.raises(NotFound, match="No sync"):
        world.sync_owner(str(uuid.uuid4()))


def test_a_bad_snapshot_names_its_source_and_the_field(fixtures: Fixtures, clock: Clock) -> None:
    world = World(fixtures, clock=clock, rng=random.Random(3))
    world.tenant("a").create_company("One")
    snapshot = world.snapshot()
    snapshot["syncDuration"] = float("inf")
    with pytest.raises(BadRequest) as caught:
        World.restore(snapshot, fixtures, clock=clock, rng=random.Random(3), source="state.json")
    assert caught.value.message == (
        "state.json cannot be restored: syncDuration: must be a finite number"
    )
    assert [item.item_id for item in caught.value.validation] == ["syncDuration"]
