"""Fixtures for the HTTP handler tests (on top of ``tests/conftest.py``)."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from mockserver.clock import Clock
from mockserver.fixtures import Fixtures, load_fixtures
from tests.handlers.support import populate


@pytest.fixture(scope="session")
def seed() -> Fixtures:
    """The project's seed data, read independently of any app, to compare answers with."""
    return load_fixtures()


@pytest.fixture
def populated(client: TestClient, clock: Clock) -> dict[str, str]:
    """The default client's world with some of every kind of state (see ``populate``)."""
    return populate(client, clock)
