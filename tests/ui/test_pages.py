"""The World, Faults, Retries and Webhooks pages in a real browser, fed by the official
SDK's traffic; each page is checked against what the control API says, and the ``page``
fixture fails any test whose pages logged a console error."""

from __future__ import annotations

import httpx
import pytest
from codat_sync_for_commerce.models import errors
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select

from mockserver.auth import authorization_for
from mockserver.server import MockServer
from tests.chaos.test_sdk import API_KEY, add_fault, journal, sdk_client, short_backoff
from tests.ui.browser import distinct_rows, rows, wait_for
from tests.webhooks.conftest import serve
from tests.webhooks.test_end_to_end import Capture

pytestmark = pytest.mark.slow


def sync_code(driver: WebDriver, sync_id: str) -> str | None:
    found = rows(driver, f'tr[data-sync-id="{sync_id}"] td.sync-status')
    return found[0].get_attribute("data-code") if found else None


def test_the_clock_button_completes_a_sync_on_the_world_page(
    page: WebDriver, mock: MockServer, ctl: httpx.Client
) -> None:
    with sdk_client(mock) as sdk:
        company = sdk.advanced_controls.create_company(request={"name": "World Cafe"})
        assert company is not None
        summary = sdk.sync.request(request={"company_id": company.id})
        assert summary is not None
    sync_id = summary.commerce_sync_id
    page.get(f"{mock.url}/_mock/ui/world")
    wait_for(page, lambda d: sync_code(d, sync_id) == "1000")
    completes = f'tr[data-sync-id="{sync_id}"] td.completes'
    assert page.find_element(By.CSS_SELECTOR, completes).text == "2026-03-02T09:00:30Z (in 30 s)"
    card = page.find_element(By.CSS_SELECTOR, f'article[data-company-id="{company.id}"]')
    assert card.find_element(By.CSS_SELECTOR, "h3").text.startswith("World Cafe")

    page.find_element(By.CSS_SELECTOR, 'button.advance[data-seconds="60"]').click()
    wait_for(page, lambda d: sync_code(d, sync_id) == "2000")
    sync_row = page.find_element(By.CSS_SELECTOR, f'tr[data-sync-id="{sync_id}"]')
    assert "2000 Complete" in sync_row.text
    assert page.find_element(By.CSS_SELECTOR, completes).text == "2026-03-02T09:00:30Z"
    assert ctl.get("/_mock/clock").json()["now"] == "2026-03-02T09:01:00Z"

    # Every id links to the requests that touched it: here, the create and the sync request.
    page.find_element(By.CSS_SELECTOR, f'article[data-company-id="{company.id}"] h3 a.id').click()
    wait_for(page, lambda d: len(rows(d, "#requests tbody tr")) == 2)
    ops = [r.find_element(By.CSS_SELECTOR, "td.op").text for r in rows(page, "#requests tbody tr")]
    assert ops == ["request-sync", "create-company"]
    assert f"touches={company.id}" in page.current_url


def rule_ids(driver: WebDriver) -> list[str]:
    return [r.get_attribute("data-rule-id") or "" for r in rows(driver, "#rules tbody tr")]


def test_a_fault_added_from_the_form_fires_on_the_next_request(
    page: WebDriver, mock: MockServer, ctl: httpx.Client
) -> None:
    page.get(f"{mock.url}/_mock/ui/faults")
    wait_for(page, lambda d: d.find_element(By.ID, "no-rules").is_displayed())
    form = page.find_element(By.ID, "add-fault")
    Select(form.find_element(By.NAME, "operationId")).select_by_value("list-companies")
    status = form.find_element(By.NAME, "status")
    status.clear()
    status.send_keys("418")
    form.find_element(By.NAME, "times").send_keys("1")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    (rule_id,) = wait_for(page, lambda d: rule_ids(d))

    stored = ctl.get("/_mock/faults").json()["rules"]
    assert [(r["id"], r["operationId"], r["status"], r["times"]) for r in stored] == [
        (rule_id, "list-companies", 418, 1)
    ]
    with sdk_client(mock) as sdk:
        with pytest.raises(errors.SDKError) as raised:
            sdk.advanced_controls.list_companies()
        assert raised.value.status_code == 418
        sdk.advanced_controls.list_companies()  # the rule fired once and retired
    (faulted, clean) = journal(ctl, 2, operationId="list-companies")
    assert (faulted["faultId"], faulted["status"], clean["faultId"]) == (rule_id, 418, None)

    row = f'#rules tr[data-rule-id="{rule_id}"]'
    wait_for(page, lambda d: d.find_element(By.CSS_SELECTOR, f"{row} td.fired").text == "1")
    assert page.find_element(By.CSS_SELECTOR, f"{row} td.matched").text == "1"
    assert "retired" in page.find_element(By.CSS_SELECTOR, row).text

    # A drop rule, then remove one and clear the rest.
    Select(form.find_element(By.NAME, "action")).select_by_value("drop")
    assert not form.find_element(By.NAME, "status").is_displayed()
    Select(form.find_element(By.NAME, "drop")).select_by_value("reset")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_for(page, lambda d: len(rule_ids(d)) == 2)
    assert ctl.get("/_mock/faults").json()["rules"][1]["drop"] == "reset"
    # A response shape for every operation.
    Select(form.find_element(By.NAME, "operationId")).select_by_value("*")
    Select(form.find_element(By.NAME, "action")).select_by_value("shape")
    assert not form.find_element(By.NAME, "drop").is_displayed()
    Select(form.find_element(By.NAME, "shape")).select_by_value("nulls")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_for(page, lambda d: len(rule_ids(d)) == 3)
    shaped = ctl.get("/_mock/faults").json()["rules"][2]
    assert (shaped["operationId"], shaped["shape"]) == ("*", "nulls")
    shaped_row = f'#rules tr[data-rule-id="{shaped["id"]}"]'
    assert "shape nulls" in page.find_element(By.CSS_SELECTOR, shaped_row).text

    page.find_element(By.CSS_SELECTOR, f"{row} button.remove").click()
    wait_for(page, lambda d: rule_id not in rule_ids(d) and len(rule_ids(d)) == 2)
    page.find_element(By.ID, "clear-faults").click()
    wait_for(page, lambda d: rule_ids(d) == [])
    assert ctl.get("/_mock/faults").json()["rules"] == []


def test_a_refused_rule_shows_the_control_apis_reason(
    page: WebDriver, mock: MockServer, ctl: httpx.Client
) -> None:
    page.get(f"{mock.url}/_mock/ui/faults")
    form = wait_for(page, lambda d: d.find_element(By.ID, "add-fault"))
    status = form.find_element(By.NAME, "status")
    # Past the form's own checks, as a hand-made request would be: the server refuses it.
    page.execute_script("arguments[0].removeAttribute('min'); arguments[0].value = '99'", status)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    error = wait_for(page, lambda d: d.find_element(By.ID, "error").is_displayed() and d)
    assert "status" in error.find_element(By.ID, "error").text
    assert "100" in error.find_element(By.ID, "error").text
    assert ctl.get("/_mock/faults").json()["rules"] == []
    # The refused POST is in the console as a failed load, and nothing else is.
    logged = [entry["message"] for entry in page.get_log("browser")]
    assert len(logged) == 1
    assert "/_mock/faults" in logged[0]
    assert "400" in logged[0]


def test_the_retries_page_draws_one_timeline_per_logical_call(
    page: WebDriver, mock: MockServer, ctl: httpx.Client
) -> None:
    add_fault(ctl, operationId="list-companies", status=429, retryAfter=0.05, times=2)
    add_fault(ctl, operationId="create-company", status=503, when="after", times=1)
    with sdk_client(mock, retry=short_backoff()) as sdk:
        sdk.advanced_controls.create_company(request={"name": "Twice Cafe"})
        sdk.advanced_controls.list_companies()
    report = ctl.get("/_mock/report").json()
    calls = {
        op["operationId"]: op["logicalCalls"] for op in report["operations"] if op["logicalCalls"]
    }
    assert [len(c) for c in calls.values()] == [1, 1]
    assert calls["list-companies"][0]["statuses"] == [429, 429, 200]
    assert calls["create-company"][0]["statuses"] == [503, 200]
    assert report["totals"]["duplicates"] == 1

    page.get(f"{mock.url}/_mock/ui/retries")
    wait_for(page, lambda d: len(rows(d, "article.call svg.timeline")) == 2)
    for operation_id, (call,) in calls.items():
        card = f'article.call[data-operation-id="{operation_id}"]'
        svg = page.find_element(By.CSS_SELECTOR, f"{card} svg.timeline")
        assert svg.get_attribute("data-attempts") == str(call["attempts"])
        attempts = rows(page, f"{card} g.attempt")
        assert [a.get_attribute("data-status") for a in attempts] == [
            str(status) for status in call["statuses"]
        ]
        assert [a.get_attribute("data-seq") for a in attempts] == [str(s) for s in call["seqs"]]
    # The SDK ignores Retry-After: both waits are drawn short of it.
    assert len(rows(page, 'article.call[data-operation-id="list-companies"] .asked.short')) == 6
    # The lost response made the retry a second create: that attempt is flagged.
    flagged = rows(page, 'article.call[data-operation-id="create-company"] g.attempt.dup')
    assert [f.get_attribute("data-seq") for f in flagged] == [
        str(calls["create-company"][0]["seqs"][1])
    ]

    stats = {
        s.get_attribute("data-stat"): s.find_element(By.CSS_SELECTOR, "b").text
        for s in rows(page, "#summary .stat")
    }
    assert stats == {
        "calls": "2",
        "attempts": "5",
        "retried": "2",
        "gave up": "0",
        "Retry-After honoured": "0 / 1",
        "duplicates": "1",
    }
    assert distinct_rows(page.get_screenshot_as_png()) > 50

    # An attempt opens its request on the Requests page.
    first = calls["list-companies"][0]["seqs"][0]
    page.find_element(By.CSS_SELECTOR, f'g.attempt[data-seq="{first}"] rect').click()
    heading = wait_for(page, lambda d: d.find_element(By.CSS_SELECTOR, "#detail h2"))
    assert heading.text.startswith(f"#{first} GET /companies")
    assert "429" in page.find_element(By.ID, "detail").text


def test_the_webhooks_page_shows_a_failed_delivery_and_its_next_retry(
    page: WebDriver, mock: MockServer, ctl: httpx.Client
) -> None:
    receiver = Capture([500])
    with serve(receiver.app) as receiver_url:
        consumer = ctl.post("/_mock/webhooks", json={"url": f"{receiver_url}/codat"}).json()
        with sdk_client(mock) as sdk:
            company = sdk.advanced_controls.create_company(request={"name": "Hook Cafe"})
            assert company is not None
            sdk.connections.create(
                request={"company_id": company.id, "request_body": {"platform_key": "gbol"}}
            )
        assert receiver.wait_for(1)
        # The receiver answers before the hub records the failure and schedules the retry.
        assert mock.components.webhooks.wait_idle()
        page.get(f"{mock.url}/_mock/ui/webhooks")
        wait_for(page, lambda d: rows(d, f'#consumers tr[data-consumer-id="{consumer["id"]}"]'))
        (message,) = ctl.get("/_mock/webhooks/messages").json()["messages"]
        row = f'#messages tr[data-message-id="{message["id"]}"]'
        wait_for(page, lambda d: rows(d, row))
        text = page.find_element(By.CSS_SELECTOR, row).text
        assert "connection.created" in text
        assert "pending" in text
        assert message["nextAttemptAt"] in text  # the retry, on the mock clock
        wait_for(page, lambda d: "500" in d.find_element(By.ID, "deliveries").text)
        assert "failed" in page.find_element(By.ID, "deliveries").text


def test_rate_limits_are_switched_on_from_the_faults_page_and_counted(
    page: WebDriver, mock: MockServer, ctl: httpx.Client
) -> None:
    page.get(f"{mock.url}/_mock/ui/faults")
    wait_for(page, lambda d: "is off" in d.find_element(By.ID, "rate-limit-counters").text)
    settings = page.find_element(By.ID, "rate-limit-form")
    settings.find_element(By.NAME, "enabled").click()
    daily = settings.find_element(By.NAME, "dailyBase")
    daily.clear()
    daily.send_keys("3")
    settings.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_for(page, lambda d: rows(d, "#rate-limit-counters table"))
    assert ctl.get("/_mock/rate-limit").json()["dailyBase"] == 3
    with sdk_client(mock) as sdk:
        sdk.advanced_controls.list_companies()
    counters = "#rate-limit-counters table tbody tr td"
    # tenant, active companies, used, daily quota, remaining, ...
    wait_for(page, lambda d: [c.text for c in rows(d, counters)][2:5] == ["1", "3", "2"])


def test_the_retries_page_draws_the_newest_two_hundred_calls(
    page: WebDriver, mock: MockServer
) -> None:
    headers = {"Authorization": authorization_for(API_KEY)}
    with httpx.Client(base_url=mock.url, headers=headers, trust_env=False) as api:
        for page_number in range(1, 206):  # 205 different calls, one attempt each
            assert api.get("/companies", params={"page": page_number}).status_code == 200
    page.get(f"{mock.url}/_mock/ui/retries")
    wait_for(page, lambda d: len(rows(d, "svg.timeline")) == 200)
    assert "The newest 200 of 205 calls are drawn." in page.find_element(By.ID, "calls").text
    first = page.find_element(By.CSS_SELECTOR, "article.call header code")
    assert first.text == "GET /companies?page=205"
