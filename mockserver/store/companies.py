"""Companies: the record that owns a company's connections, syncs and configuration state.

Facts used here (Codat docs, "Companies", and the contract):

* company names may hold letters, digits, spaces and ``- ' & @ . , ? !``; Codat removes other
  characters rather than refusing the name (``Example Company (Codat[1])`` becomes
  ``Example Company Codat1``). A name with nothing left is refused;
* at most 10 tags, keys of 1 to 27 characters, values of at most 100;
* ``redirect`` is the company's Link URL, ``https://link.codat.io/company/{id}``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mockserver.clock import isoformat
from mockserver.errors import BadRequest, NotFound, ValidationItem
from mockserver.store.connections import ConnectionRecord, connection_not_found
from mockserver.store.limits import (
    MAX_COMPANY_NAME,
    MAX_DESCRIPTION,
    MAX_TAG_KEY,
    MAX_TAG_VALUE,
    MAX_TAGS,
    check_length,
)
from mockserver.store.restore import Fields, SnapshotError, join
from mockserver.store.syncs import SyncRecord, last_completed_at

LINK = "https://link.codat.io"

#: Products the mock reports as enabled for every company.
PRODUCTS = ("sync-for-commerce",)

# Anything outside the documented character set is dropped from a company name.
_FORBIDDEN_NAME_CHARS = re.compile(r"[^A-Za-z0-9\s\-',&@.?!]")


def company_not_found(company_id: str) -> NotFound:
    """Codat's error for an unknown (or another tenant's) company."""
    return NotFound(f"No company was found with ID {company_id}", service="ClientsApi")


def clean_name(name: str) -> str:
    """``name`` with forbidden characters removed; BadRequest if nothing visible is left or
    it is longer than :data:`MAX_COMPANY_NAME`."""
    check_length(name, "name", MAX_COMPANY_NAME)
    cleaned = _FORBIDDEN_NAME_CHARS.sub("", name)
    if not cleaned.strip():
        raise BadRequest(
            "A company name must contain at least one letter, digit or allowed symbol.",
            validation=[ValidationItem("name", "Must not be empty.")],
        )
    return cleaned


def stored_name(name: object) -> str:
    """``name`` if a company could have been given it (a snapshot's name); BadRequest if not."""
    if not isinstance(name, str) or clean_name(name) != name:
        raise BadRequest(
            "Not a company name.",
            validation=[ValidationItem("name", "Must be a name create-company would keep.")],
        )
    return name


def check_description(description: object) -> str | None:
    """``description`` if it is null or a string within :data:`MAX_DESCRIPTION`."""
    if description is None:
        return None
    if not isinstance(description, str):
        raise BadRequest(
            "A company description must be a string.",
            validation=[ValidationItem("description", "Must be a string or null.")],
        )
    return check_length(description, "description", MAX_DESCRIPTION)


def check_tags(tags: object) -> dict[str, str]:
    """A copy of ``tags`` if it keeps within Codat's limits; BadRequest listing every problem."""
    if not isinstance(tags, dict):
        raise BadRequest(
            "Tags must be an object.",
            validation=[ValidationItem("tags", "Must be an object of strings.")],
        )
    problems: list[ValidationItem] = []
    if len(tags) > MAX_TAGS:
        problems.append(
            ValidationItem(
                "tags", f"A company can have at most {MAX_TAGS} tags ({len(tags)} given)."
            )
        )
    for key, value in tags.items():
        if not 1 <= len(key) <= MAX_TAG_KEY or "\n" in key:
            problems.append(
                ValidationItem(f"tags.{key}", f"Tag keys must be 1 to {MAX_TAG_KEY} characters.")
            )
        if not isinstance(value, str) or len(value) > MAX_TAG_VALUE:
            problems.append(
                ValidationItem(
                    f"tags.{key}",
                    f"Tag values must be strings of at most {MAX_TAG_VALUE} characters.",
                )
            )
    if problems:
        raise BadRequest(problems[0].message, validation=problems)
    return dict(tags)


@dataclass(slots=True)
class CompanyRecord:
    """A company and everything the store keeps under it."""

    id: str
    name: str
    created: datetime
    description: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    #: Connections by id, in creation order.
    connections: dict[str, ConnectionRecord] = field(default_factory=dict)
    #: Syncs in request order (the last one is the latest).
    syncs: list[SyncRecord] = field(default_factory=list)
    #: Whether ``set-configuration`` has been called for the company.
    configured: bool = False

    @property
    def redirect(self) -> str:
        """The company's Link URL."""
        return f"{LINK}/company/{self.id}"

    def connection(self, connection_id: str) -> ConnectionRecord:
        """The company's connection ``connection_id``; NotFound otherwise."""
        found = self.connections.get(connection_id)
        if found is None:
            raise connection_not_found(connection_id)
        return found

    def last_sync(self, now: datetime) -> datetime | None:
        """When the company's latest successful sync finished, as of ``now``."""
        return last_completed_at(self.syncs, now) if self.syncs else None

    def render_connections(self, now: datetime) -> list[dict[str, Any]]:
        """The company's Connection objects, oldest first."""
        return [self.render_connection(c, now) for c in self.connections.values()]

    def render_connection(self, connection: ConnectionRecord, now: datetime) -> dict[str, Any]:
        """One Connection object, with ``lastSync`` derived from the company's syncs.

        A connection's last sync is the latest successful sync requested while the connection
        existed: data only moved through connections that were there when the sync began.
        """
        finished = [
            state.finished_at
            for state in (r.state(now) for r in self.syncs if r.requested_at >= connection.created)
            if state.succeeded and state.finished_at is not None
        ]
        return connection.render(max(finished) if finished else None)

    def render(self, now: datetime) -> dict[str, Any]:
        """The contract's Company object as of ``now``."""
        # Codat's shape: no parent, no creating user, no description or no sync yet are
        # told by leaving the field out (``createdByUserName`` and ``referenceParentCompany``
        # never have a value here).
        rendered: dict[str, Any] = {"id": self.id, "name": self.name}
        if self.description is not None:
            rendered["description"] = self.description
        rendered["redirect"] = self.redirect
        last_sync = self.last_sync(now)
        if last_sync is not None:
            rendered["lastSync"] = isoformat(last_sync)
        rendered["created"] = isoformat(self.created)
        rendered["products"] = list(PRODUCTS)
        rendered["tags"] = dict(self.tags)
        rendered["referenceSubsidiaryCompanies"] = []
        rendered["dataConnections"] = self.render_connections(now)
        return rendered

    def to_json(self) -> dict[str, Any]:
        """A JSON-able snapshot of the company and everything under it."""
        return {
            "id": self.id,
            "name": self.name,
            "created": self.created.isoformat(),
            "description": self.description,
            "tags": dict(self.tags),
            "connections": [c.to_json() for c in self.connections.values()],
            "syncs": [s.to_json() for s in self.syncs],
            "configured": self.configured,
        }

    @classmethod
    def from_json(cls, data: object, at: str = "company") -> CompanyRecord:
        """Rebuild a company from :meth:`to_json` output, checking every field (SnapshotError
        names the one that is wrong)."""
        fields = Fields(data, at)
        company_id = fields.uuid("id")
        connections: dict[str, ConnectionRecord] = {}
        for i, item in fields.items("connections"):
            where = join(fields.path("connections"), i)
            record = ConnectionRecord.from_json(item, where, company_id=company_id)
            if record.id in connections:
                raise SnapshotError(f"{where}.id", f"{record.id} appears twice")
            connections[record.id] = record
        syncs: list[SyncRecord] = []
        for i, item in fields.items("syncs"):
            where = join(fields.path("syncs"), i)
            syncs.append(SyncRecord.from_json(item, where, company_id=company_id))
        if len({sync.id for sync in syncs}) != len(syncs):
            raise SnapshotError(fields.path("syncs"), "holds a sync id twice")
        return cls(
            id=company_id,
            name=fields.checked("name", stored_name),
            created=fields.instant("created"),
            description=fields.checked("description", check_description, None),
            tags=fields.checked("tags", check_tags, {}),
            connections=connections,
            syncs=syncs,
            configured=fields.flag("configured", False),
        )
