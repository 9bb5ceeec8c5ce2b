"""Tests of mockserver/webhooks/events.py: event bodies built from real mock state validate
against the contract's ``ConnectionWebhook``, and status changes map to Codat's events."""

from __future__ import annotations

import random
from typing import Any

import pytest
from starlette.testclient import TestClient

from mockserver.clock import Clock
from mockserver.spec import Spec
from mockserver.webhooks.events import (
    CONNECTION_CONNECTED,
    CONNECTION_DELETED,
    CONNECTION_DISCONNECTED,
    CONNECTION_RECONNECTED,
    EVENT_TYPES,
    EventFactory,
    company_reference,
    status_change_event,
)
from tests.handlers.support import create_company, create_connection, is_uuid4, link_connection


@pytest.fixture
def state(client: TestClient) -> tuple[dict[str, Any], dict[str, Any]]:
    """A company (with description and tags) and its linked connection, as the API gave them."""
    company = create_company(
        client, "Harbour Street Bakery", description="Bakes", tags={"region": "uk-south"}
    )
    connection = create_connection(client, company["id"])
    return company, link_connection(client, company["id"], connection["id"])


def test_connection_deleted_matches_the_contracts_webhook_schema(
    spec: Spec, clock: Clock, state: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    company, connection = state
    body = EventFactory(clock, random.Random(1)).connection(CONNECTION_DELETED, company, connection)
    assert spec.schema_validator("ConnectionWebhook").problems(body) == []
    assert is_uuid4(body["id"])
    assert body["eventType"] == "connection.deleted"
    assert body["generatedDate"] == "2026-03-02T09:00:00Z"
    assert body["payload"]["connection"] == connection
    assert body["payload"]["referenceCompany"] == {
        "id": company["id"],
        "name": "Harbour Street Bakery",
        "description": "Bakes",
        "links": {"portal": f"https://app.codat.io/companies/{company['id']}/summary"},
        "tags": {"region": "uk-south"},
    }


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_every_emitted_event_validates(
    spec: Spec, clock: Clock, state: tuple[dict[str, Any], dict[str, Any]], event_type: str
) -> None:
    company, connection = state
    body = EventFactory(clock, random.Random(1)).connection(event_type, company, connection)
    assert spec.schema_validator("ConnectionWebhook").problems(body) == []
    assert body["eventType"] == event_type


def test_the_schema_check_is_not_vacuous(
    spec: Spec, clock: Clock, state: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    company, connection = state
    body = EventFactory(clock, random.Random(1)).connection(CONNECTION_DELETED, company, connection)
    body["id"] = "not-a-uuid"
    body["payload"]["connection"]["status"] = "Gone"
    locations = {p.location for p in spec.schema_validator("ConnectionWebhook").problems(body)}
    assert locations == {"id", "payload.connection.status"}


def test_a_company_without_description_or_tags_still_validates(spec: Spec, clock: Clock) -> None:
    reference = company_reference({"id": "3f9c1a52-7d4e-4b8a-9c61-2e5d8f0b7a14", "name": "A"})
    assert "description" not in reference
    assert reference["tags"] == {}
    body = {
        "id": "d2a7f4c1-8e3b-4a69-b05c-7e1f9a3d6b28",
        "eventType": CONNECTION_DELETED,
        "generatedDate": "2026-03-02T09:00:00Z",
        "payload": {"referenceCompany": reference},
    }
    assert spec.schema_validator("ConnectionWebhook").problems(body) == []


def test_ids_follow_the_rng_and_dates_the_clock(clock: Clock) -> None:
    company = {"id": "c", "name": "A"}
    one = EventFactory(clock, random.Random(8)).connection(CONNECTION_DELETED, company, {})
    clock.advance(61)
    two = EventFactory(clock, random.Random(8)).connection(CONNECTION_DELETED, company, {})
    assert one["id"] == two["id"]
    assert (one["generatedDate"], two["generatedDate"]) == (
        "2026-03-02T09:00:00Z",
        "2026-03-02T09:01:01Z",
    )


@pytest.mark.parametrize(
    ("before", "after", "event"),
    [
        ("PendingAuth", "Linked", CONNECTION_CONNECTED),
        ("Unlinked", "Linked", CONNECTION_RECONNECTED),
        ("Deauthorized", "Linked", CONNECTION_RECONNECTED),
        ("Linked", "Unlinked", CONNECTION_DISCONNECTED),
        ("Linked", "Deauthorized", CONNECTION_DISCONNECTED),
        ("Linked", "Linked", None),
        ("PendingAuth", "Deauthorized", None),
        ("Unlinked", "Deauthorized", None),
    ],
)
def test_status_changes_map_to_codats_connection_events(
    before: str, after: str, event: str | None
) -> None:
    assert status_change_event(before, after) == event
