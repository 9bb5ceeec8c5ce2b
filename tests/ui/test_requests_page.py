"""The Requests page in a real browser, fed by the official SDK's traffic with faults on."""

from __future__ import annotations

import httpx
import pytest
from codat_sync_for_commerce.models import errors
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select

from mockserver.auth import authorization_for, client_id_for
from mockserver.clock import Clock
from mockserver.server import MockServer
from mockserver.settings import Settings
from tests.chaos.test_sdk import API_KEY, SEED, add_fault, sdk_client
from tests.conftest import T0
from tests.ui.browser import distinct_rows, rows, wait_for

pytestmark = pytest.mark.slow

TOKEN = "dashboard-token"


def cells(driver: WebDriver) -> list[tuple[str, str, str]]:
    """(operationId, status, fault) of each row, top (newest) first."""
    return [
        (
            row.find_element(By.CSS_SELECTOR, "td.op").text,
            row.find_element(By.CSS_SELECTOR, "td.status").text,
            row.find_element(By.CSS_SELECTOR, "td.fault").text,
        )
        for row in rows(driver, "#requests tbody tr")
    ]


def test_rows_arrive_live_newest_first_with_status_and_operation(
    page: WebDriver, mock: MockServer, ctl: httpx.Client
) -> None:
    page.get(f"{mock.url}/_mock/ui")
    wait_for(page, lambda d: d.find_element(By.ID, "live").text == "live")
    assert rows(page, "#requests tbody tr") == []

    rule_id = add_fault(ctl, operationId="list-companies", status=503, times=1)
    with sdk_client(mock) as sdk:
        company = sdk.advanced_controls.create_company(request={"name": "Dashboard Cafe"})
        assert company is not None
        with pytest.raises(errors.ErrorMessage):
            sdk.advanced_controls.list_companies()
        sdk.advanced_controls.list_companies()

    # The page was open before the traffic: the rows come by polling, newest on top.
    wait_for(page, lambda d: len(rows(d, "#requests tbody tr")) == 3)
    assert cells(page) == [
        ("list-companies", "200", ""),
        ("list-companies", "503", f"{rule_id} status"),
        ("create-company", "200", ""),
    ]
    tenant = page.find_element(By.CSS_SELECTOR, "#requests tbody tr td.tenant")
    assert tenant.get_attribute("title") == client_id_for(API_KEY)

    # Filters: faulted only, then a status class, then an operation.
    page.find_element(By.NAME, "faulted").click()
    wait_for(page, lambda d: [c[1] for c in cells(d)] == ["503"])
    page.find_element(By.NAME, "faulted").click()
    Select(page.find_element(By.NAME, "statusClass")).select_by_value("2xx")
    wait_for(page, lambda d: [c[1] for c in cells(d)] == ["200", "200"])
    Select(page.find_element(By.NAME, "operationId")).select_by_value("create-company")
    wait_for(page, lambda d: [c[0] for c in cells(d)] == ["create-company"])
    assert "operationId=create-company" in page.current_url

    png = page.get_screenshot_as_png()
    assert distinct_rows(png) > 50  # a drawn page, not a blank one

    # A reset empties the journal: the page notices and shows what is left (nothing).
    ctl.post("/_mock/reset")
    wait_for(page, lambda d: rows(d, "#requests tbody tr") == [])
    with sdk_client(mock) as sdk:
        sdk.advanced_controls.create_company(request={"name": "After Reset"})
    wait_for(page, lambda d: [c[0] for c in cells(d)] == ["create-company"])
    page.find_element(By.ID, "clear-journal").click()
    wait_for(page, lambda d: rows(d, "#requests tbody tr") == [])
    assert ctl.get("/_mock/requests").json()["requests"] == []


def test_a_row_opens_the_exchange_and_highlights_its_violations(
    page: WebDriver, mock: MockServer
) -> None:
    with sdk_client(mock) as sdk, pytest.raises(errors.ErrorMessage):
        sdk.advanced_controls.list_companies(request={"page": 0})
    page.get(f"{mock.url}/_mock/ui")
    row = wait_for(page, lambda d: rows(d, "#requests tbody tr.has-violations"))[0]
    assert "400" in row.find_element(By.CSS_SELECTOR, "td.status").text
    row.click()

    detail = wait_for(page, lambda d: d.find_element(By.ID, "detail").is_displayed() and d)
    violation = wait_for(page, lambda d: rows(d, "#detail li.violation"))[0]
    assert violation.text.startswith("query.page")
    assert "minimum of 1" in violation.text
    body = detail.find_element(By.ID, "detail").text
    assert '"statusCode": 400' in body  # the response body, pretty-printed
    headers = {
        row.find_element(By.CSS_SELECTOR, "th").text: row.find_element(By.CSS_SELECTOR, "td").text
        for row in rows(page, "#detail table.headers tr")
    }
    assert headers["authorization"] == "Basic ****"  # masked by the journal
    assert headers["content-type"].startswith("application/json")  # the response's
    assert authorization_for(API_KEY).split()[1] not in page.page_source
    assert "seq=" in page.current_url  # the open exchange has an address of its own


def test_with_a_control_token_the_dashboard_asks_for_it_once(page: WebDriver) -> None:
    settings = Settings(port=0, strict=True, seed=SEED, control_token=TOKEN)
    with MockServer(settings, clock=Clock(frozen_at=T0)) as guarded:
        with sdk_client(guarded) as sdk:
            sdk.advanced_controls.create_company(request={"name": "Guarded Cafe"})
        page.get(f"{guarded.url}/_mock/ui")
        gate = wait_for(page, lambda d: d.find_element(By.ID, "token-gate"))
        wait_for(page, lambda d: gate.is_displayed())
        assert rows(page, "#requests tbody tr") == []
        refused = [entry["message"] for entry in page.get_log("browser")]
        assert refused and all("401" in message for message in refused)

        page.find_element(By.ID, "token-input").send_keys(TOKEN)
        gate.find_element(By.CSS_SELECTOR, "button").click()
        wait_for(page, lambda d: len(rows(d, "#requests tbody tr")) == 1)
        assert not page.find_element(By.ID, "token-gate").is_displayed()

        # Or in the address fragment, which never leaves the browser: taken, then removed.
        page.execute_script("sessionStorage.clear()")
        page.get("about:blank")
        page.get(f"{guarded.url}/_mock/ui/world#token={TOKEN}")
        wait_for(page, lambda d: "Guarded Cafe" in d.find_element(By.ID, "tenants").text)
        assert page.current_url == f"{guarded.url}/_mock/ui/world"
        assert not page.find_element(By.ID, "token-gate").is_displayed()
        page.execute_script("sessionStorage.clear()")


def test_an_exchange_no_longer_journaled_says_so(page: WebDriver, mock: MockServer) -> None:
    page.get(f"{mock.url}/_mock/ui?seq=999999")
    error = wait_for(page, lambda d: d.find_element(By.ID, "error").is_displayed() and d)
    assert error.find_element(By.ID, "error").text == "No request 999999 is in the journal."
    assert not page.find_element(By.ID, "detail").is_displayed()
    (refused,) = [entry["message"] for entry in page.get_log("browser")]
    assert "/_mock/requests/999999" in refused
    assert "404" in refused


def test_the_shape_column_names_the_response_shape_sent(
    page: WebDriver, mock: MockServer, ctl: httpx.Client
) -> None:
    add_fault(ctl, operationId="list-companies", shape="extra", times=1)
    with sdk_client(mock) as sdk:
        sdk.advanced_controls.list_companies()
        sdk.advanced_controls.list_companies()
    page.get(f"{mock.url}/_mock/ui")
    wait_for(page, lambda d: len(rows(d, "#requests tbody tr")) == 2)
    shapes = [cell.text for cell in rows(page, "#requests tbody td.shape")]
    assert shapes == ["codat", "extra"]  # newest first
