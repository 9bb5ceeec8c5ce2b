"""One request/response exchange, as the layers of the app learn about it.

The outermost layer (the journal) puts an :class:`Exchange` into the ASGI scope; the layers
inside fill in what only they know: the fault layer which rule fired, the Codat surface which
operation and client the request addressed and what was wrong with it. When the call returns,
the journal records the whole picture. This is the one channel between the layers; none of
them reaches into another.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import Any

SCOPE_KEY = "codat_mock.exchange"


@dataclass(slots=True)
class Exchange:
    """What is known about one exchange; every field is filled in by the layer that knows it."""

    #: The operationId the request addressed (None: no operation matched, or the control API).
    operation_id: str | None = None
    #: The authenticated client (None: unauthenticated or not a Codat route).
    client_id: str | None = None
    #: The fault rule that fired on this exchange, and what it did.
    fault_id: str | None = None
    fault_action: str | None = None
    #: The handler's own status, when an ``after`` fault replaced its response: the journal
    #: then knows the call committed although the client never heard so.
    handler_status: int | None = None
    #: How the exchange ended when no normal response went out: "reset", "empty", "truncate",
    #: "hang" (None when a response was sent).
    dropped: str | None = None
    #: Contract violations found in the incoming request (itemId/message pairs).
    violations: list[dict[str, Any]] = field(default_factory=list)
    #: The response shape the surface answered in (None: the default shape, or no answer).
    shape: str | None = None


def exchange_of(scope: MutableMapping[str, Any]) -> Exchange:
    """The scope's exchange, created on first use (so inner layers work without the journal)."""
    found = scope.get(SCOPE_KEY)
    if not isinstance(found, Exchange):
        found = Exchange()
        scope[SCOPE_KEY] = found
    return found
