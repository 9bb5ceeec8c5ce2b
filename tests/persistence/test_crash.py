"""``codat-mock serve --state`` in a real process, killed with SIGKILL in the middle of a
load from several threads: after a restart, every write that was answered 2xx is there, with
the same ids and statuses, and the syncs complete on the restored clock."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from mockserver.auth import authorization_for

pytestmark = pytest.mark.slow

KEYS = ("crash-key-one", "crash-key-two")
#: Acknowledged writes to wait for before the kill.
WRITES_BEFORE_KILL = 90
T0 = "2026-03-02T09:00:00Z"


@dataclass
class Server:
    process: subprocess.Popen[str]
    url: str


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(state: Path) -> Iterator[Server]:
    """``codat-mock serve --state`` on a free port, ready when uvicorn says it started."""
    port = _free_port()
    command = [sys.executable, "-m", "mockserver.cli", "serve", "--port", str(port), "--quiet",
               "--state", str(state), "--sync-duration", "60", "--log-level", "info"]  # fmt: skip
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    try:
        # No polling: the socket listens before the banner, and uvicorn says when the app
        # has started.
        for line in process.stderr:
            if "Application startup complete" in line:
                break
        else:
            raise AssertionError(f"the server did not start (exit {process.wait()})")
        yield Server(process, f"http://127.0.0.1:{port}")
    finally:
        if process.poll() is None:
            process.terminate()
        process.wait(10)
        process.stderr.close()


@dataclass
class Acknowledged:
    """Every write the server answered 2xx, per client."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    companies: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (key, name)
    #: id -> (key, company, the statuses it may have: a link sent but not answered may or
    #: may not have been made)
    connections: dict[str, tuple[str, str, set[str]]] = field(default_factory=dict)
    syncs: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (key, company)
    enough: threading.Event = field(default_factory=threading.Event)

    def count(self) -> int:
        return len(self.companies) + len(self.connections) + len(self.syncs)


def _load(url: str, key: str, worker: int, seen: Acknowledged) -> None:
    """Create companies, connections and syncs until the server goes away."""
    auth = {"Authorization": authorization_for(key)}
    with httpx.Client(base_url=url, headers=auth, timeout=10) as api:
        for n in range(10_000):
            try:
                name = f"Worker {worker} company {n}"
                company = api.post("/companies", json={"name": name})
                if company.status_code != 200:
                    continue
                company_id = company.json()["id"]
                with seen.lock:
                    seen.companies[company_id] = (key, name)
                path = f"/companies/{company_id}/connections"
                connection = api.post(path, json={"platformKey": "gbol"})
                if connection.status_code == 200:
                    connection_id = connection.json()["id"]
                    statuses = {"PendingAuth"}
                    with seen.lock:
                        seen.connections[connection_id] = (key, company_id, statuses)
                    if n % 2:  # every other one is linked
                        statuses.add("Linked")
                        linked = api.put(f"{path}/{connection_id}/authorization", json={"t": "1"})
                        if linked.status_code == 200:
                            statuses.discard("PendingAuth")
                sync = api.post(f"/companies/{company_id}/sync/commerce/latest", json={})
                if sync.status_code == 200:
                    with seen.lock:
                        seen.syncs[sync.json()["commerceSyncId"]] = (key, company_id)
                with seen.lock:
                    if seen.count() >= WRITES_BEFORE_KILL:
                        seen.enough.set()
            except httpx.TransportError:
                return  # killed


def _world(url: str) -> dict[str, dict[str, Any]]:
    """Every company of both clients, with its connections and syncs, by id."""
    found: dict[str, dict[str, Any]] = {}
    for key in KEYS:
        auth = {"Authorization": authorization_for(key)}
        with httpx.Client(base_url=url, headers=auth, timeout=10) as api:
            companies = api.get("/companies", params={"pageSize": 5000}).json()["results"]
            for company in companies:
                syncs = api.get(f"/companies/{company['id']}/sync/commerce/syncs/list/status")
                found[company["id"]] = {
                    "key": key,
                    "name": company["name"],
                    "connections": {c["id"]: c["status"] for c in company["dataConnections"]},
                    "syncs": {s["syncId"]: s["syncStatus"] for s in syncs.json()},
                }
    return found


def test_every_acknowledged_write_survives_kill_9(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    seen = Acknowledged()
    with serve(state) as server:
        httpx.post(f"{server.url}/_mock/clock", json={"set": T0}).raise_for_status()
        workers = [
            threading.Thread(target=_load, args=(server.url, KEYS[n % 2], n, seen))
            for n in range(4)
        ]
        for worker in workers:
            worker.start()
        assert seen.enough.wait(60)
        server.process.send_signal(signal.SIGKILL)  # the load is still running
        for worker in workers:
            worker.join(30)
        assert server.process.wait(10) == -signal.SIGKILL

    with serve(state) as server:
        assert httpx.get(f"{server.url}/_mock/clock").json() == {"now": T0, "frozen": True}
        world = _world(server.url)
        for company_id, (key, name) in seen.companies.items():
            assert (world[company_id]["key"], world[company_id]["name"]) == (key, name)
        for connection_id, (key, company_id, statuses) in seen.connections.items():
            assert world[company_id]["key"] == key
            assert world[company_id]["connections"][connection_id] in statuses
        for sync_id, (_, company_id) in seen.syncs.items():
            assert world[company_id]["syncs"][sync_id] == "Started"  # 60 s to go
        httpx.post(f"{server.url}/_mock/clock", json={"advance": 60}).raise_for_status()
        world = _world(server.url)
        for sync_id, (_, company_id) in seen.syncs.items():
            assert world[company_id]["syncs"][sync_id] == "Complete"
        # A fresh create takes an id nothing was given before the crash.
        auth = {"Authorization": authorization_for(KEYS[0])}
        created = httpx.post(f"{server.url}/companies", json={"name": "After"}, headers=auth)
        assert created.json()["id"] not in world
