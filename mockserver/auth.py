"""Authentication: ``Authorization: Basic <base64 of an API key>`` names the client (tenant).

Each distinct API key is its own client; its clientId is a UUID derived from the key, so the
same key always maps to the same tenant, across restarts too. The key itself is never logged
or stored: only the clientId travels on.
"""

from __future__ import annotations

import base64
import binascii
import functools
import uuid
from dataclasses import dataclass

from mockserver.errors import Unauthorized

# A fixed namespace: clientIds are uuid5(namespace, api_key), stable across runs and machines.
CLIENT_NAMESPACE = uuid.UUID("6f1c3d0e-8a52-4c57-9d0b-3a7e2f51c9a4")


@dataclass(slots=True, frozen=True)
class Client:
    """The authenticated caller."""

    client_id: str


def client_id_for(api_key: str) -> str:
    """The stable clientId of an API key."""
    return str(uuid.uuid5(CLIENT_NAMESPACE, api_key))


def authorization_for(api_key: str) -> str:
    """The ``Authorization`` header value for ``api_key``, as the SDK's users send it."""
    return "Basic " + base64.b64encode(api_key.encode("utf-8")).decode("ascii")


def authenticate(header: str | None) -> Client:
    """The client named by an ``Authorization`` header; 401 when it is missing or malformed."""
    client = _client_of(header) if header else None
    if client is None:
        raise Unauthorized()
    return client


# A client sends the same header on every call: decoding it and hashing the key (uuid5) is
# done once per distinct header. Bounded, and it keeps nothing the process did not already
# hold (the headers of requests it serves). A memo of a pure function: no state to share.
@functools.lru_cache(maxsize=1024)
def _client_of(header: str) -> Client | None:
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "basic" or not token:
        return None
    try:
        raw = base64.b64decode(token, validate=True)
        api_key = raw.decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if not api_key.strip():
        return None
    return Client(client_id_for(api_key))
