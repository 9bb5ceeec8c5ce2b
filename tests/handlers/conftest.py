"""Fixtures for the HTTP handler tests (on top of ``tests/conftest.py``)."""

from __future__ import annotations

import dataclasses

import pytest
from starlette.testclient import TestClient

from mockserver.app import create_app
from mockserver.clock import Clock
from mockserver.fixtures import Fixtures, load_fixtures
from mockserver.render import Shaper
from mockserver.spec import Spec
from tests.handlers.support import create_company, populate


@pytest.fixture(scope="session")
def seed(spec: Spec) -> Fixtures:
    """The project's seed data, read independently of any app, to compare answers with: as
    the default (``codat``) response shape sends it, with no-value nulls left out."""
    return Shaper(spec).settle(load_fixtures())


@pytest.fixture(scope="session")
def next_id_cache() -> dict[tuple[object, ...], str]:
    """``populated``'s memo of the id that follows a populated world (one twin per setup)."""
    return {}


@pytest.fixture
def populated(
    client: TestClient,
    clock: Clock,
    spec: Spec,
    next_id_cache: dict[tuple[object, ...], str],
) -> dict[str, str]:
    """The default client's world with some of every kind of state (see ``populate``).

    Besides the ids ``populate`` made, ``next_id`` is the id the next company gets when
    nothing else has drawn from the app's random stream since: found by populating a twin
    app (same settings, same start time, same caller) and creating one company there.
    """
    settings = client.app.state.mock.settings  # type: ignore[attr-defined]
    auth = client.headers["Authorization"]
    key = (repr(settings), clock.now().isoformat(), auth)
    if key not in next_id_cache:
        twin_app = create_app(
            dataclasses.replace(settings), clock=Clock(frozen_at=clock.now()), spec=spec
        )
        with TestClient(twin_app, headers={"Authorization": auth}) as twin:
            populate(twin, twin_app.state.mock.clock)
            next_id_cache[key] = create_company(twin, "Probe")["id"]
    ids = populate(client, clock)
    return ids | {"next_id": next_id_cache[key]}
