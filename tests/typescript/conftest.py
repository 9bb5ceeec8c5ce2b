"""The TypeScript SDK, installed once per test session (or skipped, saying why)."""

from __future__ import annotations

import pytest

from tests.typescript.support import NodeSdk, install_sdk


@pytest.fixture(scope="session")
def node_sdk() -> NodeSdk:
    return install_sdk()
