"""The world: every tenant's state, the shared catalog, and snapshots of it all.

A tenant is created the first time its client id is used, starting from the fixtures.
Tenants share the catalog, clock, RNG and one lock, and nothing else.

Snapshots are plain JSON: ``{"version": 1, "syncDuration": ..., "tenants": [...]}``. They hold
the tenants' state (not the fixtures, which a restore supplies, and not the RNG, which belongs
to the app): ids drawn after a restore come from whatever RNG the restored world is given.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from typing import Any

from mockserver.clock import Clock
from mockserver.errors import BadRequest, ValidationItem
from mockserver.fixtures import Fixtures
from mockserver.store.catalog import Catalog
from mockserver.store.changes import Changes
from mockserver.store.configuration import configuration_template
from mockserver.store.connections import connection_not_found
from mockserver.store.environment import ConnectionObserver, Environment
from mockserver.store.ids import IdSource
from mockserver.store.restore import Fields, SnapshotError, join
from mockserver.store.stored import StoredRecords
from mockserver.store.syncs import check_sync_duration, sync_not_found
from mockserver.store.tenant import Tenant

SNAPSHOT_VERSION = 1


def _unique_ids(tenants: list[Tenant]) -> list[str]:
    """Every id the tenants hold; SnapshotError when one appears twice (in any tenant)."""
    seen: set[str] = set()
    for tenant in tenants:
        for held in tenant.held_ids():
            if held in seen:
                raise SnapshotError(
                    "tenants", f"holds the id {held} twice; ids must be unique across tenants"
                )
            seen.add(held)
    return list(seen)


@dataclass(slots=True)
class WorldRows:
    """What changed, ready to write: JSON-able snapshots of each changed record."""

    #: Everything was replaced: the rows below are the whole world.
    everything: bool
    #: ``(client_id, {"texts", "visibleAccounts"})`` of each tenant whose own state changed.
    tenants: list[tuple[str, dict[str, Any]]]
    #: Client ids of tenants forgotten.
    dropped: list[str]
    #: ``(client_id, company snapshot)`` of each company written.
    companies: list[tuple[str, dict[str, Any]]]
    #: ``{"syncDuration", "draws"}`` when either moved (see :class:`IdSource`); with
    #: ``everything``, also ``"rngStart"``: the id generator's starting point, as bytes.
    meta: dict[str, Any] | None


class World:
    """Everything the mock knows, for all tenants."""

    def __init__(
        self,
        fixtures: Fixtures,
        *,
        clock: Clock,
        rng: random.Random,
        sync_duration: float = 30.0,
        observer: ConnectionObserver | None = None,
        changes: Changes | None = None,
    ) -> None:
        sync_duration = check_sync_duration(sync_duration)
        self.catalog = Catalog(fixtures)
        self._env = Environment(
            fixtures=fixtures,
            catalog=self.catalog,
            clock=clock,
            rng=rng,
            ids=IdSource(rng),
            lock=threading.RLock(),
            sync_duration=sync_duration,
            observer=observer,
            changes=changes,
            configuration=configuration_template(fixtures.configuration),
        )
        self._tenants: dict[str, Tenant] = {}
        # What a full reset returns to: the world as it was built.
        self._start_duration = sync_duration
        self._seed()

    def _seed(self) -> None:
        """Start from the fixtures' seeded world (companies, connections, syncs), if any:
        checked as any snapshot is, so a bad one names its file and field."""
        if self._env.fixtures.world:
            seeded = {
                "version": SNAPSHOT_VERSION,
                "syncDuration": self._env.sync_duration,
                "tenants": self._env.fixtures.world,
            }
            self.load(seeded, source=self._env.fixtures.world_source)

    @property
    def sync_duration(self) -> float:
        """Seconds a newly requested sync runs (syncs already requested keep their own)."""
        return self._env.sync_duration

    @sync_duration.setter
    def sync_duration(self, seconds: float) -> None:
        checked = check_sync_duration(seconds)
        with self._env.lock:
            self._env.sync_duration = checked
            if self._env.changes is not None:
                self._env.changes.meta()

    def tenant(self, client_id: str) -> Tenant:
        """The tenant of ``client_id``, created (from the fixtures) on first use."""
        found = self._tenants.get(client_id)  # the usual case, no lock: a dict read is atomic
        if found is not None:
            return found
        with self._env.lock:
            found = self._tenants.get(client_id)
            if found is None:
                found = self._tenants[client_id] = Tenant(client_id, self._env)
                if self._env.changes is not None:
                    self._env.changes.tenant(client_id)
            return found

    def existing_tenant(self, client_id: str) -> Tenant | None:
        """The tenant of ``client_id`` if it has been used; unlike :meth:`tenant`, never
        creates one (for layers that only look, such as the rate limits)."""
        with self._env.lock:
            return self._tenants.get(client_id)

    def client_ids(self) -> list[str]:
        """The client ids that have a tenant, in order of first use."""
        with self._env.lock:
            return list(self._tenants)

    def reset(self, client_id: str | None = None) -> None:
        """Forget one tenant's state: it starts again from the fixtures. Without a client id,
        the whole world is as it was built (in place, so whoever holds it keeps it): no
        tenants, the RNG at its first draw again, the sync duration it started with."""
        with self._env.lock:
            if client_id is not None:
                self._tenants.pop(client_id, None)
                if self._env.changes is not None:
                    self._env.changes.dropped(client_id)
                for seeded in self._env.fixtures.world:
                    if seeded["clientId"] == client_id:  # back to its seeded companies
                        tenant = Tenant.from_json(seeded, self._env)
                        self._tenants[client_id] = tenant
                        self._mark_tenant(tenant)
                return
            self._tenants.clear()
            self._env.ids.rewind()
            self._env.sync_duration = self._start_duration
            self._seed()
            if self._env.changes is not None:
                self._env.changes.everything()

    def _mark_tenant(self, tenant: Tenant) -> None:
        changes = self._env.changes
        if changes is not None:
            changes.tenant(tenant.client_id)
            for company_id in tenant.company_ids():
                changes.company(tenant.client_id, company_id)

    def take_changes(self) -> WorldRows | None:
        """What changed since the last call, as the rows a durable copy writes; ``None`` when
        nothing did (or the world keeps no marks)."""
        changes = self._env.changes
        if changes is None:
            return None
        with self._env.lock:
            if not changes.pending():
                return None
            taken = changes.take()
            if taken.everything:
                companies = [
                    (tenant.client_id, company)
                    for tenant in self._tenants.values()
                    for company in tenant.companies_json()
                ]
                tenants = [(t.client_id, t.settings_json()) for t in self._tenants.values()]
                meta = {**self._meta(), "rngStart": self._env.ids.start_bytes()}
                return WorldRows(True, tenants, [], companies, meta)
            found: dict[tuple[str, str], dict[str, Any]] = {}
            for client_id, company_id in taken.companies:
                tenant = self._tenants.get(client_id)
                data = tenant.company_json(company_id) if tenant is not None else None
                if data is not None:
                    found[(client_id, company_id)] = data
            return WorldRows(
                False,
                [
                    (client_id, self._tenants[client_id].settings_json())
                    for client_id in taken.tenants
                    if client_id in self._tenants
                ],
                sorted(taken.dropped),
                [(client_id, data) for (client_id, _), data in found.items()],
                self._meta() if taken.meta else None,
            )

    def _meta(self) -> dict[str, Any]:
        return {"syncDuration": self._env.sync_duration, "draws": self._env.ids.draws}

    def restore_meta(self, meta: dict[str, Any]) -> None:
        """Put back the sync duration and the RNG's position from a durable copy."""
        with self._env.lock:
            self._env.sync_duration = check_sync_duration(float(meta["syncDuration"]))
            self._env.ids.resume(meta["rngStart"], int(meta["draws"]))

    def restore_stored(
        self,
        tenants: list[tuple[str, dict[str, Any], list[dict[str, Any]]]],
        meta: dict[str, Any],
    ) -> None:
        """Replace every tenant with a state file's records ``(client_id, settings,
        companies)`` and put the RNG and sync duration back; marks nothing (the file holds
        it all already)."""
        records = StoredRecords()
        with self._env.lock:
            built = [
                Tenant.from_stored(
                    client_id, settings, [records.company(c) for c in companies], self._env
                )
                for client_id, settings, companies in tenants
            ]
            self._env.ids.claim(held for tenant in built for held in tenant.held_ids())
            self._tenants = {tenant.client_id: tenant for tenant in built}
            self.restore_meta(meta)

    def discard_changes(self) -> None:
        """Drop the marks made so far (what was just restored is in the file already)."""
        with self._env.lock:
            if self._env.changes is not None:
                self._env.changes.take()

    def mark_everything(self) -> None:
        """Mark the whole world changed (a durable copy then writes all of it)."""
        with self._env.lock:
            if self._env.changes is not None:
                self._env.changes.everything()

    def sync_owner(self, sync_id: str) -> Tenant:
        """The tenant, whichever it is, that has the sync ``sync_id`` (the control API acts
        across tenants); NotFound when none has."""
        with self._env.lock:
            for tenant in self._tenants.values():
                if tenant.owns_sync(sync_id):
                    return tenant
        raise sync_not_found(sync_id)

    def connection_owner(self, company_id: str, connection_id: str) -> Tenant:
        """The tenant, whichever it is, that has the connection; NotFound when none has."""
        with self._env.lock:
            for tenant in self._tenants.values():
                if tenant.owns_connection(company_id, connection_id):
                    return tenant
        raise connection_not_found(connection_id)

    def overview(self, companies: int = 100) -> dict[str, Any]:
        """Every tenant as it stands now, in order of first use, each with its newest
        ``companies`` companies (see :meth:`Tenant.overview`)."""
        with self._env.lock:
            tenants = list(self._tenants.values())
        return {"tenants": [tenant.overview(companies) for tenant in tenants]}

    def snapshot(self) -> dict[str, Any]:
        """Every tenant's state as JSON-able data."""
        with self._env.lock:
            return {
                "version": SNAPSHOT_VERSION,
                "syncDuration": self._env.sync_duration,
                "tenants": [tenant.to_json() for tenant in self._tenants.values()],
            }

    def load(self, snapshot: object, *, source: str = "The snapshot") -> None:
        """Replace every tenant's state with ``snapshot`` (from :meth:`snapshot`).

        The snapshot is read and checked in full before anything changes, so a bad one
        leaves the world as it was; whatever passes can be served. A bad one is a
        BadRequest naming ``source`` (a file, the request) and the field.
        """
        try:
            tenants, duration = self._read(snapshot)
            held = _unique_ids(tenants)
        except SnapshotError as exc:
            raise BadRequest(
                f"{source} cannot be restored: {exc}",
                validation=[ValidationItem(exc.field or None, exc.message, "snapshot")],
            ) from None
        with self._env.lock:
            # Ids of the state being replaced stay taken too: an id once handed out never
            # comes back as another record.
            self._env.ids.claim(held)
            self._tenants = {tenant.client_id: tenant for tenant in tenants}
            self._env.sync_duration = duration
            if self._env.changes is not None:
                self._env.changes.everything()

    def _read(self, snapshot: object) -> tuple[list[Tenant], float]:
        """The tenants and sync duration of ``snapshot``; SnapshotError if any part is bad."""
        fields = Fields(snapshot, "")
        if fields.raw("version", None) != SNAPSHOT_VERSION:
            raise SnapshotError("version", f"must be {SNAPSHOT_VERSION}")
        duration = fields.number(
            "syncDuration", check_sync_duration, default=self._env.sync_duration
        )
        tenants: dict[str, Tenant] = {}
        for i, item in fields.items("tenants"):
            where = join("tenants", i)
            tenant = Tenant.from_json(item, self._env, where)
            if tenant.client_id in tenants:
                raise SnapshotError(f"{where}.clientId", f"{tenant.client_id} appears twice")
            tenants[tenant.client_id] = tenant
        return list(tenants.values()), duration

    @classmethod
    def restore(
        cls,
        snapshot: dict[str, Any],
        fixtures: Fixtures,
        *,
        clock: Clock,
        rng: random.Random,
        source: str = "The snapshot",
    ) -> World:
        """A new world holding the state of ``snapshot``; a bad one is a BadRequest naming
        ``source`` (say, the file it came from) and the field."""
        world = cls(fixtures, clock=clock, rng=rng)
        world.load(snapshot, source=source)
        return world
