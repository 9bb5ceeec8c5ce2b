"""One request/response exchange, as the layers of the app learn about it.

The front layer (:mod:`mockserver.resolve`) puts an :class:`Exchange` into the ASGI scope of
every Codat request, having parsed the headers, matched the operation and authenticated the
caller once; the layers behind it read that instead of working it out again. They fill in
what only they know: the fault layer which rule fired, the surface what was wrong with the
request. When the call returns, the journal records the whole picture. This is the one
channel between the layers; none of them reaches into another. A scope without an Exchange
is not a Codat request (the control API, the contract documents): every layer lets it pass.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mockserver.auth import Client
    from mockserver.errors import ApiError
    from mockserver.faults.connection import RawConnection
    from mockserver.routing import Match

SCOPE_KEY = "codat_mock.exchange"


@dataclass(slots=True)
class Exchange:
    """What is known about one exchange; every field is filled in by the layer that knows it."""

    # -- resolved once, at the front ----------------------------------------------------
    #: The request headers, names lower-cased (the last value of a repeated header wins).
    headers: dict[str, str] = field(default_factory=dict)
    #: The operation and path parameters the request addressed (None: no operation matched).
    match: Match | None = None
    #: Its operationId (kept beside ``match`` for the journal and the fault rules).
    operation_id: str | None = None
    #: Why no operation matched (404, or 405 with ``Allow``); None when one did.
    route_error: ApiError | None = None
    #: The authenticated caller (None: no valid ``Authorization``: the surface answers 401).
    client: Client | None = None
    #: Its client id (None: unauthenticated).
    client_id: str | None = None
    #: The server's transport, for faults that drop the connection (None in-process).
    connection: RawConnection | None = None
    # -- filled in by the layers behind -------------------------------------------------
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
    #: The response shape the surface answered in (``codat``, ``nulls``, ``extra``; a shape
    #: fault rule sets it first). None: the surface gave no answer of its own.
    shape: str | None = None


def exchange_of(scope: Mapping[str, Any]) -> Exchange | None:
    """The scope's exchange; None when the request is not one of the Codat API's."""
    found = scope.get(SCOPE_KEY)
    return found if isinstance(found, Exchange) else None
