"""Data connections: a company's link to one platform, and the rules for its status.

Status rules (Codat's connection statuses, see docs.codat.io "Connections"):

* a new connection starts ``PendingAuth``;
* ``PATCH`` may only unlink: ``Linked`` -> ``Unlinked`` (revoking access is the one change a
  client can ask for directly);
* supplying authorization (``PUT .../authorization``) links the connection from any status,
  including ``Unlinked`` and ``Deauthorized``, since Codat documents both as re-linkable;
* the control API can deauthorize (as if the platform revoked access) or delete.

Authorization values are secrets: the store keeps only their keys and shows each one masked in
``connectionInfo``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mockserver.clock import isoformat
from mockserver.errors import BadRequest, NotFound, ValidationItem
from mockserver.store.catalog import SOURCE_TYPES, Platform
from mockserver.store.limits import (
    MAX_AUTH_KEY,
    MAX_AUTH_KEYS,
    MAX_LABEL,
    check_count,
    check_length,
)
from mockserver.store.restore import Fields, SnapshotError

#: The statuses of the contract's ``dataConnectionStatus`` enum.
STATUSES = ("PendingAuth", "Linked", "Unlinked", "Deauthorized")

#: What a masked authorization value looks like in ``connectionInfo``.
MASK = "********"

LINK_API = "https://link-api.codat.io"


def connection_not_found(connection_id: str) -> NotFound:
    """Codat's error for an unknown (or another tenant's) data connection."""
    return NotFound(f"Data connection {connection_id} not found")


@dataclass(slots=True)
class ConnectionRecord:
    """One data connection as the store keeps it."""

    id: str
    company_id: str
    platform: Platform
    created: datetime
    status: str = "PendingAuth"
    #: Keys of the authorization values last supplied (the values are never kept).
    auth_keys: list[str] = field(default_factory=list)

    @property
    def link_url(self) -> str:
        """Where the company's user starts Codat's Link flow for this connection."""
        return f"{LINK_API}/companies/{self.company_id}/connections/{self.id}/start"

    def render(self, last_sync: datetime | None) -> dict[str, Any]:
        """The contract's Connection object; ``last_sync`` is derived by the caller."""
        # Codat's shape: optional fields with no value are left out, not sent as null.
        rendered: dict[str, Any] = {
            "id": self.id,
            "integrationId": self.platform.integration_id,
            "integrationKey": self.platform.key,
            "sourceId": self.platform.source_id,
            "sourceType": self.platform.source_type,
            "platformName": self.platform.name,
            "linkUrl": self.link_url,
            "status": self.status,
            "created": isoformat(self.created),
            "dataConnectionErrors": [],
        }
        if last_sync is not None:
            rendered["lastSync"] = isoformat(last_sync)
        if self.auth_keys:
            rendered["connectionInfo"] = {key: MASK for key in self.auth_keys}
        return rendered

    def to_json(self) -> dict[str, Any]:
        """A JSON-able snapshot of this record."""
        return {
            "id": self.id,
            "companyId": self.company_id,
            "platform": {
                "key": self.platform.key,
                "name": self.platform.name,
                "integrationId": self.platform.integration_id,
                "sourceId": self.platform.source_id,
                "sourceType": self.platform.source_type,
                "enabled": self.platform.enabled,
            },
            "created": self.created.isoformat(),
            "status": self.status,
            "authKeys": list(self.auth_keys),
        }

    @classmethod
    def from_json(
        cls, data: object, at: str = "connection", *, company_id: str | None = None
    ) -> ConnectionRecord:
        """Rebuild a record from :meth:`to_json` output, checking every field (SnapshotError
        names the one that is wrong)."""
        fields = Fields(data, at)
        connection_id = fields.uuid("id")
        owner = fields.parent_id("companyId", company_id)
        platform = Fields(fields.raw("platform"), fields.path("platform"))
        key = platform.text("key", 4)
        if not (len(key) == 4 and key.isascii() and key.isalpha() and key.islower()):
            raise SnapshotError(platform.path("key"), "must be four lowercase letters")
        return cls(
            id=connection_id,
            company_id=owner,
            platform=Platform(
                key=key,
                name=platform.text("name", MAX_LABEL),
                integration_id=platform.uuid("integrationId"),
                source_id=platform.uuid("sourceId"),
                source_type=str(platform.choice("sourceType", SOURCE_TYPES)),
                enabled=platform.flag("enabled"),
            ),
            created=fields.instant("created"),
            status=str(fields.choice("status", STATUSES)),
            auth_keys=fields.strings("authKeys", count=MAX_AUTH_KEYS, limit=MAX_AUTH_KEY),
        )


def apply_status_change(connection: ConnectionRecord, status: str | None) -> None:
    """Apply a client's requested status (``None`` changes nothing).

    Only unlinking a linked connection is allowed; anything else is a BadRequest that says
    what is allowed.
    """
    if status is None:
        return
    if status not in STATUSES:
        raise BadRequest(
            f"'{status}' is not a data connection status.",
            validation=[ValidationItem("status", f"Must be one of: {', '.join(STATUSES)}.")],
        )
    if status == "Unlinked" and connection.status == "Linked":
        connection.status = "Unlinked"
        return
    raise BadRequest(
        f"Data connection {connection.id} cannot change from {connection.status} to {status}: "
        "only a Linked connection can be set to Unlinked.",
        validation=[ValidationItem("status", "Only Linked -> Unlinked is allowed.")],
    )


def authorize(connection: ConnectionRecord, auth: dict[str, str]) -> None:
    """Record new authorization for ``connection`` and link it.

    Every value must be a string (the contract's body is a string map); only the keys are kept.
    """
    bad = [key for key, value in auth.items() if not isinstance(value, str)]
    if bad:
        raise BadRequest(
            "Authorization values must be strings.",
            validation=[ValidationItem(key, "Must be a string.") for key in bad],
        )
    check_count(len(auth), "body", MAX_AUTH_KEYS, "authorization values")
    for key in auth:
        check_length(key, key[:40], MAX_AUTH_KEY)  # the field is the key; its start names it
    connection.auth_keys = sorted(auth)
    connection.status = "Linked"


def deauthorize(connection: ConnectionRecord) -> None:
    """Mark ``connection`` as no longer able to reach its platform (control API)."""
    connection.status = "Deauthorized"
