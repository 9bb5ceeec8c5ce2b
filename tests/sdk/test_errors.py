"""Error paths, texts, two API keys and the transport, through the official SDK."""

from __future__ import annotations

import json
import socket
from typing import Any

import httpx
import pydantic
import pytest
from codat_sync_for_commerce.models import errors, shared

from mockserver.auth import authorization_for
from mockserver.server import MockServer
from tests.sdk.support import (
    API_KEY,
    OTHER_KEY,
    OVERLAP_MESSAGE,
    PAST_SYNC_DURATION,
    SCHEDULE_START,
    T0_TEXT,
    Wire,
    error_of,
    present,
    sdk_client,
    whoami,
)

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

        mock.components.clock.advance(PAST_SYNC_DURATION)
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
