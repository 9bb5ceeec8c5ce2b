"""Webhooks, delivered and signed the way Codat delivers them (Svix, Standard Webhooks).

* :mod:`.consumers`: who receives which events, and the ``whsec_`` secret of each;
* :mod:`.events`: the event bodies and which state changes raise them;
* :mod:`.signing`: the ``webhook-id`` / ``webhook-timestamp`` / ``webhook-signature`` headers;
* :mod:`.faults`: delivery fault rules (duplicate, reorder, delay);
* :mod:`.delivery`: :class:`WebhookHub`, the outbox and its workers, retries on the mock clock;
* :mod:`.outbox`: the outbox's records: messages, attempts and their snapshots;
* :mod:`.transport`: one signed POST to a consumer, and the one-word reason it failed;
* :mod:`.adapter`: connection changes in the store become events;
* :mod:`.routes`: the ``/_mock/webhooks`` control routes;
* :mod:`.listen`: a verifying receiver for local development.
"""

from __future__ import annotations

from mockserver.webhooks.adapter import connection_events
from mockserver.webhooks.consumers import Consumer, ConsumerRegistry
from mockserver.webhooks.delivery import MAX_ATTEMPTS, RETRY_DELAYS, WebhookHub
from mockserver.webhooks.events import (
    CONNECTION_CONNECTED,
    CONNECTION_CREATED,
    CONNECTION_DELETED,
    CONNECTION_DISCONNECTED,
    CONNECTION_RECONNECTED,
    EVENT_TYPES,
    EventFactory,
    status_change_event,
)
from mockserver.webhooks.faults import DeliveryFaultRule, delivery_rule_from
from mockserver.webhooks.listen import listen_app, run_listener
from mockserver.webhooks.outbox import Attempt, MessageState
from mockserver.webhooks.routes import webhook_routes
from mockserver.webhooks.signing import SecretError, new_secret, signature_headers
from mockserver.webhooks.transport import DELIVERY_TIMEOUT

__all__ = [
    "CONNECTION_CONNECTED",
    "CONNECTION_CREATED",
    "CONNECTION_DELETED",
    "CONNECTION_DISCONNECTED",
    "CONNECTION_RECONNECTED",
    "DELIVERY_TIMEOUT",
    "EVENT_TYPES",
    "MAX_ATTEMPTS",
    "RETRY_DELAYS",
    "Attempt",
    "Consumer",
    "ConsumerRegistry",
    "DeliveryFaultRule",
    "EventFactory",
    "MessageState",
    "SecretError",
    "WebhookHub",
    "connection_events",
    "delivery_rule_from",
    "listen_app",
    "new_secret",
    "run_listener",
    "signature_headers",
    "status_change_event",
    "webhook_routes",
]
