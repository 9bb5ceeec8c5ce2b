"""Fixtures of the chaos suites: the plugin's running mock (see ``tests/conftest.py``) and a
client for its control API."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from mockserver.server import MockServer
from tests.chaos.test_sdk import control


@pytest.fixture
def ctl(mock: MockServer) -> Iterator[httpx.Client]:
    with control(mock) as client:
        yield client
