"""Seeding the world, not just the catalog: a fixtures folder's ``world`` file (companies,
connections and syncs keyed by API key or client id) and ``serve --load SNAPSHOT``; a bad one
is a startup error naming the file and the field."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from mockserver import cli
from mockserver.app import create_app
from mockserver.auth import authorization_for, client_id_for
from mockserver.clock import Clock
from mockserver.errors import ApiError
from mockserver.fixtures import FixtureError
from mockserver.persistence.snapshots import SnapshotFileError
from mockserver.settings import Settings
from mockserver.spec import Spec
from tests.conftest import API_KEY, OTHER_KEY, T0
from tests.handlers.support import ok, request_sync

AUTH = {"Authorization": authorization_for(API_KEY)}
OTHER = {"Authorization": authorization_for(OTHER_KEY)}


@pytest.fixture(scope="module")
def team_world(spec: Spec) -> dict[str, Any]:
    """One tenant's companies (one with a linked connection and a sync), as a snapshot."""
    app = create_app(Settings(seed=99), clock=Clock(frozen_at=T0), spec=spec)
    with TestClient(app, headers=AUTH) as client:
        company = ok(client.post("/companies", json={"name": "Seeded Bakery"}))["id"]
        connection = ok(client.post(f"/companies/{company}/connections",
                                    json={"platformKey": "gbol"}))["id"]  # fmt: skip
        ok(client.put(f"/companies/{company}/connections/{connection}/authorization",
                      json={"token": "t"}))  # fmt: skip
        request_sync(client, company)
        ok(client.post("/companies", json={"name": "Seeded Florist"}))
        state: dict[str, Any] = ok(client.get("/_mock/state"))
    return state


def overlay(tmp_path: Path, world: Any) -> Path:
    folder = tmp_path / "team-fixtures"
    folder.mkdir()
    (folder / "world.json").write_text(json.dumps(world))
    return folder


@pytest.fixture
def seeded(spec: Spec, tmp_path: Path, team_world: dict[str, Any]) -> Iterator[TestClient]:
    companies = team_world["tenants"][0]["companies"]
    folder = overlay(tmp_path, {"tenants": [{"apiKey": API_KEY, "companies": companies}]})
    app = create_app(Settings(fixtures_overlay=folder), clock=Clock(frozen_at=T0), spec=spec)
    with TestClient(app, headers=AUTH) as client:
        yield client


def names(client: TestClient, headers: dict[str, str] | None = None) -> list[str]:
    return [c["name"] for c in ok(client.get("/companies", headers=headers))["results"]]


def test_the_seeded_tenant_starts_with_its_companies(
    seeded: TestClient, team_world: dict[str, Any]
) -> None:
    assert names(seeded) == ["Seeded Bakery", "Seeded Florist"]
    assert names(seeded, OTHER) == []  # keyed to one tenant only
    bakery = ok(seeded.get("/companies"))["results"][0]
    assert [c["status"] for c in bakery["dataConnections"]] == ["Linked"]
    syncs = ok(seeded.get(f"/companies/{bakery['id']}/sync/commerce/syncs/list/status"))
    assert len(syncs) == 1
    assert ok(seeded.get("/_mock/state"))["tenants"][0] == team_world["tenants"][0]


def test_a_reset_brings_the_seeded_world_back_and_new_ids_never_collide(
    seeded: TestClient,
) -> None:
    seeded_ids = {c["id"] for c in ok(seeded.get("/companies"))["results"]}
    ok(seeded.post("/companies", json={"name": "Gone soon"}))
    ok(seeded.post("/_mock/reset"))
    assert names(seeded) == ["Seeded Bakery", "Seeded Florist"]
    created = ok(seeded.post("/companies", json={"name": "New"}))["id"]
    other = ok(seeded.post("/companies", json={"name": "Theirs"}, headers=OTHER))["id"]
    assert not {created, other} & seeded_ids
    ok(seeded.post("/_mock/reset", json={"clientId": client_id_for(API_KEY)}))
    assert names(seeded) == ["Seeded Bakery", "Seeded Florist"]
    assert names(seeded, OTHER) == ["Theirs"]


def test_a_seeded_world_goes_into_a_new_state_file(
    spec: Spec, tmp_path: Path, team_world: dict[str, Any]
) -> None:
    companies = team_world["tenants"][0]["companies"]
    folder = overlay(tmp_path, {"tenants": [{"clientId": "team", "companies": companies}]})
    settings = Settings(fixtures_overlay=folder, state=tmp_path / "state.db")
    for _ in range(2):  # the second start restores from the file
        with TestClient(create_app(settings, spec=spec)) as client:
            (tenant,) = ok(client.get("/_mock/state"))["tenants"]
            assert tenant["clientId"] == "team"
            assert [c["name"] for c in tenant["companies"]] == ["Seeded Bakery", "Seeded Florist"]


def test_a_world_fixture_without_a_key_names_the_file_and_the_entry(
    spec: Spec, tmp_path: Path
) -> None:
    folder = overlay(tmp_path, {"tenants": [{"companies": []}]})
    with pytest.raises(FixtureError) as raised:
        create_app(Settings(fixtures_overlay=folder), spec=spec)
    assert "world.json" in str(raised.value)
    assert "world.tenants[0]" in str(raised.value)


def test_a_bad_company_in_the_world_fixture_names_the_file_and_the_field(
    spec: Spec, tmp_path: Path, team_world: dict[str, Any]
) -> None:
    company = dict(team_world["tenants"][0]["companies"][1], id="not-a-uuid")
    folder = overlay(tmp_path, {"tenants": [{"apiKey": API_KEY, "companies": [company]}]})
    with pytest.raises(ApiError) as raised:
        create_app(Settings(fixtures_overlay=folder), spec=spec)
    assert "world.json" in raised.value.message
    assert "companies[0].id" in raised.value.message


def test_a_bad_snapshot_to_load_names_the_file_and_the_field(
    spec: Spec, tmp_path: Path, team_world: dict[str, Any]
) -> None:
    snapshot = json.loads(json.dumps(team_world))
    snapshot["tenants"][0]["companies"][0]["syncs"][0]["duration"] = "nan"
    path = tmp_path / "snapshot.json"
    path.write_text(json.dumps(snapshot))
    with pytest.raises(SnapshotFileError) as raised:
        create_app(Settings(load=path), spec=spec)
    assert str(path) in str(raised.value)
    assert "syncs[0].duration" in str(raised.value)
    path.write_text("{not json")
    with pytest.raises(SnapshotFileError, match="not JSON"):
        create_app(Settings(load=path), spec=spec)


def test_serve_refuses_a_bad_snapshot_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "snapshot.json"
    path.write_text(json.dumps({"version": 1, "tenants": [{"clientId": ""}]}))
    assert cli.main(["serve", "--port", "0", "--load", str(path)], environ={}) == 2
    error = capsys.readouterr().err
    assert str(path) in error and "clientId" in error
