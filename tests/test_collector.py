"""Tests of the serve's garbage-collection policy (mockserver/collector.py): survivors of full
collections frozen, frozen cycles collected by an audit, nothing left behind by uninstall, and
only ``serve`` (not ``create_app``) installing it. Every test leaves the interpreter's
collector as it found it."""

from __future__ import annotations

import asyncio
import gc
import socket
import weakref
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from starlette.testclient import TestClient

from mockserver.app import create_app
from mockserver.cli import main
from mockserver.collector import Collector
from mockserver.exchange import SCOPE_KEY


class Node:
    """A cycle with a handle to watch it by: ``node.me is node``."""

    def __init__(self) -> None:
        self.me = self


@pytest.fixture(autouse=True)
def gc_state() -> Iterator[None]:
    """Start unfrozen; at the end remove any callback a test left, restore freezing."""
    was_frozen = gc.get_freeze_count() > 0
    callbacks = list(gc.callbacks)
    thresholds = gc.get_threshold()
    gc.unfreeze()
    yield
    gc.callbacks[:] = callbacks
    gc.set_threshold(*thresholds)
    gc.unfreeze()
    if was_frozen:
        gc.freeze()


@pytest.fixture
def collector() -> Iterator[Collector]:
    installed = Collector()
    installed.install()
    yield installed
    installed.uninstall()


def frozen_cycle() -> weakref.ref[Node]:
    """A cycle that was alive at a full collection (so frozen), then dropped."""
    node = Node()
    gc.collect()
    return weakref.ref(node)


def test_install_collects_then_freezes_the_heap() -> None:
    garbage = frozen_cycle()  # not frozen yet: no policy
    assert gc.get_freeze_count() == 0
    Collector().install()
    assert garbage() is None
    assert gc.get_freeze_count() > 0


def test_survivors_of_a_full_collection_are_frozen(collector: Collector) -> None:
    before = gc.get_freeze_count()
    kept = [[] for _ in range(1_000)]
    gc.collect()
    assert gc.get_freeze_count() >= before + len(kept)


def test_a_frozen_cycle_outlives_collections_until_an_audit(collector: Collector) -> None:
    garbage = frozen_cycle()
    gc.collect()
    assert garbage() is not None  # the price of freezing
    audits = collector.audits
    assert collector.audit() >= 1
    assert garbage() is None
    assert collector.audits == audits + 1


def test_after_reset_audits_once_the_frozen_heap_has_grown() -> None:
    policy = Collector(audit_growth=0.0)
    policy.install()
    # Kept alive through frozen_cycle's collection: the frozen heap grows by far more than
    # whatever else (pytest's own objects) may be freed meanwhile, so the growth is certain.
    grown = [[] for _ in range(1_000)]
    garbage = frozen_cycle()
    policy.after_reset()
    assert garbage() is None
    assert policy.audits == 2  # the install's, the reset's
    assert len(grown) == 1_000
    policy.uninstall()


def test_after_reset_does_not_audit_a_heap_that_has_barely_grown() -> None:
    policy = Collector(audit_growth=10.0)
    policy.install()
    garbage = frozen_cycle()
    policy.after_reset()
    assert garbage() is not None
    assert policy.audits == 1
    policy.uninstall()


def test_the_thresholds_are_the_policys_while_installed() -> None:
    gc.set_threshold(500, 7, 9)
    policy = Collector(thresholds=(50, 20, 2))
    policy.install()
    assert gc.get_threshold() == (50, 20, 2)
    policy.uninstall()
    assert gc.get_threshold() == (500, 7, 9)


def test_uninstall_removes_the_callback_and_unfreezes() -> None:
    callbacks = list(gc.callbacks)
    thresholds = gc.get_threshold()
    policy = Collector()
    policy.install()
    assert policy.installed
    assert len(gc.callbacks) == len(callbacks) + 1
    policy.uninstall()
    assert not policy.installed
    assert gc.callbacks == callbacks
    assert gc.get_threshold() == thresholds
    assert gc.get_freeze_count() == 0
    kept = [[] for _ in range(10)]
    gc.collect()
    assert gc.get_freeze_count() == 0, kept  # no longer freezing
    policy.uninstall()  # a second time: nothing to do


def test_uninstall_leaves_a_heap_frozen_before_install_frozen() -> None:
    gc.freeze()
    policy = Collector()
    policy.install()
    policy.uninstall()
    assert gc.get_freeze_count() > 0


def test_install_twice_is_refused(collector: Collector) -> None:
    with pytest.raises(RuntimeError, match="installed already"):
        collector.install()


def test_create_app_alone_installs_nothing() -> None:
    callbacks = list(gc.callbacks)
    create_app()
    assert gc.callbacks == callbacks
    assert gc.get_freeze_count() == 0


def test_the_app_runs_on_reset_after_a_whole_reset_only() -> None:
    resets: list[int] = []
    app = create_app(on_reset=lambda: resets.append(1))
    with TestClient(app) as client:
        assert client.post("/_mock/reset", json={"clientId": "someone"}).status_code == 200
        assert resets == []
        assert client.post("/_mock/reset").status_code == 200
        assert resets == [1]


def test_serve_installs_the_policy_audits_on_reset_and_uninstalls(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    callbacks = list(gc.callbacks)
    seen: dict[str, Any] = {}
    audits: list[Collector] = []
    monkeypatch.setattr(Collector, "after_reset", lambda self: audits.append(self))

    def fake_run(server: uvicorn.Server, sockets: list[socket.socket]) -> None:
        [policy] = [
            callback.__self__
            for callback in gc.callbacks
            if isinstance(getattr(callback, "__self__", None), Collector)
        ]
        seen["policy"] = policy
        seen["frozen"] = gc.get_freeze_count()
        with TestClient(server.config.app) as client:
            client.post("/_mock/reset")

    monkeypatch.setattr(uvicorn.Server, "run", fake_run)
    assert main(["serve", "--port", "0", "--quiet"]) == 0
    assert seen["frozen"] > 0
    assert audits == [seen["policy"]]
    assert gc.callbacks == callbacks
    assert gc.get_freeze_count() == 0


class FakeTransport:
    """Enough of an asyncio transport for the app to keep it as the raw connection."""

    def abort(self) -> None:  # pragma: no cover - no fault drops it here
        raise AssertionError("not dropped")


class FakeCycle:
    """Stands in for uvicorn's request cycle: ``send`` is its method, it holds the scope."""

    def __init__(self, scope: dict[str, Any]) -> None:
        self.scope = scope
        self.transport = FakeTransport()
        self.sent: list[dict[str, Any]] = []

    async def receive(self) -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)


def test_a_codat_request_leaves_no_garbage_in_cycles() -> None:
    """What the policy relies on: a request's objects go by reference counting, so none of
    them can be frozen in a cycle (the raw connection's hold on the server's request cycle,
    which holds the scope, is let go)."""
    app = create_app()
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/companies",
        "raw_path": b"/companies",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), (b"authorization", b"Basic a2V5")],
        "server": ("127.0.0.1", 4010),
        "client": ("127.0.0.1", 50000),
    }
    cycle = FakeCycle(scope)
    gc.disable()
    try:
        asyncio.run(app(scope, cycle.receive, cycle.send))
        assert cycle.sent[0]["status"] == 200
        assert scope[SCOPE_KEY].connection is None
        watched = weakref.ref(cycle)
        del cycle, scope
        assert watched() is None
    finally:
        gc.enable()
