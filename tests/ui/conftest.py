"""Fixtures of the dashboard tests: one headless Chromium and one mock for the whole run
(the mock reset for each test)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from selenium.webdriver.remote.webdriver import WebDriver

from mockserver.server import MockServer
from tests.chaos.test_sdk import control, fresh, running_mock
from tests.ui.browser import chromium, console_errors, find_chromium


@pytest.fixture(scope="session")
def browser() -> Iterator[WebDriver]:
    found = find_chromium()
    if found is None:
        pytest.skip(
            "no Chromium here: the dashboard tests need Debian's chromium and chromium-driver "
            "(apt-get install chromium chromium-driver; .ci/run installs them)"
        )
    with chromium(*found) as driver:
        yield driver


@pytest.fixture(scope="session")
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


@pytest.fixture
def page(browser: WebDriver, mock: MockServer) -> Iterator[WebDriver]:
    """The browser, its console log emptied; after the test, the pages it opened must have
    logged no error."""
    console_errors(browser)
    yield browser
    assert console_errors(browser) == []
