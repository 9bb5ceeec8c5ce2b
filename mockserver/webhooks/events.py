"""The bodies of the events the mock emits, in Codat's webhook envelope.

Every Codat event has the same top level: ``id`` (a UUID), ``eventType``, ``generatedDate``
and an event-specific ``payload``. Connection events carry ``payload.referenceCompany`` (a
``companyReference``: id, name, description, ``links.portal``, tags) and
``payload.connection`` (a full Connection object). ``openapi.yaml`` describes this body as
``ConnectionWebhook``; its published ``eventType`` examples list all five connection events
below, so one schema covers every event the mock sends.

Events the mock emits, with the state change that implies each:

============================ =====================================================
``connection.created``       a connection is created (``create-connection``)
``connection.connected``     a ``PendingAuth`` connection becomes ``Linked``
``connection.disconnected``  a ``Linked`` connection becomes ``Unlinked`` (by the
                             client) or ``Deauthorized`` (the control API's
                             deauthorize, standing for the merchant or platform)
``connection.reconnected``   an ``Unlinked`` or ``Deauthorized`` connection is
                             ``Linked`` again
``connection.deleted``       a connection is deleted (the control API's delete,
                             standing for the merchant removing it)
============================ =====================================================

Sources: Codat's "Webhook event types" page (docs.codat.io/using-the-api/webhooks/event-types)
for the names and when each fires; Codat's "Webhooks update: new event types" post
(docs.codat.io/updates/241004-new-webhook-event-types) for the envelope and
``referenceCompany``; Codat's published ``ConnectionWebhook`` schema for the payload.

Not emitted, on purpose: ``connection.failed`` (nothing in the mock fails a link);
``company.created``/``company.deleted`` (Codat's sources disagree on the payload, one giving
``companyDetails``, the other ``referenceCompany``, and the contract has no schema to settle
it); ``read.completed`` (a sync's completion is derived from the clock when read, so there is
no moment at which it "happens"); ``client.rateLimit.*`` (no schema either).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from mockserver.clock import Clock, isoformat
from mockserver.store.ids import new_id

CONNECTION_CREATED = "connection.created"
CONNECTION_CONNECTED = "connection.connected"
CONNECTION_DISCONNECTED = "connection.disconnected"
CONNECTION_RECONNECTED = "connection.reconnected"
CONNECTION_DELETED = "connection.deleted"

#: Every event type the mock emits.
EVENT_TYPES = (
    CONNECTION_CREATED,
    CONNECTION_CONNECTED,
    CONNECTION_DISCONNECTED,
    CONNECTION_RECONNECTED,
    CONNECTION_DELETED,
)

#: Codat's portal, where ``referenceCompany.links.portal`` points.
PORTAL = "https://app.codat.io"

_LINKED = "Linked"
_DISCONNECTED = ("Unlinked", "Deauthorized")


def company_reference(company: Mapping[str, Any]) -> dict[str, Any]:
    """The ``companyReference`` of a rendered Company object."""
    company_id = str(company["id"])
    reference: dict[str, Any] = {"id": company_id, "name": company["name"]}
    if company.get("description") is not None:  # Codat's shape: no value, no field
        reference["description"] = company["description"]
    reference["links"] = {"portal": f"{PORTAL}/companies/{company_id}/summary"}
    reference["tags"] = dict(company.get("tags") or {})
    return reference


def connection_event(
    event_type: str,
    company: Mapping[str, Any],
    connection: Mapping[str, Any],
    *,
    event_id: str,
    generated: str,
) -> dict[str, Any]:
    """A connection event body (``ConnectionWebhook``).

    ``company`` is a rendered Company (the store's ``company()``), ``connection`` a rendered
    Connection as it stands after the change (for ``connection.deleted``: as it last was).
    """
    return {
        "id": event_id,
        "eventType": event_type,
        "generatedDate": generated,
        "payload": {
            "referenceCompany": company_reference(company),
            "connection": dict(connection),
        },
    }


def status_change_event(before: str, after: str) -> str | None:
    """The event a connection's status change implies, or ``None`` when it implies none
    (re-authorizing a linked connection; deauthorizing one that was never linked)."""
    if after == _LINKED and before == "PendingAuth":
        return CONNECTION_CONNECTED
    if after == _LINKED and before in _DISCONNECTED:
        return CONNECTION_RECONNECTED
    if before == _LINKED and after in _DISCONNECTED:
        return CONNECTION_DISCONNECTED
    return None


class EventFactory:
    """Builds event bodies with ids from an injected RNG and dates from the mock clock."""

    def __init__(self, clock: Clock, rng: random.Random) -> None:
        self._clock = clock
        self._rng = rng

    def connection(
        self, event_type: str, company: Mapping[str, Any], connection: Mapping[str, Any]
    ) -> dict[str, Any]:
        """A connection event raised now (see :func:`connection_event`)."""
        return connection_event(
            event_type,
            company,
            connection,
            event_id=new_id(self._rng),
            generated=isoformat(self._clock.now()),
        )
