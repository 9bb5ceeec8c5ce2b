"""Fixtures of the SDK suites: the plugin's running mock (reset for each test; see
``tests/conftest.py``) and the wire recorder."""

from __future__ import annotations

import pytest

from mockserver.spec import Spec
from tests.sdk.support import Wire


@pytest.fixture
def wire(spec: Spec) -> Wire:
    return Wire.for_spec(spec)
