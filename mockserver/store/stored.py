"""Records as a state file holds them: rebuilt without the snapshot door's field checks.

A snapshot from outside (``PUT /_mock/state``, ``--load``) passes every check of
:mod:`mockserver.store.restore`. A state file holds only what the store itself wrote from
records that had passed them, in a file with a schema version that SQLite checks for damage;
reading it back checks nothing twice, so a restart with 100,000 companies stays quick.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mockserver.clock import parse_datetime
from mockserver.store.catalog import Platform
from mockserver.store.companies import CompanyRecord
from mockserver.store.connections import ConnectionRecord
from mockserver.store.syncs import SyncRecord


class StoredRecords:
    """Rebuilds records from their ``to_json`` form; platforms are shared, not copied."""

    def __init__(self) -> None:
        self._platforms: dict[tuple[Any, ...], Platform] = {}

    def company(self, data: dict[str, Any]) -> CompanyRecord:
        connections = [self.connection(item) for item in data["connections"]]
        return CompanyRecord(
            id=data["id"],
            name=data["name"],
            created=datetime.fromisoformat(data["created"]),
            description=data["description"],
            tags=data["tags"],
            connections={record.id: record for record in connections},
            syncs=[_sync(item) for item in data["syncs"]],
            configured=data["configured"],
        )

    def connection(self, data: dict[str, Any]) -> ConnectionRecord:
        platform = data["platform"]
        key = tuple(platform.values())
        shared = self._platforms.get(key)
        if shared is None:
            shared = self._platforms[key] = Platform(
                key=platform["key"],
                name=platform["name"],
                integration_id=platform["integrationId"],
                source_id=platform["sourceId"],
                source_type=platform["sourceType"],
                enabled=platform["enabled"],
            )
        return ConnectionRecord(
            id=data["id"],
            company_id=data["companyId"],
            platform=shared,
            created=datetime.fromisoformat(data["created"]),
            status=data["status"],
            auth_keys=data["authKeys"],
        )


def _sync(data: dict[str, Any]) -> SyncRecord:
    forced_at = data["forcedAt"]
    return SyncRecord(
        id=data["id"],
        company_id=data["companyId"],
        requested_at=datetime.fromisoformat(data["requestedAt"]),
        duration=data["duration"],
        start=parse_datetime(data["start"]),
        finish=parse_datetime(data["finish"]),
        forced_code=data["forcedCode"],
        forced_message=data["forcedMessage"],
        forced_at=datetime.fromisoformat(forced_at) if forced_at is not None else None,
    )
