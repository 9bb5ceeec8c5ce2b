"""Chaos testing with the official SDK (``codat-sync-for-commerce`` 6.1.0) against a real server.

Each test sets fault rules through the control API, lets the SDK do its work over loopback
HTTP, and then checks three things: what the SDK did (returned, raised, how often it tried),
what the request journal recorded, and what the report concludes. Retries use a backoff of a
few milliseconds: the SDK adds up to a second of random jitter to every wait, but caps each
wait at ``max_interval``, so a small cap keeps every test fast. The SDK never reads
``Retry-After``, so the values rules send there cost no time.

The helpers here are shared by the other modules of ``tests/chaos``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest
from codat_sync_for_commerce import CodatSyncCommerce
from codat_sync_for_commerce.models import errors
from codat_sync_for_commerce.utils.retries import BackoffStrategy, RetryConfig

from mockserver.auth import authorization_for, client_id_for
from mockserver.server import MockServer
from tests.sdk import support as sdk_support

T0 = datetime(2026, 3, 2, 9, 0, 0, tzinfo=timezone.utc)
T0_TEXT = "2026-03-02T09:00:00Z"
API_KEY = "chaos-key-alpha"
OTHER_KEY = "chaos-key-beta"
SEED = 3
#: How long a hanging request may keep the SDK waiting.
TIMEOUT_MS = 300
#: The journal records a dropped exchange when the server notices the connection is gone,
#: which can be a moment after the client has already raised: poll for it, this long at most.
JOURNAL_WAIT_SECONDS = 5.0

#: The rate-limit settings a server starts with: Codat's numbers, switched off.
RATE_LIMITS_OFF = {
    "enabled": False,
    "dailyBase": 1000,
    "perCompanyConcurrency": 10,
    "perIpPerMinute": 1000,
}

#: What httpx (and so the SDK, which passes them through) raises for each kind of drop.
DROP_ERRORS: dict[str, type[Exception]] = {
    "reset": httpx.ReadError,
    "empty": httpx.RemoteProtocolError,
    "truncate": httpx.RemoteProtocolError,
    "hang": httpx.ReadTimeout,
}


# -- servers, clients and the control API ---------------------------------------------------


@contextmanager
def control(mock: MockServer) -> Iterator[httpx.Client]:
    """A plain httpx client on the mock's base URL (for /_mock and for raw Codat calls)."""
    with httpx.Client(base_url=mock.url, trust_env=False, timeout=10) as client:
        yield client


def short_backoff(max_elapsed_ms: int = 5_000, *, connection_errors: bool = False) -> RetryConfig:
    """The SDK's own retry strategy with waits of a few milliseconds at most."""
    return RetryConfig(
        "backoff",
        BackoffStrategy(
            initial_interval=1, max_interval=5, exponent=1.5, max_elapsed_time=max_elapsed_ms
        ),
        connection_errors,
    )


@contextmanager
def sdk_client(
    mock: MockServer,
    *,
    api_key: str = API_KEY,
    retry: RetryConfig | None = None,
    timeout_ms: int | None = None,
    on_response: Callable[[httpx.Response], None] | None = None,
) -> Iterator[CodatSyncCommerce]:
    """The SDK suites' client (``tests/sdk/support.py``) as ``api_key`` on the mock;
    ``retry=None`` switches retries off."""
    with sdk_support.sdk_client(
        mock,
        authorization_for(api_key),
        retry=retry,
        timeout_ms=timeout_ms,
        on_response=on_response,
    ) as sdk:
        yield sdk


def add_fault(ctl: httpx.Client, **rule: Any) -> str:
    """POST one rule; the answer is the stored rule with its id and fresh counters."""
    response = ctl.post("/_mock/faults", json=rule)
    assert response.status_code == 200, response.text
    stored: dict[str, Any] = response.json()
    assert stored["matched"] == stored["fired"] == 0
    assert stored["retired"] is False
    rule_id: str = stored["id"]
    return rule_id


def journal(ctl: httpx.Client, count: int, **filters: str | int) -> list[dict[str, Any]]:
    """The journal (filtered) once it holds ``count`` entries; fails if it never does, or
    holds more."""
    deadline = time.monotonic() + JOURNAL_WAIT_SECONDS
    pause = threading.Event()
    while True:
        response = ctl.get("/_mock/requests", params=filters)
        assert response.status_code == 200, response.text
        entries: list[dict[str, Any]] = response.json()["requests"]
        if len(entries) >= count or time.monotonic() > deadline:
            break
        pause.wait(0.01)
    assert len(entries) == count, [(e["operationId"], e["status"]) for e in entries]
    return entries


def rule_state(ctl: httpx.Client, rule_id: str) -> dict[str, Any]:
    """The stored rule as GET /_mock/faults shows it now."""
    rules = ctl.get("/_mock/faults").json()["rules"]
    (found,) = [rule for rule in rules if rule["id"] == rule_id]
    assert isinstance(found, dict)
    return found


def only_call(report: dict[str, Any], operation_id: str) -> dict[str, Any]:
    """The single logical call the report found for ``operation_id``."""
    (operation,) = [op for op in report["operations"] if op["operationId"] == operation_id]
    (call,) = operation["logicalCalls"]
    assert isinstance(call, dict)
    return call


def company_names(mock: MockServer) -> list[str]:
    """The companies of API_KEY's client, as the state snapshot has them."""
    with control(mock) as ctl:
        snapshot = ctl.get("/_mock/state").json()
    client_id = client_id_for(API_KEY)
    tenants = [tenant for tenant in snapshot["tenants"] if tenant["clientId"] == client_id]
    return [company["name"] for tenant in tenants for company in tenant["companies"]]


# -- 429 with Retry-After, then success ------------------------------------------------------


def test_two_429s_then_success_on_the_third_attempt(mock: MockServer, ctl: httpx.Client) -> None:
    rule_id = add_fault(ctl, operationId="list-companies", status=429, retryAfter=1, times=2)

    with sdk_client(mock, retry=short_backoff()) as sdk:
        companies = sdk.advanced_controls.list_companies()
    assert companies is not None
    assert companies.total_results == 0

    entries = journal(ctl, 3, operationId="list-companies")
    assert [e["status"] for e in entries] == [429, 429, 200]
    assert [e["faultId"] for e in entries] == [rule_id, rule_id, None]
    assert [e["retryAfter"] for e in entries] == ["1", "1", None]
    assert {e["clientId"] for e in entries} == {client_id_for(API_KEY)}
    assert '"statusCode":429' in entries[0]["responseBody"]

    stored = rule_state(ctl, rule_id)
    assert (stored["matched"], stored["fired"], stored["retired"]) == (2, 2, True)

    call = only_call(ctl.get("/_mock/report").json(), "list-companies")
    assert call["attempts"] == 3
    assert call["statuses"] == [429, 429, 200]
    assert call["faultIds"] == [rule_id, rule_id, None]
    assert call["retryAfterSeconds"] == [1.0, 1.0]
    # The SDK backs off by milliseconds here and never reads Retry-After.
    assert all(gap < 1.0 for gap in call["gapsSeconds"])
    assert call["retryAfterHonoured"] is False
    assert call["succeeded"] is True


def test_without_a_retry_config_the_first_429_reaches_the_caller(
    mock: MockServer, ctl: httpx.Client
) -> None:
    rule_id = add_fault(ctl, operationId="list-companies", status=429, retryAfter=1, times=2)
    with sdk_client(mock) as sdk, pytest.raises(errors.ErrorMessage) as raised:
        sdk.advanced_controls.list_companies()
    assert raised.value.data.status_code == 429
    assert raised.value.data.can_be_retried == "True"
    (entry,) = journal(ctl, 1)
    assert (entry["status"], entry["faultId"]) == (429, rule_id)
    assert rule_state(ctl, rule_id)["fired"] == 1


# -- before and after: the lost response ------------------------------------------------------


def test_a_503_before_the_handler_and_a_retry_create_one_company(
    mock: MockServer, ctl: httpx.Client
) -> None:
    rule_id = add_fault(ctl, operationId="create-company", status=503, times=1)

    with sdk_client(mock, retry=short_backoff()) as sdk:
        created = sdk.advanced_controls.create_company(request={"name": "Acme"})
        assert created is not None
        listed = sdk.advanced_controls.list_companies()
    assert listed is not None
    assert [c.id for c in listed.results or []] == [created.id]
    assert company_names(mock) == ["Acme"]

    entries = journal(ctl, 2, operationId="create-company")
    assert [e["status"] for e in entries] == [503, 200]
    assert [e["faultId"] for e in entries] == [rule_id, None]
    # 'before': the handler never ran on the faulted attempt.
    assert [e["handlerStatus"] for e in entries] == [None, None]
    assert entries[0]["requestBody"] == entries[1]["requestBody"] == '{"name":"Acme"}'

    report = ctl.get("/_mock/report").json()
    assert report["duplicates"] == []
    assert only_call(report, "create-company")["statuses"] == [503, 200]


def test_a_503_after_the_handler_and_a_retry_create_the_company_twice(
    mock: MockServer, ctl: httpx.Client
) -> None:
    rule_id = add_fault(ctl, operationId="create-company", status=503, times=1, when="after")

    with sdk_client(mock, retry=short_backoff()) as sdk:
        created = sdk.advanced_controls.create_company(request={"name": "Acme"})
        assert created is not None
        listed = sdk.advanced_controls.list_companies()
    assert listed is not None
    assert listed.total_results == 2
    assert created.id in {c.id for c in listed.results or []}
    assert company_names(mock) == ["Acme", "Acme"]

    entries = journal(ctl, 2, operationId="create-company")
    assert [e["status"] for e in entries] == [503, 200]
    assert [e["faultId"] for e in entries] == [rule_id, None]
    # The faulted attempt committed: the handler answered 200 before the fault replaced it.
    assert entries[0]["handlerStatus"] == 200
    assert '"statusCode":503' in entries[0]["responseBody"]

    report = ctl.get("/_mock/report").json()
    (duplicate,) = report["duplicates"]
    assert duplicate["operationId"] == "create-company"
    assert duplicate["clientId"] == client_id_for(API_KEY)
    assert duplicate["count"] == 2
    assert duplicate["seqs"] == [e["seq"] for e in entries]
    assert duplicate["requestBody"] == '{"name":"Acme"}'
    assert report["totals"]["duplicates"] == 1


def test_an_after_fault_without_retries_still_commits(mock: MockServer, ctl: httpx.Client) -> None:
    add_fault(ctl, operationId="create-company", status=503, times=1, when="after")
    with sdk_client(mock) as sdk, pytest.raises(errors.ErrorMessage) as raised:
        sdk.advanced_controls.create_company(request={"name": "Ghost"})
    assert raised.value.data.status_code == 503
    # The caller saw a failure, yet the company exists.
    assert company_names(mock) == ["Ghost"]
    assert ctl.get("/_mock/report").json()["duplicates"] == []


# -- dropped connections --------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(DROP_ERRORS))
def test_a_drop_without_retries_raises_the_httpx_error(
    mock: MockServer, ctl: httpx.Client, kind: str
) -> None:
    rule_id = add_fault(ctl, operationId="list-companies", drop=kind, times=1)
    with (
        sdk_client(mock, timeout_ms=TIMEOUT_MS) as sdk,
        pytest.raises(httpx.TransportError) as raised,
    ):
        sdk.advanced_controls.list_companies()
    assert type(raised.value) is DROP_ERRORS[kind]

    (entry,) = journal(ctl, 1)
    assert (entry["dropped"], entry["faultId"]) == (kind, rule_id)
    assert entry["faultAction"] == f"drop:{kind}"
    # Only a truncated answer got as far as a status line (the placeholder 503, cut short).
    assert entry["status"] == (503 if kind == "truncate" else None)
    report = ctl.get("/_mock/report").json()
    assert only_call(report, "list-companies")["statuses"] == [None]
    assert report["totals"]["dropped"] == 1


@pytest.mark.parametrize(
    ("kind", "retried"),
    [("reset", False), ("empty", False), ("truncate", False), ("hang", True)],
)
def test_with_connection_retries_the_sdk_retries_only_a_timeout(
    mock: MockServer, ctl: httpx.Client, kind: str, retried: bool
) -> None:
    """``retry_connection_errors`` covers httpx's ConnectError and timeouts only; a reset,
    an empty answer or a truncated body is a permanent error to the SDK."""
    rule_id = add_fault(ctl, operationId="list-companies", drop=kind, times=1)
    retry = short_backoff(connection_errors=True)
    with sdk_client(mock, retry=retry, timeout_ms=TIMEOUT_MS) as sdk:
        if retried:
            companies = sdk.advanced_controls.list_companies()
            assert companies is not None
            assert companies.total_results == 0
        else:
            with pytest.raises(httpx.TransportError) as raised:
                sdk.advanced_controls.list_companies()
            assert type(raised.value) is DROP_ERRORS[kind]

    entries = journal(ctl, 2 if retried else 1)
    assert [e["dropped"] for e in entries] == [kind, None][: len(entries)]
    assert [e["faultId"] for e in entries] == [rule_id, None][: len(entries)]
    if retried:
        assert entries[1]["status"] == 200
        call = only_call(ctl.get("/_mock/report").json(), "list-companies")
        assert (call["attempts"], call["statuses"], call["succeeded"]) == (2, [None, 200], True)


@pytest.mark.parametrize("kind", ["reset", "truncate"])
def test_a_drop_after_the_handler_loses_a_committed_create(
    mock: MockServer, ctl: httpx.Client, kind: str
) -> None:
    add_fault(ctl, operationId="create-company", drop=kind, times=1, when="after")
    with sdk_client(mock) as sdk, pytest.raises(DROP_ERRORS[kind]):
        sdk.advanced_controls.create_company(request={"name": "Lost"})
    assert company_names(mock) == ["Lost"]
    (entry,) = journal(ctl, 1)
    assert (entry["dropped"], entry["handlerStatus"]) == (kind, 200)
    if kind == "truncate":
        # The handler's own 200 went out, but only half of its body.
        assert entry["status"] == 200
        assert entry["responseBody"].startswith('{"id":"')
        assert not entry["responseBody"].endswith("}")


def test_a_hang_after_the_handler_makes_the_retrying_sdk_create_twice(
    mock: MockServer, ctl: httpx.Client
) -> None:
    rule_id = add_fault(ctl, operationId="create-company", drop="hang", times=1, when="after")
    retry = short_backoff(connection_errors=True)
    started = time.monotonic()
    with sdk_client(mock, retry=retry, timeout_ms=TIMEOUT_MS) as sdk:
        created = sdk.advanced_controls.create_company(request={"name": "Twice"})
    elapsed = time.monotonic() - started
    assert created is not None
    assert company_names(mock) == ["Twice", "Twice"]
    # Nothing answered the first attempt, so the call lasted at least the client's timeout.
    # (Timed on the client: the journal's durationMs starts when the server gets to the
    # request, which on a loaded machine can be well after the client started its clock.)
    assert elapsed >= TIMEOUT_MS / 1000

    entries = journal(ctl, 2, operationId="create-company")
    assert [(e["faultId"], e["dropped"], e["handlerStatus"]) for e in entries] == [
        (rule_id, "hang", 200),
        (None, None, None),
    ]
    (duplicate,) = ctl.get("/_mock/report").json()["duplicates"]
    assert (duplicate["operationId"], duplicate["count"]) == ("create-company", 2)


# -- a persistent 429 ------------------------------------------------------------------------


def test_a_persistent_429_keeps_the_sdk_retrying_until_its_time_is_up(
    mock: MockServer, ctl: httpx.Client
) -> None:
    rule_id = add_fault(ctl, operationId="list-companies", status=429, retryAfter=30)
    started = time.monotonic()
    # The SDK's default strategy, shortened: waits of 1-5 ms, giving up after 300 ms.
    retry = short_backoff(max_elapsed_ms=300, connection_errors=True)
    with (
        sdk_client(mock, retry=retry, timeout_ms=1_000) as sdk,
        pytest.raises(errors.ErrorMessage) as raised,
    ):
        sdk.advanced_controls.list_companies()
    elapsed = time.monotonic() - started
    assert raised.value.data.status_code == 429
    assert 0.3 <= elapsed < 5.0

    entries = ctl.get("/_mock/requests", params={"operationId": "list-companies"}).json()[
        "requests"
    ]
    assert len(entries) >= 3
    assert {(e["status"], e["faultId"], e["retryAfter"]) for e in entries} == {(429, rule_id, "30")}
    stored = rule_state(ctl, rule_id)
    assert stored["fired"] == stored["matched"] == len(entries)
    assert stored["retired"] is False

    call = only_call(ctl.get("/_mock/report").json(), "list-companies")
    assert call["attempts"] == len(entries)
    assert call["outcome"] == 429
    assert call["succeeded"] is False
    assert call["retryAfterHonoured"] is False


# -- Prism's Prefer header -------------------------------------------------------------------


def test_prefer_code_answers_one_request_with_a_codat_error(
    mock: MockServer, ctl: httpx.Client
) -> None:
    with sdk_client(mock) as sdk:
        with pytest.raises(errors.ErrorMessage) as raised:
            sdk.advanced_controls.list_companies(http_headers={"Prefer": "code=503"})
        data = raised.value.data
        assert data.status_code == 503
        assert data.error
        assert data.correlation_id is not None
        assert len(data.correlation_id) == 32
        # Only that request: the next one, without the header, is served.
        companies = sdk.advanced_controls.list_companies()
    assert companies is not None

    entries = journal(ctl, 2)
    assert [(e["status"], e["faultId"]) for e in entries] == [(503, "prefer"), (200, None)]
    assert ctl.get("/_mock/faults").json() == {"rules": []}


def test_prefer_delay_still_answers(mock: MockServer, ctl: httpx.Client) -> None:
    with sdk_client(mock) as sdk:
        companies = sdk.advanced_controls.list_companies(http_headers={"Prefer": "delay=50"})
    assert companies is not None
    (entry,) = journal(ctl, 1)
    assert entry["status"] == 200
    assert entry["faultId"] == "prefer"
    assert entry["durationMs"] >= 50


# -- matching on the caller -------------------------------------------------------------------


def test_a_rule_for_one_api_key_leaves_other_clients_alone(
    mock: MockServer, ctl: httpx.Client
) -> None:
    rule_id = add_fault(ctl, operationId="*", apiKey=OTHER_KEY, status=500)
    assert rule_state(ctl, rule_id)["apiKey"] == "********"
    with sdk_client(mock) as sdk:
        assert sdk.advanced_controls.list_companies() is not None
    with sdk_client(mock, api_key=OTHER_KEY) as sdk, pytest.raises(errors.ErrorMessage) as raised:
        sdk.advanced_controls.list_companies()
    assert raised.value.data.status_code == 500
    entries = journal(ctl, 2)
    assert [(e["clientId"], e["status"]) for e in entries] == [
        (client_id_for(API_KEY), 200),
        (client_id_for(OTHER_KEY), 500),
    ]
