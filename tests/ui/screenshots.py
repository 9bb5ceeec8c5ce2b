"""Take the README's dashboard screenshots against real traffic: ``python -m
tests.ui.screenshots docs/``. Runs the official SDK against a mock with faults on (retries
with Retry-After, a lost response that duplicates a create, a dropped connection, a request
off the contract), then photographs the Requests and Retries pages in headless Chromium."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import httpx
from codat_sync_for_commerce.models import errors
from selenium.webdriver.common.by import By

from mockserver.server import MockServer
from mockserver.settings import Settings
from tests.chaos.test_sdk import add_fault, control, sdk_client, short_backoff
from tests.ui.browser import chromium, find_chromium, rows, wait_for


def main(folder: Path) -> None:
    found = find_chromium()
    if found is None:
        raise SystemExit("no Chromium: apt-get install chromium chromium-driver")
    with MockServer(Settings(port=0, seed=1)) as mock, control(mock) as ctl:
        add_fault(ctl, operationId="list-companies", status=429, retryAfter=0.05, times=2)
        add_fault(ctl, operationId="create-company", status=503, when="after", times=1)
        add_fault(ctl, operationId="list-connections", drop="reset", times=1)
        with sdk_client(mock, retry=short_backoff(connection_errors=True)) as sdk:
            company = sdk.advanced_controls.create_company(request={"name": "Corner Cafe"})
            assert company is not None
            sdk.connections.create(
                request={"company_id": company.id, "request_body": {"platform_key": "gbol"}}
            )
            try:
                sdk.connections.list(request={"company_id": company.id})
            except httpx.ReadError:  # the SDK does not retry a reset; its caller does
                sdk.connections.list(request={"company_id": company.id})
            sdk.advanced_controls.list_companies()
            sdk.sync.request(request={"company_id": company.id})
            with contextlib.suppress(errors.ErrorMessage):
                sdk.advanced_controls.list_companies(request={"page": 0})
        with chromium(*found) as driver:
            driver.set_window_size(1600, 1000)
            driver.get(f"{mock.url}/_mock/ui")
            wait_for(driver, lambda d: len(rows(d, "#requests tbody tr")) >= 9)
            rows(driver, "#requests tbody tr.has-violations")[0].click()
            wait_for(driver, lambda d: rows(d, "#detail li.violation"))
            driver.save_screenshot(str(folder / "dashboard-requests.png"))
            driver.get(f"{mock.url}/_mock/ui/retries")
            wait_for(driver, lambda d: rows(d, "svg.timeline"))
            driver.find_element(By.NAME, "retried").click()
            wait_for(driver, lambda d: len(rows(d, "svg.timeline")) == 3)
            driver.save_screenshot(str(folder / "dashboard-retries.png"))


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs"))
