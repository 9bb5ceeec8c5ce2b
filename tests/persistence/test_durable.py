"""Tests of mockserver/persistence/durable.py through the app: what a restart on the same state
file brings back (every tenant's world, the clock, the id generator, fault rules and their
counters, rate limits, webhook consumers and undelivered messages), and what a reset does."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from mockserver.app import create_app
from mockserver.auth import authorization_for
from mockserver.clock import Clock
from mockserver.settings import Settings
from mockserver.spec import Spec
from tests.conftest import API_KEY, OTHER_KEY, T0
from tests.handlers.support import ok, populate, request_sync, world_view
from tests.webhooks.conftest import serve
from tests.webhooks.test_end_to_end import Capture

AUTH = {"Authorization": authorization_for(API_KEY)}
OTHER = {"Authorization": authorization_for(OTHER_KEY)}


@contextmanager
def mock(spec: Spec, settings: Settings, clock: Clock | None = None) -> Iterator[TestClient]:
    """The app on ``settings``, started and (on leaving) shut down, which closes its file."""
    app = create_app(settings, clock=clock or Clock(frozen_at=T0), spec=spec)
    with TestClient(app, headers=AUTH) as client:
        yield client


def everything(client: TestClient) -> dict[str, Any]:
    """What a restart must bring back, as the API and the control API show it."""
    return {
        "state": ok(client.get("/_mock/state")),
        "mine": world_view(client),
        "theirs": world_view(client, OTHER),
        "clock": ok(client.get("/_mock/clock")),
        "faults": ok(client.get("/_mock/faults")),
        "rateLimit": ok(client.get("/_mock/rate-limit")),
        "webhooks": ok(client.get("/_mock/webhooks")),
        "quiet": ok(client.get("/_mock/webhooks/quiet")),
    }


def build_world(client: TestClient, clock: Clock) -> None:
    """Some of every kind of state, in two tenants."""
    populate(client, clock)
    other = ok(client.post("/companies", json={"name": "Other Co"}, headers=OTHER))
    request_sync(client, populate(client, clock)["company"])  # one still running
    ok(client.post(f"/companies/{other['id']}/connections", json={"platformKey": "gbol"},
                   headers=OTHER))  # fmt: skip
    rule = {"operationId": "list-integrations", "status": 503, "every": 2}
    ok(client.post("/_mock/faults", json=rule))
    statuses = [client.get("/config/integrations").status_code for _ in range(3)]
    assert statuses == [200, 503, 200]  # matched three times, fired once
    ok(client.put("/_mock/rate-limit", json={"enabled": True, "dailyBase": 5000}))
    ok(client.post("/_mock/webhooks", json={"url": "http://127.0.0.1:9/hook"}))
    ok(client.put("/_mock/webhooks/quiet/some-client"))
    ok(client.post("/_mock/clock", json={"advance": 5}))


def test_a_restart_brings_back_everything(spec: Spec, tmp_path: Path) -> None:
    settings = Settings(seed=3, state=tmp_path / "state.db")
    clock = Clock(frozen_at=T0)
    with mock(spec, settings, clock) as client:
        build_world(client, clock)
        before = everything(client)
    # The same calls in memory tell which id comes next.
    memory_clock = Clock(frozen_at=T0)
    with mock(spec, Settings(seed=3), memory_clock) as memory:
        build_world(memory, memory_clock)
        next_id = ok(memory.post("/companies", json={"name": "Next"}))["id"]

    # A clock of the wrong time: the file's position wins.
    with mock(spec, settings, Clock(frozen_at=T0 + timedelta(days=9))) as client:
        assert everything(client) == before
        assert ok(client.post("/companies", json={"name": "Next"}))["id"] == next_id


def test_syncs_complete_on_the_restored_clock(spec: Spec, tmp_path: Path) -> None:
    settings = Settings(state=tmp_path / "state.db", sync_duration=60)
    with mock(spec, settings) as client:
        company = ok(client.post("/companies", json={"name": "Syncing"}))["id"]
        request_sync(client, company)
        ok(client.post("/_mock/clock", json={"advance": 30}))
    with mock(spec, settings) as client:
        latest = f"/companies/{company}/sync/commerce/syncs/latest/status"
        assert ok(client.get(latest))["syncStatus"] == "Started"  # 30 s of 60 gone
        ok(client.post("/_mock/clock", json={"advance": 30}))
        assert ok(client.get(latest))["syncStatus"] == "Complete"


def test_a_reset_resets_the_file_to_the_fixtures(spec: Spec, tmp_path: Path) -> None:
    settings = Settings(state=tmp_path / "state.db")
    with mock(spec, settings) as client:
        fresh = everything(client)
        ok(client.post("/companies", json={"name": "Gone soon"}))
        ok(client.post("/_mock/faults", json={"operationId": "*", "status": 500, "times": 1}))
        ok(client.post("/_mock/reset"))
    with mock(spec, settings) as client:
        assert everything(client) == fresh


def test_in_memory_the_store_marks_nothing(spec: Spec) -> None:
    app = create_app(Settings(), spec=spec)
    assert app.state.mock.durable is None
    assert app.state.mock.world.take_changes() is None


def test_webhook_consumers_and_pending_deliveries_survive_a_restart(
    spec: Spec, tmp_path: Path
) -> None:
    settings = Settings(state=tmp_path / "state.db")
    receiver = Capture([500])  # the first attempt fails: attempt 2 is due 5 s later
    with serve(receiver.app) as receiver_url:
        with mock(spec, settings) as client:
            consumer = ok(client.post("/_mock/webhooks", json={"url": f"{receiver_url}/codat"}))
            company = ok(client.post("/companies", json={"name": "Hooked"}))["id"]
            ok(client.post(f"/companies/{company}/connections", json={"platformKey": "gbol"}))
            assert receiver.wait_for(1)
            assert client.app.state.mock.webhooks.wait_idle()  # type: ignore[attr-defined]
        with mock(spec, settings) as client:
            hub = client.app.state.mock.webhooks  # type: ignore[attr-defined]
            assert ok(client.get("/_mock/webhooks"))["consumers"] == [consumer]
            (message,) = ok(client.get("/_mock/webhooks/messages"))["messages"]
            assert (message["status"], message["attempts"]) == ("pending", 1)
            assert hub.wait_idle()
            assert len(receiver.received) == 1  # not due yet on the mock clock
            ok(client.post("/_mock/clock", json={"advance": 5}))
            assert receiver.wait_for(2)
            assert hub.wait_idle()
            first, second = (headers["webhook-id"] for _, headers in receiver.received)
            assert first == second == message["id"]
            (delivered,) = ok(client.get("/_mock/webhooks/messages"))["messages"]
            assert (delivered["status"], delivered["attempts"]) == ("delivered", 2)


@pytest.mark.parametrize("reset_first", [False, True])
def test_a_snapshot_loaded_at_startup_is_the_world(
    spec: Spec, tmp_path: Path, reset_first: bool
) -> None:
    with mock(spec, Settings()) as client:
        ok(client.post("/companies", json={"name": "Loaded"}))
        snapshot = client.get("/_mock/state").content
    path = tmp_path / "snapshot.json"
    path.write_bytes(snapshot)
    settings = Settings(load=path, state=tmp_path / "state.db" if reset_first else None)
    with mock(spec, settings) as client:
        assert client.get("/_mock/state").content == snapshot
        created = ok(client.post("/companies", json={"name": "After"}))["id"]
        names = [c["name"] for c in ok(client.get("/companies"))["results"]]
        assert names == ["Loaded", "After"]
        assert created not in snapshot.decode()


def test_a_write_the_file_cannot_take_is_answered_500_not_acknowledged(
    spec: Spec, tmp_path: Path
) -> None:
    with mock(spec, Settings(state=tmp_path / "state.db")) as client:
        file = client.app.state.mock.durable.file  # type: ignore[attr-defined]
        file._db.close()  # the file is gone from under the mock
        response = client.post("/companies", json={"name": "Not kept"})
        assert response.status_code == 500
        assert response.json()["error"] == "The change could not be written to the state file."
        file._db = sqlite3.connect(":memory:", check_same_thread=False)  # for the shutdown
