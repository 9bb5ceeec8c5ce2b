from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone

import pytest
from starlette.testclient import TestClient

from mockserver.app import create_app
from mockserver.auth import authorization_for
from mockserver.clock import Clock
from mockserver.server import MockServer
from mockserver.settings import Settings
from mockserver.spec import Spec


@pytest.fixture(scope="session")
def spec() -> Spec:
    """The project's contract, loaded and compiled once for the whole run."""
    return Spec.load()


T0 = datetime(2026, 3, 2, 9, 0, 0, tzinfo=timezone.utc)
API_KEY = "test-key-alpha"
OTHER_KEY = "test-key-beta"


@pytest.fixture
def clock() -> Clock:
    """A manual clock, frozen at T0; tests move it with ``advance``."""
    return Clock(frozen_at=T0)


@pytest.fixture
def client(spec: Spec, clock: Clock) -> Iterator[TestClient]:
    """The app in strict mode (every response validated), authenticated as API_KEY."""
    app = create_app(Settings(strict=True, seed=7), clock=clock, spec=spec)
    with TestClient(app, headers={"Authorization": authorization_for(API_KEY)}) as test_client:
        yield test_client


@pytest.fixture
def other_auth() -> dict[str, str]:
    """Headers of a second, unrelated client."""
    return {"Authorization": authorization_for(OTHER_KEY)}


#: The seed of the project's own running mock (the plugin's session server, configured here).
MOCK_SEED = 3


@pytest.fixture(scope="session")
def codat_mock_server() -> Iterator[MockServer]:
    """The plugin's session server, as this project's tests want it: strict, seeded, on a
    manual clock frozen at T0 (the ``mock`` fixture sets it back for each test)."""
    settings = Settings(port=0, strict=True, seed=MOCK_SEED)
    with MockServer(settings, clock=Clock(frozen_at=T0)) as server:
        yield server


@pytest.fixture
def mock(codat_mock: MockServer) -> MockServer:
    """The plugin's ``codat_mock`` (reset for this test), its clock back at T0."""
    codat_mock.clock.set(T0)
    return codat_mock
