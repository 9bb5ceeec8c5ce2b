"""The adapter from the store to the webhooks: a connection change becomes an event.

The store tells one observer of every connection that comes, goes or changes status (see
:class:`mockserver.store.ConnectionChange`); this turns each into the connection event Codat
would send, for the hub to deliver.
"""

from __future__ import annotations

from mockserver.store import ConnectionChange, ConnectionObserver
from mockserver.webhooks.delivery import WebhookHub
from mockserver.webhooks.events import CONNECTION_CREATED, CONNECTION_DELETED, status_change_event


def connection_events(hub: WebhookHub) -> ConnectionObserver:
    """A store observer that emits each connection change to ``hub``'s consumers."""

    def changed(change: ConnectionChange) -> None:
        if change.before is None:
            event: str | None = CONNECTION_CREATED
        elif change.after is None:
            event = CONNECTION_DELETED
        else:
            event = status_change_event(change.before, change.after)
        if event is not None:
            hub.emit_connection(
                event, change.company, change.connection, client_id=change.client_id
            )

    return changed
