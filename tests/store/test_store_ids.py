"""Tests of mockserver/store/ids.py: ids never collide, whatever resets and imports came
before, and the same seed with the same calls still gives the same ids.

The property runs through the app (``POST /_mock/reset`` rebuilds the world from the seed, the
path the bug took), with two tenants sharing one world.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from mockserver.app import create_app
from mockserver.auth import authorization_for, client_id_for
from mockserver.clock import Clock
from mockserver.errors import BadRequest
from mockserver.fixtures import Fixtures
from mockserver.settings import Settings
from mockserver.spec import Spec
from mockserver.store import World
from mockserver.store.ids import IdSource, new_id, uuid4_text
from tests.conftest import API_KEY, OTHER_KEY, T0
from tests.handlers.support import ok

AUTH = {key: {"Authorization": authorization_for(key)} for key in (API_KEY, OTHER_KEY)}


def test_id_source_skips_claimed_ids_deterministically() -> None:
    first = new_id(random.Random(3))
    source = IdSource(random.Random(3))
    source.claim([first])
    fresh = source.new_id()
    assert fresh != first
    assert fresh == new_id(_advanced(random.Random(3), 1))
    assert source.taken(fresh) and source.taken(first)


def _advanced(rng: random.Random, draws: int) -> random.Random:
    for _ in range(draws):
        new_id(rng)
    return rng


def test_a_reset_world_given_a_snapshot_never_hands_out_an_imported_id(
    fixtures: Fixtures, clock: Clock
) -> None:
    world = World(fixtures, clock=clock, rng=random.Random(1))
    imported = world.tenant("a").create_company("Imported")["id"]
    snapshot = world.snapshot()
    fresh = World(fixtures, clock=clock, rng=random.Random(1))
    fresh.load(snapshot)
    created = fresh.tenant("b").create_company("New")["id"]
    assert created != imported
    assert [c["name"] for c in fresh.tenant("a").list_companies()] == ["Imported"]


def test_a_snapshot_holding_one_id_twice_is_refused(fixtures: Fixtures, clock: Clock) -> None:
    world = World(fixtures, clock=clock, rng=random.Random(1))
    world.tenant("a").create_company("One")
    snapshot = world.snapshot()
    twin = dict(snapshot["tenants"][0], clientId="b")
    snapshot["tenants"].append(twin)
    other = World(fixtures, clock=clock, rng=random.Random(2))
    other.tenant("c").create_company("Kept")
    with pytest.raises(BadRequest, match="twice"):
        other.load(snapshot)
    assert [c["name"] for c in other.tenant("c").list_companies()] == ["Kept"]


def test_the_issue_repro_create_export_reset_import_create(client: TestClient) -> None:
    kept = ok(client.post("/companies", json={"name": "first"}))["id"]
    snapshot = ok(client.get("/_mock/state"))
    ok(client.post("/_mock/reset"))
    ok(client.put("/_mock/state", json=snapshot))
    created = ok(client.post("/companies", json={"name": "new"}))["id"]
    listed = ok(client.get("/companies"))["results"]
    assert [(c["id"], c["name"]) for c in listed] == [(kept, "first"), (created, "new")]


# -- the property ------------------------------------------------------------------------------

TENANTS = st.sampled_from([API_KEY, OTHER_KEY])
OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("create"), TENANTS),
        st.tuples(st.just("connect"), TENANTS),
        # Imports one of the snapshots taken after each create so far; a reset just before
        # the import is what let the seeded sequence run into the imported ids.
        st.tuples(st.just("import"), st.tuples(st.integers(0, 9), st.booleans())),
        st.tuples(st.just("reset"), st.none()),
    ),
    max_size=10,
)


@pytest.fixture(scope="module")
def shared_client(spec: Spec) -> Iterator[TestClient]:
    """One app for every example (each example starts with a reset)."""
    app = create_app(Settings(seed=11), clock=Clock(frozen_at=T0), spec=spec)
    with TestClient(app) as client:
        yield client


def _run(client: TestClient, operations: list[tuple[str, Any]]) -> list[str]:
    """Apply ``operations`` from a fresh reset, checking after each that every id is unique
    and every record the model expects is there; returns the ids handed out, in order."""
    ok(client.post("/_mock/reset"))
    model: dict[str, dict[str, set[str]]] = {key: {} for key in AUTH}
    snapshots: list[tuple[dict[str, Any], dict[str, dict[str, set[str]]]]] = []
    handed_out: list[str] = []
    for name, arg in operations:
        if name == "create":
            company = ok(client.post("/companies", json={"name": "c"}, headers=AUTH[arg]))
            assert all(company["id"] not in held for held in model.values())
            model[arg][company["id"]] = set()
            handed_out.append(company["id"])
        elif name == "connect" and model[arg]:
            company_id = sorted(model[arg])[0]
            path = f"/companies/{company_id}/connections"
            connection = ok(client.post(path, json={"platformKey": "gbol"}, headers=AUTH[arg]))
            model[arg][company_id].add(connection["id"])
            handed_out.append(connection["id"])
        elif name == "import" and snapshots:
            if arg[1]:
                ok(client.post("/_mock/reset"))
            snapshot, saved = snapshots[arg[0] % len(snapshots)]
            ok(client.put("/_mock/state", json=snapshot))
            model = {key: {c: set(v) for c, v in held.items()} for key, held in saved.items()}
        elif name == "reset":
            ok(client.post("/_mock/reset"))
            model = {key: {} for key in AUTH}
        state = _check(client, model)
        if name in ("create", "connect"):
            copied = {key: {c: set(v) for c, v in held.items()} for key, held in model.items()}
            snapshots.append((state, copied))
    return handed_out


def _check(client: TestClient, model: dict[str, dict[str, set[str]]]) -> dict[str, Any]:
    """The world's state, checked against ``model`` (which also says no id is held twice)."""
    state: dict[str, Any] = ok(client.get("/_mock/state"))
    by_client = {tenant["clientId"]: tenant for tenant in state["tenants"]}
    every_id: list[str] = []
    for key, held in model.items():
        companies = by_client.get(client_id_for(key), {"companies": []})["companies"]
        found = {c["id"]: {d["id"] for d in c["connections"]} for c in companies}
        assert found == held
        every_id.extend(found)
        for connections in found.values():
            every_id.extend(connections)
    assert len(every_id) == len(set(every_id))
    return state


@settings(max_examples=20, deadline=None)
@given(operations=OPERATIONS)
def test_ids_never_collide_and_replay_the_same(
    shared_client: TestClient, operations: list[tuple[str, Any]]
) -> None:
    first = _run(shared_client, operations)
    assert _run(shared_client, operations) == first


@given(st.integers(min_value=0, max_value=2**128 - 1))
def test_uuid4_text_is_the_standard_library_form(bits: int) -> None:
    assert uuid4_text(bits) == str(uuid.UUID(int=bits, version=4))
