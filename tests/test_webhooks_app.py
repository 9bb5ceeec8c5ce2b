"""Webhooks through the whole app, as issue 5 asks: a consumer registered with the control
API, a connection deleted by the merchant (DELETE /_mock/companies/{id}/connections/{id}), a
real receiver on loopback that verifies each signed delivery, retries on the mock clock."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook

from mockserver.auth import authorization_for
from mockserver.clock import Clock
from mockserver.server import MockServer
from mockserver.settings import Settings
from mockserver.spec import Spec
from tests.conftest import T0
from tests.webhooks.conftest import serve
from tests.webhooks.test_end_to_end import Capture

AUTH = {"Authorization": authorization_for("webhook-key")}


@pytest.fixture
def mock() -> Iterator[MockServer]:
    with MockServer(Settings(port=0, strict=True), clock=Clock(frozen_at=T0)) as server:
        yield server


def _linked_connection(api: httpx.Client) -> tuple[dict[str, Any], dict[str, Any]]:
    company = api.post("/companies", json={"name": "Harbour Bakery"}, headers=AUTH).json()
    connection = api.post(
        f"/companies/{company['id']}/connections", json={"platformKey": "gbol"}, headers=AUTH
    ).json()
    linked = api.put(
        f"/companies/{company['id']}/connections/{connection['id']}/authorization",
        json={"token": "t"},
        headers=AUTH,
    ).json()
    assert linked["status"] == "Linked"
    return company, linked


def _deliveries(api: httpx.Client, event_type: str) -> list[dict[str, Any]]:
    """The attempts made so far (the log also lists the next one, still pending)."""
    found: list[dict[str, Any]] = api.get(
        "/_mock/webhooks/deliveries", params={"eventType": event_type}
    ).json()["deliveries"]
    return [attempt for attempt in found if attempt["sentAt"] is not None]


def test_connection_deleted_reaches_a_real_receiver_signed_and_valid(
    mock: MockServer, spec: Spec
) -> None:
    receiver = Capture([])
    with serve(receiver.app) as receiver_url, httpx.Client(base_url=mock.url) as api:
        consumer = api.post(
            "/_mock/webhooks",
            json={"url": f"{receiver_url}/codat", "events": ["connection.deleted"]},
        ).json()
        assert consumer["secret"].startswith("whsec_")
        company, connection = _linked_connection(api)
        deleted = api.delete(f"/_mock/companies/{company['id']}/connections/{connection['id']}")
        assert deleted.status_code == 200
        assert receiver.wait_for(1)

        body, headers = receiver.received[0]
        event = Webhook(consumer["secret"]).verify(body, headers)
        assert event["eventType"] == "connection.deleted"
        assert event["payload"]["connection"]["id"] == connection["id"]
        assert event["payload"]["referenceCompany"]["id"] == company["id"]
        assert spec.schema_validator("ConnectionWebhook").problems(event) == []
        # Subscribed to connection.deleted only: the create and the link sent nothing.
        assert len(receiver.received) == 1
        # The connection is gone from the API.
        listed = api.get(f"/companies/{company['id']}/connections", headers=AUTH).json()
        assert listed["totalResults"] == 0


def test_a_failing_receiver_gets_the_retries_as_the_clock_moves(mock: MockServer) -> None:
    receiver = Capture([500, 500])
    with serve(receiver.app) as receiver_url, httpx.Client(base_url=mock.url) as api:
        consumer = api.post(
            "/_mock/webhooks",
            json={"url": f"{receiver_url}/codat", "events": ["connection.deleted"]},
        ).json()
        company, connection = _linked_connection(api)
        api.delete(f"/_mock/companies/{company['id']}/connections/{connection['id']}")
        # Attempt 1 goes at once and fails; attempt 2 falls due 5 s later on the mock clock.
        assert mock.components.webhooks.wait_idle(10)
        attempts = _deliveries(api, "connection.deleted")
        assert [a["responseStatus"] for a in attempts] == [500]

        api.post("/_mock/clock", json={"advance": 5})
        assert mock.components.webhooks.wait_idle(10)
        api.post("/_mock/clock", json={"advance": 300})
        assert mock.components.webhooks.wait_idle(10)

        attempts = _deliveries(api, "connection.deleted")
        assert [a["responseStatus"] for a in attempts] == [500, 500, 200]
        assert [a["attempt"] for a in attempts] == [1, 2, 3]
        assert attempts[-1]["outcome"] == "delivered"
        assert len(receiver.received) == 3
        ids = {headers["webhook-id"] for _, headers in receiver.received}
        assert len(ids) == 1  # the same webhook-id on every retry
        for body, headers in receiver.received:
            assert Webhook(consumer["secret"]).verify(body, headers)["eventType"] == (
                "connection.deleted"
            )
