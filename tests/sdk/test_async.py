"""The official SDK's ``*_async`` methods against a running mock.

No pytest-asyncio here: each test drives its coroutine with ``asyncio.run``, and builds the
SDK inside it, so the async httpx client lives and is closed on the loop that uses it.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from codat_sync_for_commerce import CodatSyncCommerce
from codat_sync_for_commerce.models import errors, shared

from mockserver.auth import authorization_for
from mockserver.server import MockServer
from mockserver.spec import Spec
from tests.sdk.support import (
    API_KEY,
    OTHER_KEY,
    PAST_SYNC_DURATION,
    SCHEDULE_START,
    T0_TEXT,
    Wire,
    given,
    present,
    whoami,
)


@asynccontextmanager
async def async_sdk_client(
    mock: MockServer, authorization: str, wire: Wire | None = None
) -> AsyncIterator[CodatSyncCommerce]:
    """An SDK for the async methods, its clients created and closed inside the running loop."""
    hooks = {"response": [wire.record_async]} if wire is not None else {}
    client = httpx.Client(trust_env=False)
    async_client = httpx.AsyncClient(trust_env=False, event_hooks=hooks)
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
        await async_client.aclose()
        client.close()


def test_async_methods_walk_the_merchant_journey(mock: MockServer, spec: Spec) -> None:
    wire = Wire.for_spec(spec)
    client_id = whoami(mock, API_KEY)

    async def journey() -> None:
        async with async_sdk_client(mock, authorization_for(API_KEY), wire) as sdk:
            integrations = present(await sdk.integrations.list_async())
            listed = present(integrations.results)
            assert (integrations.page_number, integrations.page_size) == (1, 100)
            commerce = next(i for i in listed if i.source_type == shared.SourceType.COMMERCE)
            accounting = next(i for i in listed if i.source_type == shared.SourceType.ACCOUNTING)

            branding = present(
                await sdk.integrations.get_branding_async(request={"platform_key": accounting.key})
            )
            assert branding.source_id == accounting.source_id

            flow = present(
                await sdk.connections.get_sync_flow_url_async(
                    request={"commerce_key": commerce.key, "accounting_key": accounting.key}
                )
            )
            # No merchantIdentifier: the URL carries only the one-time passcode.
            assert re.fullmatch(
                rf"https://sync-flow\.codat\.io/{client_id}/{commerce.key}/{accounting.key}"
                r"/start\?otp=\d{6}",
                present(flow.url),
            ), flow.url

            company = present(
                await sdk.advanced_controls.create_company_async(request={"name": "Async Cafe"})
            )
            assert company.name == "Async Cafe"
            assert company.created == T0_TEXT
            companies = present(
                await sdk.advanced_controls.list_companies_async(
                    request={"query": "name=Async Cafe"}
                )
            )
            assert [c.id for c in present(companies.results)] == [company.id]

            connection = present(
                await sdk.connections.create_async(
                    request={
                        "company_id": company.id,
                        "request_body": {"platform_key": commerce.key},
                    }
                )
            )
            assert connection.status == shared.DataConnectionStatus.PENDING_AUTH
            assert connection.integration_key == commerce.key
            linked = present(
                await sdk.connections.update_authorization_async(
                    request={
                        "company_id": company.id,
                        "connection_id": connection.id,
                        "request_body": {"apiKey": "secret"},
                    }
                )
            )
            assert linked.status == shared.DataConnectionStatus.LINKED
            connections = present(
                await sdk.connections.list_async(request={"company_id": company.id})
            )
            assert [c.status for c in present(connections.results)] == [
                shared.DataConnectionStatus.LINKED
            ]

            configured = present(
                await sdk.advanced_controls.set_configuration_async(
                    request={"company_id": company.id}
                )
            )
            assert (configured.configured, configured.enable) == (True, True)

            summary = present(await sdk.sync.request_async(request={"company_id": company.id}))
            sync_id = present(summary.commerce_sync_id)
            assert summary.sync_status_code == 1000
            assert summary.sync_date_range_utc == shared.SyncDateRangeUtc(
                start=SCHEDULE_START, finish=T0_TEXT
            )
            latest = present(
                await sdk.sync.get_latest_sync_async(request={"company_id": company.id})
            )
            assert (latest.sync_id, latest.sync_status_code) == (sync_id, 1000)

            mock.components.clock.advance(PAST_SYNC_DURATION)
            latest = present(
                await sdk.sync.get_latest_sync_async(request={"company_id": company.id})
            )
            assert (latest.sync_id, latest.sync_status_code, latest.data_pushed) == (
                sync_id,
                2000,
                True,
            )
            last_good = present(
                await sdk.sync.get_last_successful_sync_async(request={"company_id": company.id})
            )
            assert last_good == latest
            status = present(await sdk.sync.get_status_async(request={"company_id": company.id}))
            assert status.sync_status_code == 2000

            texts = present(
                await sdk.sync_flow_settings.get_config_text_sync_flow_async(
                    request={"locale": shared.Locale.FR_FR}
                )
            )
            assert texts["configure-misc-nextButton"].text == "Suivant"
            accounts = present(
                await sdk.sync_flow_settings.get_visible_accounts_async(
                    request={"client_id": client_id, "platform_key": commerce.key}
                )
            )
            assert "payments-accounts-card" in given(accounts.visible_accounts)

    asyncio.run(journey())
    assert {e.status for e in wire.exchanges} == {200}
    assert {e.operation_id for e in wire.exchanges} >= {
        "list-integrations",
        "create-company",
        "list-companies",
        "create-connection",
        "request-sync",
        "get-latest-sync",
    }
    (listing,) = wire.sent("list-companies")
    assert (listing.params["page"], listing.params["pageSize"]) == ("1", "100")


def test_async_calls_run_concurrently_without_mixing_tenants(mock: MockServer) -> None:
    """Two clients interleave on one loop; each sees only its own companies."""

    async def onboard(api_key: str, names: list[str]) -> list[str]:
        async with async_sdk_client(mock, authorization_for(api_key)) as sdk:
            created = await asyncio.gather(
                *(
                    sdk.advanced_controls.create_company_async(request={"name": name})
                    for name in names
                )
            )
            listed = present(await sdk.advanced_controls.list_companies_async())
            ids = {present(c).id for c in created}
            assert {c.id for c in present(listed.results)} == ids
            return sorted(c.name for c in present(listed.results))

    async def both() -> tuple[list[str], list[str]]:
        alpha, beta = await asyncio.gather(
            onboard(API_KEY, ["A1", "A2", "A3"]), onboard(OTHER_KEY, ["B1", "B2"])
        )
        return alpha, beta

    assert asyncio.run(both()) == (["A1", "A2", "A3"], ["B1", "B2"])


def test_async_errors_are_the_same_typed_errors(mock: MockServer) -> None:
    unknown = "8a210b68-6988-11ed-a1eb-0242ac120099"

    async def failing() -> tuple[int | None, int | None]:
        async with async_sdk_client(mock, "Bearer nope") as bad:
            with pytest.raises(errors.ErrorMessage) as unauthorized:
                await bad.integrations.list_async()
        async with async_sdk_client(mock, authorization_for(API_KEY)) as sdk:
            with pytest.raises(errors.ErrorMessage) as missing:
                await sdk.sync.request_async(request={"company_id": unknown})
        assert missing.value.data.error == f"No company was found with ID {unknown}"
        return unauthorized.value.data.status_code, missing.value.data.status_code

    assert asyncio.run(failing()) == (401, 404)
