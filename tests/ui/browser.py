"""Headless Debian Chromium for the dashboard tests, driven by selenium.

Only the packaged browser and driver are used (``/usr/bin/chromium`` and
``/usr/bin/chromedriver``, from Debian's ``chromium`` and ``chromium-driver``): nothing is
downloaded, and selenium's own driver manager never runs because both paths are given.
"""

from __future__ import annotations

import shutil
import struct
import tempfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

_T = TypeVar("_T")

#: Flags that work on a machine with no network beyond loopback: without the background
#: networking ones, Chromium keeps trying to reach Google's hosts.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,900",
)
WAIT_SECONDS = 15.0


def find_chromium() -> tuple[str, str] | None:
    """The browser and its driver, or None when either is missing."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


@contextmanager
def chromium(browser: str, driver: str) -> Iterator[WebDriver]:
    """A fresh headless Chromium (empty profile) that records console messages."""
    with tempfile.TemporaryDirectory(prefix="codat-mock-chromium-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = browser
        for flag in FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={profile}")
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        session = webdriver.Chrome(options=options, service=Service(executable_path=driver))
        try:
            yield session
        finally:
            session.quit()


def wait_for(driver: WebDriver, condition: Callable[[WebDriver], _T | bool | None]) -> _T:
    """Wait (bounded) until ``condition`` gives something truthy, and return it.

    Pages redraw what changed, so an element found a moment ago may be gone: try again.
    """
    wait = WebDriverWait(
        driver,
        WAIT_SECONDS,
        poll_frequency=0.05,
        ignored_exceptions=(NoSuchElementException, StaleElementReferenceException),
    )
    result: _T = wait.until(condition)
    return result


def rows(driver: WebDriver, selector: str) -> list[WebElement]:
    return list(driver.find_elements(By.CSS_SELECTOR, selector))


def console_errors(driver: WebDriver) -> list[dict[str, Any]]:
    """Console messages at error level since the last call (reading empties the log)."""
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def distinct_rows(png: bytes) -> int:
    """How many different pixel rows a PNG screenshot has: 1 for a blank page.

    Reads the format directly (chunks, zlib, per-row filter bytes), so no imaging library
    is needed; rows are compared as filtered, which tells blank from drawn just as well.
    """
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    position, data, width, height, channels = 8, b"", 0, 0, 0
    while position < len(png):
        (length,) = struct.unpack(">I", png[position : position + 4])
        kind = png[position + 4 : position + 8]
        chunk = png[position + 8 : position + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", chunk[:10])
            assert depth == 8
            channels = {2: 3, 6: 4, 0: 1, 4: 2}[color]
        elif kind == b"IDAT":
            data += chunk
        position += 12 + length
    raw = zlib.decompress(data)
    stride = 1 + width * channels
    assert len(raw) == stride * height
    return len({raw[row * stride + 1 : (row + 1) * stride] for row in range(height)})
