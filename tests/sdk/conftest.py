"""Fixtures of the SDK suites: one running mock per module, reset for each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mockserver.server import MockServer
from mockserver.spec import Spec
from tests.sdk.support import Wire, fresh, running_mock


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with running_mock() as mock:
        yield mock


@pytest.fixture
def mock(server: MockServer) -> MockServer:
    return fresh(server)


@pytest.fixture
def wire(spec: Spec) -> Wire:
    return Wire.for_spec(spec)
