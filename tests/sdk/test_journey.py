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

import re

from codat_sync_for_commerce.models import shared

from mockserver.auth import authorization_for, client_id_for
from mockserver.server import MockServer
from mockserver.spec import Spec
from tests.sdk.support import (
    API_KEY,
    PAST_SYNC_DURATION,
    SCHEDULE_START,
    T0,
    T0_TEXT,
    Wire,
    given,
    present,
    sdk_client,
    whoami,
)

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
        mock.components.clock.advance(PAST_SYNC_DURATION)
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
        mock.reset()
        mock.clock.set(T0)
        with sdk_client(mock, authorization_for(API_KEY)) as sdk:
            company = present(sdk.advanced_controls.create_company(request={"name": "Seeded"}))
            summary = present(sdk.sync.request(request={"company_id": company.id}))
            return company.id, present(summary.commerce_sync_id)

    assert first_ids() == first_ids()
