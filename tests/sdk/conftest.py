"""Fixtures of the SDK suites: the plugin's running mock (reset for each test; see
``tests/conftest.py``) in each response shape, and the wire recorder."""

from __future__ import annotations

import pytest

from mockserver.render import DEFAULT_SHAPE, SHAPES
from mockserver.server import MockServer
from mockserver.spec import Spec
from tests.conftest import T0
from tests.sdk.support import Wire


@pytest.fixture(params=SHAPES)
def mock(codat_mock: MockServer, request: pytest.FixtureRequest) -> MockServer:
    """The plugin's mock (reset for this test, its clock back at T0), answering every
    operation in one response shape: the SDK must take each shape the contract allows, so
    every test here runs under all three. A shape rule does it, on the one session server."""
    codat_mock.clock.set(T0)
    if request.param != DEFAULT_SHAPE:
        codat_mock.faults.add(operationId="*", shape=request.param)
    return codat_mock


@pytest.fixture
def wire(spec: Spec) -> Wire:
    return Wire.for_spec(spec)
