"""The official Python SDK (``codat-sync-for-commerce`` 6.1.0) against a running mock.

These tests talk HTTP to a real :class:`MockServer` on 127.0.0.1, through the SDK a Codat
customer would use, and check the typed models it hands back. One server serves the whole
module (starting uvicorn is the slow part); each test starts from a reset world and a clock
put back to ``T0``, so ids, one-time passcodes and timestamps are the same on every run.

A :class:`Wire` hook on the SDK's httpx client names every exchange by its operationId, so
the flow test can prove it reached all 22 operations and can look at what the SDK actually
sent (its default paging, its empty set-configuration POST).
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, TypeVar

import httpx
import pydantic
import pytest
from codat_sync_for_commerce import CodatSyncCommerce
from codat_sync_for_commerce.models import errors, shared
from codat_sync_for_commerce.types import OptionalNullable
from codat_sync_for_commerce.types.basemodel import Unset

from mockserver.auth import authorization_for, client_id_for
from mockserver.clock import Clock
from mockserver.routing import Router
from mockserver.server import MockServer
from mockserver.settings import Settings
from mockserver.spec import Spec

T0 = datetime(2026, 3, 2, 9, 0, 0, tzinfo=timezone.utc)
T0_TEXT = "2026-03-02T09:00:00Z"
API_KEY = "sdk-key-alpha"
OTHER_KEY = "sdk-key-beta"
SEED = 1
#: The mock's default sync duration is 30 s; moving the clock this far finishes a sync.
PAST_SYNC_DURATION = 31.0
#: The default configuration fixture's schedule start: where a first "latest" sync begins.
SCHEDULE_START = "2024-01-01T00:00:00Z"
OVERLAP_MESSAGE = "Date overlaps with a previous sync date range."

_T = TypeVar("_T")


def present(value: _T | None) -> _T:
    """The SDK types every 200 body as optional; a missing one is a test failure."""
    assert value is not None
    return value


def given(value: OptionalNullable[_T]) -> _T:
    """A field the SDK types as optional *and* nullable, which must be set and non-null."""
    assert value is not None
    assert not isinstance(value, Unset)
    return value


# -- recording what goes over the wire -------------------------------------------------------


@dataclass(slots=True, frozen=True)
class Exchange:
    """One request the SDK sent and the status it got back."""

    operation_id: str
    params: dict[str, str]
    body: bytes
    status: int


@dataclass(slots=True)
class Wire:
    """An httpx response hook that names each exchange by the contract's operationId."""

    router: Router
    exchanges: list[Exchange] = field(default_factory=list)

    @classmethod
    def for_spec(cls, spec: Spec) -> Wire:
        return cls(Router(spec.operations.values()))

    def record(self, response: httpx.Response) -> None:
        request = response.request
        match = self.router.match(request.method, request.url.path)
        self.exchanges.append(
            Exchange(
                operation_id=match.operation.operation_id,
                params=dict(request.url.params),
                body=request.content,
                status=response.status_code,
            )
        )

    async def record_async(self, response: httpx.Response) -> None:
        self.record(response)

    def sent(self, operation_id: str) -> list[Exchange]:
        return [e for e in self.exchanges if e.operation_id == operation_id]


# -- the server and SDK clients --------------------------------------------------------------


@contextmanager
def running_mock() -> Iterator[MockServer]:
    """A strict, seeded mock on a free loopback port, its clock frozen at ``T0``."""
    with MockServer(Settings(port=0, strict=True, seed=SEED), clock=Clock(frozen_at=T0)) as mock:
        yield mock


def fresh(mock: MockServer) -> MockServer:
    """Put ``mock`` back to the fixtures and ``T0`` (the reset keeps the clock's time)."""
    mock.state.reset()
    mock.state.clock.set(T0)
    return mock


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with running_mock() as mock:
        yield mock


@pytest.fixture
def mock(server: MockServer) -> MockServer:
    return fresh(server)


@pytest.fixture
def wire(spec: Spec) -> Wire:
    return Wire.for_spec(spec)


@contextmanager
def sdk_client(
    mock: MockServer, authorization: str, wire: Wire | None = None
) -> Iterator[CodatSyncCommerce]:
    """An SDK pointed at the mock, with its own clients (closed on exit, ignoring proxies).

    Each SDK gets clients of its own: the SDK closes its clients when it is garbage
    collected, so sharing one between two SDK objects would close it under the other.
    """
    hooks = {"response": [wire.record]} if wire is not None else {}
    client = httpx.Client(trust_env=False, event_hooks=hooks)
    async_client = httpx.AsyncClient(trust_env=False)
    sdk = CodatSyncCommerce(
        security=shared.Security(auth_header=authorization),
        server_url=mock.url,
        client=client,
        async_client=async_client,
        retry_config=None,
    )
    try:
        yield sdk
    finally:
        client.close()
        asyncio.run(async_client.aclose())


def whoami(mock: MockServer, api_key: str) -> str:
    """The clientId the mock derives from ``api_key`` (the visible-accounts GET needs it)."""
    response = httpx.get(
        f"{mock.url}/_mock/whoami",
        headers={"Authorization": authorization_for(api_key)},
        trust_env=False,
    )
    assert response.status_code == 200
    client_id: str = response.json()["clientId"]
    return client_id


def error_of(excinfo: pytest.ExceptionInfo[errors.ErrorMessage]) -> errors.ErrorMessageData:
    return excinfo.value.data


# -- 1. the whole merchant journey, every operation -----------------------------------------


def test_merchant_journey_reaches_every_operation_with_typed_results(
    mock: MockServer, wire: Wire, spec: Spec
) -> None:
    client_id = whoami(mock, API_KEY)
    assert client_id == client_id_for(API_KEY)

    with sdk_client(mock, authorization_for(API_KEY), wire) as sdk:
        # -- integrations: pick a commerce and an accounting platform from the catalogue --
        integrations = present(sdk.integrations.list())
        listed = present(integrations.results)
        assert integrations.page_number == 1
        assert integrations.page_size == 100
        assert integrations.total_results == len(listed) > 2
        assert integrations.links.self_.href == "/config/integrations"
        assert integrations.links.next is None
        commerce = next(
            i for i in listed if i.enabled and i.source_type == shared.SourceType.COMMERCE
        )
        accounting = next(
            i for i in listed if i.enabled and i.source_type == shared.SourceType.ACCOUNTING
        )

        branding = present(sdk.integrations.get_branding(request={"platform_key": commerce.key}))
        assert branding.source_id == commerce.source_id
        logo = present(present(present(branding.logo).full).image)
        assert present(logo.src).startswith("https://")

        # -- the Sync Flow URL (which also sets up the merchant's company) ----------------
        flow = present(
            sdk.connections.get_sync_flow_url(
                request={
                    "commerce_key": commerce.key,
                    "accounting_key": accounting.key,
                    "merchant_identifier": "merchant-0042",
                }
            )
        )
        assert re.fullmatch(
            rf"https://sync-flow\.codat\.io/{client_id}/{commerce.key}/{accounting.key}/start"
            r"\?merchantIdentifier=merchant-0042&otp=\d{6}",
            present(flow.url),
        ), flow.url

        # -- companies ------------------------------------------------------------------------
        company = present(
            sdk.advanced_controls.create_company(
                request={
                    "name": "Bob's Burgers",
                    "description": "Burgers on Ocean Avenue",
                    "tags": {"region": "uk"},
                }
            )
        )
        assert company.name == "Bob's Burgers"
        assert company.description == "Burgers on Ocean Avenue"
        assert company.tags == {"region": "uk"}
        assert company.created == T0_TEXT
        assert company.redirect == f"https://link.codat.io/company/{company.id}"
        assert company.data_connections == []
        assert company.last_sync is None

        companies = present(sdk.advanced_controls.list_companies())
        assert companies.page_number == 1
        assert companies.page_size == 100
        assert companies.total_results == 2
        by_name = {c.name: c for c in present(companies.results)}
        assert set(by_name) == {"merchant-0042", "Bob's Burgers"}
        assert by_name["Bob's Burgers"].id == company.id
        merchant_connections = present(by_name["merchant-0042"].data_connections)
        assert {c.integration_key for c in merchant_connections} == {commerce.key, accounting.key}
        assert {c.status for c in merchant_connections} == {
            shared.DataConnectionStatus.PENDING_AUTH
        }

        filtered = present(
            sdk.advanced_controls.list_companies(request={"query": "name=Bob's Burgers"})
        )
        assert [c.id for c in present(filtered.results)] == [company.id]
        assert filtered.total_results == 1
        assert "query=name%3DBob%27s%20Burgers" in present(filtered.links.current.href)

        # -- connections ----------------------------------------------------------------------
        commerce_conn = present(
            sdk.connections.create(
                request={"company_id": company.id, "request_body": {"platform_key": commerce.key}}
            )
        )
        assert commerce_conn.status == shared.DataConnectionStatus.PENDING_AUTH
        assert commerce_conn.integration_key == commerce.key
        assert commerce_conn.integration_id == commerce.integration_id
        assert commerce_conn.source_type == shared.SourceType.COMMERCE
        assert commerce_conn.platform_name == commerce.name
        assert commerce_conn.created == T0_TEXT
        assert commerce_conn.link_url == (
            f"https://link-api.codat.io/companies/{company.id}/connections/{commerce_conn.id}/start"
        )
        accounting_conn = present(
            sdk.connections.create(
                request={
                    "company_id": company.id,
                    "request_body": {"platform_key": accounting.key},
                }
            )
        )
        assert accounting_conn.integration_key == accounting.key
        assert accounting_conn.source_type == shared.SourceType.ACCOUNTING

        connections = present(sdk.connections.list(request={"company_id": company.id}))
        assert connections.page_number == 1
        assert connections.page_size == 100
        assert [c.id for c in present(connections.results)] == [
            commerce_conn.id,
            accounting_conn.id,
        ]

        linked = present(
            sdk.connections.update_authorization(
                request={
                    "company_id": company.id,
                    "connection_id": commerce_conn.id,
                    "request_body": {"apiKey": "sk_test_bobs", "shopName": "bobs-burgers"},
                }
            )
        )
        assert linked.status == shared.DataConnectionStatus.LINKED
        # The secrets never come back: only their keys, masked.
        assert linked.connection_info == {"apiKey": "********", "shopName": "********"}
        present(
            sdk.connections.update_authorization(
                request={
                    "company_id": company.id,
                    "connection_id": accounting_conn.id,
                    "request_body": {"accessToken": "xero-token"},
                }
            )
        )

        unlinked = present(
            sdk.connections.update_connection(
                request={
                    "company_id": company.id,
                    "connection_id": commerce_conn.id,
                    "update_connection": {"status": shared.DataConnectionStatus.UNLINKED},
                }
            )
        )
        assert unlinked.status == shared.DataConnectionStatus.UNLINKED
        assert unlinked.id == commerce_conn.id
        # An unlinked connection can be linked again by authorizing it afresh.
        relinked = present(
            sdk.connections.update_authorization(
                request={
                    "company_id": company.id,
                    "connection_id": commerce_conn.id,
                    "request_body": {"apiKey": "sk_test_bobs_2"},
                }
            )
        )
        assert relinked.status == shared.DataConnectionStatus.LINKED
        assert relinked.connection_info == {"apiKey": "********"}

        # -- configuration --------------------------------------------------------------------
        config = present(
            sdk.advanced_controls.get_configuration(request={"company_id": company.id})
        )
        assert config.company_id == company.id
        assert config.configured is False
        assert config.enable is False
        assert config.accounting_software_company_name == accounting.name
        schedule = present(config.schedule)
        assert schedule.start_date == SCHEDULE_START

        configured = present(
            sdk.advanced_controls.set_configuration(request={"company_id": company.id})
        )
        assert configured.configured is True
        assert configured.enable is True
        assert configured.company_id == company.id
        assert configured.schedule == config.schedule
        assert configured.configuration == config.configuration

        # -- a "latest" sync, in progress -------------------------------------------------------
        summary = present(sdk.sync.request(request={"company_id": company.id}))
        sync_id = present(summary.commerce_sync_id)
        assert summary.company_id == company.id
        assert summary.sync_status_code == 1000
        assert summary.data_pushed is False
        assert summary.sync_date_range_utc == shared.SyncDateRangeUtc(
            start=SCHEDULE_START, finish=T0_TEXT
        )
        assert {c.id: c.status for c in given(summary.data_connections)} == {
            commerce_conn.id: shared.DataConnectionStatus.LINKED,
            accounting_conn.id: shared.DataConnectionStatus.LINKED,
        }

        status = present(sdk.sync.get_status(request={"company_id": company.id}))
        assert status.sync_id == sync_id
        assert status.commerce_sync_id == sync_id
        assert status.sync_status_code == 1000
        assert status.data_pushed is False
        latest = present(sdk.sync.get_latest_sync(request={"company_id": company.id}))
        assert (latest.sync_id, latest.sync_status_code, latest.sync_utc) == (sync_id, 1000, None)
        syncs = present(sdk.sync.list(request={"company_id": company.id}))
        assert [(s.sync_id, s.sync_status_code) for s in syncs] == [(sync_id, 1000)]

        # -- time passes: the sync completes and pushed data ---------------------------------
        mock.state.clock.advance(PAST_SYNC_DURATION)
        done_at = "2026-03-02T09:00:30Z"  # requested at T0, runs 30 s

        status = present(sdk.sync.get_status(request={"company_id": company.id}))
        assert (status.sync_status_code, status.sync_status) == (2000, "Complete")
        assert status.data_pushed is True
        assert status.sync_utc == done_at
        latest = present(sdk.sync.get_latest_sync(request={"company_id": company.id}))
        assert (latest.sync_id, latest.sync_status_code, latest.data_pushed) == (
            sync_id,
            2000,
            True,
        )
        assert latest.sync_utc == done_at
        syncs = present(sdk.sync.list(request={"company_id": company.id}))
        assert [(s.sync_id, s.sync_status_code) for s in syncs] == [(sync_id, 2000)]

        last_good = present(sdk.sync.get_last_successful_sync(request={"company_id": company.id}))
        assert last_good.sync_id == sync_id
        assert last_good.company_id == company.id
        assert last_good.sync_status_code == 2000
        by_id = present(sdk.sync.get(request={"company_id": company.id, "sync_id": sync_id}))
        assert by_id == last_good

        after = present(sdk.connections.list(request={"company_id": company.id}))
        assert {c.last_sync for c in present(after.results)} == {done_at}
        (refreshed,) = present(
            present(
                sdk.advanced_controls.list_companies(request={"query": f"id={company.id}"})
            ).results
        )
        assert refreshed.last_sync == done_at

        # -- a historic sync of a later range that only touches the first one's end ------------
        historic = present(
            sdk.sync.request_for_date_range(
                request={
                    "company_id": company.id,
                    "sync_range": {
                        "date_range": {"start": T0_TEXT, "finish": "2026-03-02T09:00:31Z"}
                    },
                }
            )
        )
        historic_id = present(historic.commerce_sync_id)
        assert historic_id != sync_id
        assert historic.sync_status_code == 1000
        assert historic.sync_date_range_utc == shared.SyncDateRangeUtc(
            start=T0_TEXT, finish="2026-03-02T09:00:31Z"
        )
        syncs = present(sdk.sync.list(request={"company_id": company.id}))
        assert [(s.sync_id, s.sync_status_code) for s in syncs] == [
            (historic_id, 1000),
            (sync_id, 2000),
        ]
        latest = present(sdk.sync.get_latest_sync(request={"company_id": company.id}))
        assert latest.sync_id == historic_id
        last_good = present(sdk.sync.get_last_successful_sync(request={"company_id": company.id}))
        assert last_good.sync_id == sync_id

        # -- Sync Flow texts --------------------------------------------------------------------
        title = "configure-content-sales-title"
        english = present(
            sdk.sync_flow_settings.get_config_text_sync_flow(
                request={"locale": shared.Locale.EN_US}
            )
        )
        french = present(
            sdk.sync_flow_settings.get_config_text_sync_flow(
                request={"locale": shared.Locale.FR_FR}
            )
        )
        assert english[title] == shared.Localization(text="Sales", required=False)
        assert french[title] == shared.Localization(text="Ventes", required=False)

        patched = present(
            sdk.sync_flow_settings.update_config_text_sync_flow(
                request={
                    "locale": shared.Locale.EN_US,
                    "request_body": {title: {"text": "Takings"}},
                }
            )
        )
        assert patched == {**english, title: shared.Localization(text="Takings", required=False)}
        assert (
            present(
                sdk.sync_flow_settings.get_config_text_sync_flow(
                    request={"locale": shared.Locale.EN_US}
                )
            )
            == patched
        )
        # Only the locale that was patched changes.
        assert (
            present(
                sdk.sync_flow_settings.get_config_text_sync_flow(
                    request={"locale": shared.Locale.FR_FR}
                )
            )
            == french
        )
        restored = present(
            sdk.sync_flow_settings.update_config_text_sync_flow(
                request={"locale": shared.Locale.EN_US, "request_body": {title: {"text": "Sales"}}}
            )
        )
        assert restored == english

        # -- visible accounts -------------------------------------------------------------------
        default = present(
            sdk.sync_flow_settings.get_visible_accounts(
                request={"client_id": client_id, "platform_key": commerce.key}
            )
        )
        default_accounts = given(default.visible_accounts)
        assert "sales-accounts-sales" in default_accounts
        chosen = ["sales-accounts-sales", "payments-accounts-card"]
        assert set(chosen) < set(default_accounts)

        updated = present(
            sdk.sync_flow_settings.update_visible_accounts_sync_flow(
                request={
                    "platform_key": commerce.key,
                    "visible_accounts": {"visible_accounts": chosen},
                }
            )
        )
        assert updated.visible_accounts == chosen
        again = present(
            sdk.sync_flow_settings.get_visible_accounts(
                request={"client_id": client_id, "platform_key": commerce.key}
            )
        )
        assert again.visible_accounts == chosen
        # An empty body ({} on the wire) puts the platform back to its default list.
        reset = present(
            sdk.sync_flow_settings.update_visible_accounts_sync_flow(
                request={"platform_key": commerce.key, "visible_accounts": {}}
            )
        )
        assert reset.visible_accounts == default_accounts

    # -- what went over the wire ----------------------------------------------------------
    assert {e.status for e in wire.exchanges} == {200}
    reached = {e.operation_id for e in wire.exchanges}
    assert reached == set(spec.operations)
    assert len(reached) == 22
    # The SDK always sends its default paging, and the mock honours it (checked above).
    for operation_id in ("list-integrations", "list-companies", "list-connections"):
        for exchange in wire.sent(operation_id):
            assert exchange.params["page"] == "1"
            assert exchange.params["pageSize"] == "100"
    # set-configuration goes out with no body at all, and was answered 200 above.
    (set_config,) = wire.sent("set-configuration")
    assert set_config.body == b""
    assert [e.body for e in wire.sent("update-visible-accounts-sync-flow")][-1] == b"{}"


def test_same_seed_gives_the_same_ids_after_a_reset(mock: MockServer) -> None:
    """What makes the suite deterministic: a reset replays the seeded id sequence."""

    def first_ids() -> tuple[str, str]:
        fresh(mock)
        with sdk_client(mock, authorization_for(API_KEY)) as sdk:
            company = present(sdk.advanced_controls.create_company(request={"name": "Seeded"}))
            summary = present(sdk.sync.request(request={"company_id": company.id}))
            return company.id, present(summary.commerce_sync_id)

    assert first_ids() == first_ids()


# -- 3. error paths, as the SDK reports them ---------------------------------------------------

UNKNOWN_COMPANY = "8a210b68-6988-11ed-a1eb-0242ac120002"


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(
            lambda sdk: sdk.advanced_controls.get_configuration(
                request={"company_id": UNKNOWN_COMPANY}
            ),
            id="get-configuration",
        ),
        pytest.param(
            lambda sdk: sdk.advanced_controls.set_configuration(
                request={"company_id": UNKNOWN_COMPANY}
            ),
            id="set-configuration",
        ),
        pytest.param(
            lambda sdk: sdk.connections.list(request={"company_id": UNKNOWN_COMPANY}),
            id="list-connections",
        ),
        pytest.param(
            lambda sdk: sdk.connections.create(
                request={"company_id": UNKNOWN_COMPANY, "request_body": {"platform_key": "gbol"}}
            ),
            id="create-connection",
        ),
        pytest.param(
            lambda sdk: sdk.sync.request(request={"company_id": UNKNOWN_COMPANY}),
            id="request-sync",
        ),
        pytest.param(
            lambda sdk: sdk.sync.get_latest_sync(request={"company_id": UNKNOWN_COMPANY}),
            id="get-latest-sync",
        ),
        pytest.param(
            lambda sdk: sdk.sync.list(request={"company_id": UNKNOWN_COMPANY}),
            id="list-syncs",
        ),
    ],
)
def test_unknown_company_raises_the_sdk_error_with_codats_message(
    mock: MockServer, call: object
) -> None:
    with (
        sdk_client(mock, authorization_for(API_KEY)) as sdk,
        pytest.raises(errors.ErrorMessage) as excinfo,
    ):
        call(sdk)  # type: ignore[operator]
    data = error_of(excinfo)
    assert data.status_code == 404
    assert data.error == f"No company was found with ID {UNKNOWN_COMPANY}"
    assert data.correlation_id


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param("Bearer sdk-key-alpha", id="not-basic"),
        pytest.param("Basic", id="no-credentials"),
        pytest.param("Basic %%%not-base64%%%", id="not-base64"),
    ],
)
def test_bad_credentials_raise_a_401(mock: MockServer, authorization: str) -> None:
    with sdk_client(mock, authorization) as sdk, pytest.raises(errors.ErrorMessage) as excinfo:
        sdk.advanced_controls.list_companies()
    data = error_of(excinfo)
    assert data.status_code == 401
    assert data.error == "Unauthorized"


def test_last_successful_sync_before_any_sync_is_a_404(mock: MockServer) -> None:
    with sdk_client(mock, authorization_for(API_KEY)) as sdk:
        company = present(sdk.advanced_controls.create_company(request={"name": "No syncs"}))
        with pytest.raises(errors.ErrorMessage) as excinfo:
            sdk.sync.get_last_successful_sync(request={"company_id": company.id})
        data = error_of(excinfo)
        assert data.status_code == 404
        assert data.error == f"No successful commerce sync was found for company {company.id}"

        # A sync still in progress is not a successful one either.
        present(sdk.sync.request(request={"company_id": company.id}))
        with pytest.raises(errors.ErrorMessage) as excinfo:
            sdk.sync.get_last_successful_sync(request={"company_id": company.id})
        assert error_of(excinfo).status_code == 404


def test_unlinking_a_pending_connection_is_refused_with_400(mock: MockServer) -> None:
    with sdk_client(mock, authorization_for(API_KEY)) as sdk:
        company = present(sdk.advanced_controls.create_company(request={"name": "Pending"}))
        connection = present(
            sdk.connections.create(
                request={"company_id": company.id, "request_body": {"platform_key": "gbol"}}
            )
        )
        # The SDK declares no 400 for update-connection (our contract does), so the answer
        # arrives as the SDK's untyped SDKError carrying the ErrorMessage body.
        with pytest.raises(errors.SDKError) as excinfo:
            sdk.connections.update_connection(
                request={
                    "company_id": company.id,
                    "connection_id": connection.id,
                    "update_connection": {"status": shared.DataConnectionStatus.UNLINKED},
                }
            )
        assert excinfo.value.status_code == 400
        body = json.loads(excinfo.value.body)
        assert body["statusCode"] == 400
        assert "cannot change from PendingAuth to Unlinked" in body["error"]

        (still,) = present(
            present(sdk.connections.list(request={"company_id": company.id})).results
        )
        assert still.status == shared.DataConnectionStatus.PENDING_AUTH


def test_set_configuration_while_a_sync_runs_is_a_409(mock: MockServer) -> None:
    with sdk_client(mock, authorization_for(API_KEY)) as sdk:
        company = present(sdk.advanced_controls.create_company(request={"name": "Busy"}))
        present(sdk.sync.request(request={"company_id": company.id}))
        with pytest.raises(errors.ErrorMessage) as excinfo:
            sdk.advanced_controls.set_configuration(request={"company_id": company.id})
        data = error_of(excinfo)
        assert data.status_code == 409
        assert company.id in present(data.error)
        config = present(
            sdk.advanced_controls.get_configuration(request={"company_id": company.id})
        )
        assert config.configured is False

        mock.state.clock.advance(PAST_SYNC_DURATION)
        config = present(
            sdk.advanced_controls.set_configuration(request={"company_id": company.id})
        )
        assert config.configured is True


@pytest.mark.parametrize(
    ("start", "finish"),
    [
        pytest.param("2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z", id="inside"),
        pytest.param("2023-12-01T00:00:00Z", "2024-01-01T00:00:01Z", id="straddles-start"),
        pytest.param("2026-03-02T08:59:59Z", "2026-03-03T00:00:00Z", id="straddles-finish"),
    ],
)
def test_overlapping_date_range_is_a_400(mock: MockServer, start: str, finish: str) -> None:
    with sdk_client(mock, authorization_for(API_KEY)) as sdk:
        company = present(sdk.advanced_controls.create_company(request={"name": "Overlap"}))
        first = present(sdk.sync.request(request={"company_id": company.id}))
        assert first.sync_date_range_utc == shared.SyncDateRangeUtc(
            start=SCHEDULE_START, finish=T0_TEXT
        )
        with pytest.raises(errors.ErrorMessage) as excinfo:
            sdk.sync.request_for_date_range(
                request={
                    "company_id": company.id,
                    "sync_range": {"date_range": {"start": start, "finish": finish}},
                }
            )
        data = error_of(excinfo)
        assert data.status_code == 400
        assert data.error == OVERLAP_MESSAGE
        syncs = present(sdk.sync.list(request={"company_id": company.id}))
        assert [s.sync_id for s in syncs] == [first.commerce_sync_id]


# -- texts: what the SDK can and cannot send ---------------------------------------------------


def test_sdk_cannot_send_a_null_text_entry(mock: MockServer, wire: Wire) -> None:
    """``{"key": null}`` never leaves the SDK: its model wants a Localization object per key.

    (The contract refuses it too: LocalizationInfo's values are objects.) The nearest thing
    the SDK can send is ``{"key": {"text": null}}``, covered below.
    """
    # Typed loosely on purpose: the SDK's own types already forbid the None.
    body: dict[str, Any] = {"configure-content-sales-title": None}
    with (
        sdk_client(mock, authorization_for(API_KEY), wire) as sdk,
        pytest.raises(pydantic.ValidationError),
    ):
        sdk.sync_flow_settings.update_config_text_sync_flow(
            request={"locale": shared.Locale.EN_US, "request_body": body}
        )
    assert wire.exchanges == []


def test_null_text_restores_the_default_text(mock: MockServer) -> None:
    title = "configure-content-sales-title"
    with sdk_client(mock, authorization_for(API_KEY)) as sdk:
        present(
            sdk.sync_flow_settings.update_config_text_sync_flow(
                request={"locale": shared.Locale.EN_US, "request_body": {title: {"text": "Tills"}}}
            )
        )
        reset = present(
            sdk.sync_flow_settings.update_config_text_sync_flow(
                request={"locale": shared.Locale.EN_US, "request_body": {title: {"text": None}}}
            )
        )
        assert reset[title].text == "Sales"


# -- 4. two API keys, two worlds -----------------------------------------------------------


def test_two_api_keys_see_nothing_of_each_other(mock: MockServer) -> None:
    alpha_id = whoami(mock, API_KEY)
    beta_id = whoami(mock, OTHER_KEY)
    assert alpha_id != beta_id

    with (
        sdk_client(mock, authorization_for(API_KEY)) as alpha,
        sdk_client(mock, authorization_for(OTHER_KEY)) as beta,
    ):
        company = present(alpha.advanced_controls.create_company(request={"name": "Alpha Ltd"}))
        present(
            alpha.connections.create(
                request={"company_id": company.id, "request_body": {"platform_key": "gbol"}}
            )
        )
        present(alpha.sync.request(request={"company_id": company.id}))

        mine = present(alpha.advanced_controls.list_companies())
        assert [c.id for c in present(mine.results)] == [company.id]
        theirs = present(beta.advanced_controls.list_companies())
        assert theirs.total_results == 0
        assert not theirs.results

        for call in (
            lambda: beta.advanced_controls.get_configuration(request={"company_id": company.id}),
            lambda: beta.connections.create(
                request={"company_id": company.id, "request_body": {"platform_key": "gbol"}}
            ),
            lambda: beta.connections.list(request={"company_id": company.id}),
            lambda: beta.sync.get_latest_sync(request={"company_id": company.id}),
        ):
            with pytest.raises(errors.ErrorMessage) as excinfo:
                call()
            data = error_of(excinfo)
            assert data.status_code == 404
            # The same answer an id that never existed gets: nothing leaks.
            assert data.error == f"No company was found with ID {company.id}"

        # Visible accounts: beta may read its own, not alpha's by alpha's clientId.
        own = present(
            beta.sync_flow_settings.get_visible_accounts(
                request={"client_id": beta_id, "platform_key": "gbol"}
            )
        )
        assert own.visible_accounts
        with pytest.raises(errors.ErrorMessage) as excinfo:
            beta.sync_flow_settings.get_visible_accounts(
                request={"client_id": alpha_id, "platform_key": "gbol"}
            )
        assert error_of(excinfo).status_code == 404

        # Settings are per client too: alpha's change does not reach beta.
        present(
            alpha.sync_flow_settings.update_visible_accounts_sync_flow(
                request={
                    "platform_key": "gbol",
                    "visible_accounts": {"visible_accounts": ["sales-accounts-sales"]},
                }
            )
        )
        assert (
            present(
                beta.sync_flow_settings.get_visible_accounts(
                    request={"client_id": beta_id, "platform_key": "gbol"}
                )
            )
            == own
        )
        # Alpha's company is untouched by beta's attempts.
        (alpha_company,) = present(present(alpha.advanced_controls.list_companies()).results)
        assert len(present(alpha_company.data_connections)) == 1


# -- the transport -----------------------------------------------------------------------------


def test_served_connections_have_nagle_disabled(mock: MockServer) -> None:
    """uvicorn writes a response's head and body separately; with Nagle's algorithm on, the
    body waits for the client's (delayed) ACK of the head, about 40 ms per request on Linux.
    asyncio turns Nagle off itself, but only for sockets whose ``proto`` is IPPROTO_TCP."""
    with httpx.Client(trust_env=False) as client:
        assert client.get(f"{mock.url}/_mock/health").status_code == 200
        # The keep-alive connection is still open: look at the server's end of it.
        server = mock._server
        assert server is not None
        connections = list(server.server_state.connections)
        assert connections
        for protocol in connections:
            transport_socket = protocol.transport.get_extra_info("socket")
            assert transport_socket.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
