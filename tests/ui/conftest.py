"""Fixtures of the dashboard tests: one headless Chromium for the whole run, and the plugin's
running mock (reset for each test; see ``tests/conftest.py``)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from selenium.webdriver.remote.webdriver import WebDriver

from mockserver.server import MockServer
from tests.chaos.test_sdk import control
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
