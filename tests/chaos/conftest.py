"""Fixtures of the chaos suites: one running mock per module, reset for each test, and a
client for its control API."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from mockserver.server import MockServer
from tests.chaos.test_sdk import control, fresh, running_mock


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with running_mock() as mock:
        yield mock


@pytest.fixture
def mock(server: MockServer) -> MockServer:
    return fresh(server)


@pytest.fixture
def ctl(mock: MockServer) -> Iterator[httpx.Client]:
    with control(mock) as client:
        yield client
