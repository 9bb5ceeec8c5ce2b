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

from mockserver.clock import isoformat, parse_datetime
from mockserver.errors import BadRequest, NotFound, ValidationItem
from mockserver.store.catalog import Platform

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
        return {
            "id": self.id,
            "integrationId": self.platform.integration_id,
            "integrationKey": self.platform.key,
            "sourceId": self.platform.source_id,
            "sourceType": self.platform.source_type,
            "platformName": self.platform.name,
            "linkUrl": self.link_url,
            "status": self.status,
            "lastSync": isoformat(last_sync) if last_sync is not None else None,
            "created": isoformat(self.created),
            "dataConnectionErrors": [],
            "connectionInfo": {key: MASK for key in self.auth_keys} if self.auth_keys else None,
        }

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
    def from_json(cls, data: dict[str, Any]) -> ConnectionRecord:
        """Rebuild a record from :meth:`to_json` output."""
        platform = data["platform"]
        return cls(
            id=str(data["id"]),
            company_id=str(data["companyId"]),
            platform=Platform(
                key=str(platform["key"]),
                name=str(platform["name"]),
                integration_id=str(platform["integrationId"]),
                source_id=str(platform["sourceId"]),
                source_type=str(platform["sourceType"]),
                enabled=bool(platform["enabled"]),
            ),
            created=parse_datetime(str(data["created"])),
            status=str(data["status"]),
            auth_keys=[str(key) for key in data["authKeys"]],
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
    connection.auth_keys = sorted(auth)
    connection.status = "Linked"


def deauthorize(connection: ConnectionRecord) -> None:
    """Mark ``connection`` as no longer able to reach its platform (control API)."""
    connection.status = "Deauthorized"
