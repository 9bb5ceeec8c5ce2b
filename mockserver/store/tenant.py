"""One tenant's state (a Codat client): its companies, connections, syncs and settings.

A :class:`Tenant` is the facade the HTTP handlers call. It owns nothing shared except through
its :class:`~mockserver.store.environment.Environment` (fixtures, catalog, clock, RNG, lock),
and every lookup goes through its own dictionaries, so another tenant's company is simply not
there: the answer is the same NotFound an unknown id gets.

Every public method returns plain JSON-ready values (camelCase keys as in the contract) and
raises :mod:`mockserver.errors` classes. Each runs under the world's lock: the server calls
the store from its event loop, while a test holding the :class:`~mockserver.MockServer`
reads and resets the same world from its own thread.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from datetime import datetime
from typing import Any, Concatenate, ParamSpec, TypeVar

from mockserver.errors import BadRequest, ValidationItem
from mockserver.query import Expr, Ordering
from mockserver.store import connections as conn
from mockserver.store.companies import (
    CompanyRecord,
    check_description,
    check_tags,
    clean_name,
    company_not_found,
)
from mockserver.store.company_index import CompanyIndex
from mockserver.store.configuration import (
    check_configurable,
    render_configuration,
    schedule_start,
)
from mockserver.store.environment import ConnectionChange, Environment
from mockserver.store.instants import as_utc, one_month_before
from mockserver.store.limits import MAX_LABEL, MAX_MESSAGE, check_length
from mockserver.store.restore import Fields, SnapshotError, join
from mockserver.store.settings import TextSettings, VisibleAccountSettings
from mockserver.store.sync_flow import check_platforms, merchant_company_name, sync_flow_link
from mockserver.store.syncs import (
    SyncRecord,
    check_range,
    latest_successful,
    no_successful_sync,
    no_syncs,
    sync_not_found,
    synced_up_to,
)

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _locked(method: Callable[Concatenate[Tenant, _P], _R]) -> Callable[Concatenate[Tenant, _P], _R]:
    """Run ``method`` holding the world's lock."""

    @functools.wraps(method)
    def wrapper(self: Tenant, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        with self._env.lock:
            return method(self, *args, **kwargs)

    return wrapper


class Tenant:
    """All the state of one client, and the operations the API offers on it."""

    def __init__(self, client_id: str, env: Environment) -> None:
        self.client_id = client_id
        self._env = env
        self._companies: dict[str, CompanyRecord] = {}
        self._index = CompanyIndex()
        self._texts = TextSettings(env.fixtures.texts)
        self._visible = VisibleAccountSettings(env.fixtures.visible_accounts)

    # -- helpers ------------------------------------------------------------------------

    def _now(self) -> datetime:
        return as_utc(self._env.clock.now())

    def _company(self, company_id: str) -> CompanyRecord:
        found = self._companies.get(company_id)
        if found is None:
            raise company_not_found(company_id)
        return found

    def _changed(
        self,
        company: CompanyRecord,
        connection: dict[str, Any],
        before: str | None,
        after: str | None,
    ) -> dict[str, Any]:
        """Tell the observer about a connection change (if any changed) and pass it on."""
        self._index.connections_changed(company)
        observer = self._env.observer
        if observer is not None and before != after:
            observer(
                ConnectionChange(
                    self.client_id, company.render(self._now()), connection, before, after
                )
            )
        return connection

    def _touched(self, company: CompanyRecord) -> None:
        """Mark ``company`` (or something under it) changed, for the durable copy."""
        changes = self._env.changes
        if changes is not None:
            changes.company(self.client_id, company.id)

    def _settings_touched(self) -> None:
        changes = self._env.changes
        if changes is not None:
            changes.tenant(self.client_id)

    def _sync_summary(self, company: CompanyRecord, record: SyncRecord) -> dict[str, Any]:
        now = self._now()
        return record.sync_summary(now, company.render_connections(now))

    # -- companies ----------------------------------------------------------------------

    @_locked
    def create_company(
        self, name: str, description: str | None = None, tags: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """Create a company and return its Company object."""
        company = self._new_company(name, description, tags)
        return company.render(company.created)  # as it stands at its creation: now

    def _new_company(
        self, name: str, description: str | None, tags: dict[str, str] | None
    ) -> CompanyRecord:
        cleaned = clean_name(name)
        checked_description = check_description(description)
        checked_tags = check_tags(tags or {})
        company = CompanyRecord(
            id=self._env.ids.new_id(),
            name=cleaned,
            created=self._now(),
            description=checked_description,
            tags=checked_tags,
        )
        self._add_company(company)
        self._touched(company)
        return company

    def _add_company(self, company: CompanyRecord) -> None:
        self._companies[company.id] = company
        self._index.add(company)

    @_locked
    def list_companies(self) -> list[dict[str, Any]]:
        """Every company of the tenant, oldest first."""
        now = self._now()
        return [c.render(now) for c in self._companies.values()]

    @_locked
    def company_page(
        self, expr: Expr | None, ordering: Ordering | None, start: int, stop: int
    ) -> tuple[list[dict[str, Any]], int]:
        """The Company objects at ``[start, stop)`` of those matching ``expr`` in
        ``ordering`` (None: oldest first), and how many match; see :mod:`.company_index`."""
        now = self._now()
        return self._index.page(expr, ordering, start, stop, lambda c: c.render(now))

    @_locked
    def active_company_count(self) -> int:
        """Companies with at least one Linked connection: what Codat's rate limits scale by."""
        return sum(
            any(c.status == "Linked" for c in company.connections.values())
            for company in self._companies.values()
        )

    @_locked
    def company(self, company_id: str) -> dict[str, Any]:
        """One Company object; NotFound for an unknown id."""
        return self._company(company_id).render(self._now())

    # -- connections ----------------------------------------------------------------------

    @_locked
    def create_connection(self, company_id: str, platform_key: str) -> dict[str, Any]:
        """Add a ``PendingAuth`` connection to ``platform_key`` and return it."""
        company = self._company(company_id)
        record = self._new_connection(company, platform_key)
        rendered = company.render_connection(record, self._now())
        return self._changed(company, rendered, None, record.status)

    def _new_connection(self, company: CompanyRecord, platform_key: str) -> conn.ConnectionRecord:
        platform = self._env.catalog.platform(platform_key)
        if not platform.enabled:
            raise BadRequest(
                f"Integration {platform_key} is not enabled.",
                validation=[ValidationItem("platformKey", "The integration is disabled.")],
            )
        record = conn.ConnectionRecord(
            id=self._env.ids.new_id(),
            company_id=company.id,
            platform=platform,
            created=self._now(),
        )
        company.connections[record.id] = record
        self._index.connections_changed(company)
        self._touched(company)
        return record

    @_locked
    def list_connections(self, company_id: str) -> list[dict[str, Any]]:
        """The company's connections, oldest first."""
        return self._company(company_id).render_connections(self._now())

    @_locked
    def connection(self, company_id: str, connection_id: str) -> dict[str, Any]:
        """One Connection object; NotFound for an unknown company or connection."""
        company = self._company(company_id)
        return company.render_connection(company.connection(connection_id), self._now())

    @_locked
    def update_connection(
        self, company_id: str, connection_id: str, status: str | None
    ) -> dict[str, Any]:
        """Change a connection's status (only ``Linked`` -> ``Unlinked``; ``None`` is no change)."""
        company = self._company(company_id)
        record = company.connection(connection_id)
        before = record.status
        conn.apply_status_change(record, status)
        self._touched(company)
        rendered = company.render_connection(record, self._now())
        return self._changed(company, rendered, before, record.status)

    @_locked
    def update_connection_authorization(
        self, company_id: str, connection_id: str, auth: dict[str, str]
    ) -> dict[str, Any]:
        """Supply authorization for a connection, which links it (from any status)."""
        company = self._company(company_id)
        record = company.connection(connection_id)
        before = record.status
        conn.authorize(record, auth)
        self._touched(company)
        rendered = company.render_connection(record, self._now())
        return self._changed(company, rendered, before, record.status)

    @_locked
    def owns_connection(self, company_id: str, connection_id: str) -> bool:
        """Whether this tenant has the connection (the control API looks across tenants)."""
        company = self._companies.get(company_id)
        return company is not None and connection_id in company.connections

    @_locked
    def owns_sync(self, sync_id: str) -> bool:
        """Whether one of this tenant's companies has the sync."""
        return any(r.id == sync_id for c in self._companies.values() for r in c.syncs)

    @_locked
    def deauthorize_connection(self, company_id: str, connection_id: str) -> dict[str, Any]:
        """Control API: mark a connection ``Deauthorized``, as if the platform revoked access."""
        company = self._company(company_id)
        record = company.connection(connection_id)
        before = record.status
        conn.deauthorize(record)
        self._touched(company)
        rendered = company.render_connection(record, self._now())
        return self._changed(company, rendered, before, record.status)

    @_locked
    def delete_connection(self, company_id: str, connection_id: str) -> dict[str, Any]:
        """Control API: remove a connection; returns it as it was just before."""
        company = self._company(company_id)
        record = company.connection(connection_id)
        rendered = company.render_connection(record, self._now())
        del company.connections[connection_id]
        self._touched(company)
        return self._changed(company, rendered, record.status, None)

    # -- configuration --------------------------------------------------------------------

    @_locked
    def configuration(self, company_id: str) -> dict[str, Any]:
        """The company's Configuration object."""
        return render_configuration(self._env.configuration, self._company(company_id))

    @_locked
    def set_configuration(self, company_id: str) -> dict[str, Any]:
        """Mark the company configured and enabled; Conflict while one of its syncs runs."""
        company = self._company(company_id)
        check_configurable(company, self._now())
        company.configured = True
        self._touched(company)
        return render_configuration(self._env.configuration, company)

    # -- syncs ----------------------------------------------------------------------------

    @_locked
    def request_sync(self, company_id: str, sync_to: datetime | None = None) -> dict[str, Any]:
        """Start a sync from where the company was last synced up to ``sync_to`` (or now).

        The range starts at the latest finish among the company's successful syncs; with none,
        at the default configuration's schedule ``startDate``; with no such date, one calendar
        month before now.
        """
        company = self._company(company_id)
        now = self._now()
        start = (
            synced_up_to(company.syncs, now)
            or schedule_start(self._env.fixtures.configuration)
            or one_month_before(now)
        )
        finish = as_utc(sync_to) if sync_to is not None else now
        return self._start_sync(company, start, finish)

    @_locked
    def request_sync_for_date_range(
        self, company_id: str, start: datetime, finish: datetime
    ) -> dict[str, Any]:
        """Start a sync of exactly ``[start, finish)``."""
        company = self._company(company_id)
        return self._start_sync(company, as_utc(start), as_utc(finish))

    def _start_sync(
        self, company: CompanyRecord, start: datetime, finish: datetime
    ) -> dict[str, Any]:
        now = self._now()
        start, finish = check_range(company.syncs, start, finish, now)
        record = SyncRecord(
            id=self._env.ids.new_id(),
            company_id=company.id,
            requested_at=now,
            duration=self._env.sync_duration,
            start=start,
            finish=finish,
        )
        company.syncs.append(record)
        self._touched(company)
        return self._sync_summary(company, record)

    @_locked
    def sync_status(self, company_id: str) -> dict[str, Any]:
        """The SyncStatus of the company's latest sync; NotFound when it has none."""
        company = self._company(company_id)
        if not company.syncs:
            raise no_syncs(company_id)
        now = self._now()
        return company.syncs[-1].sync_status(now, company.render_connections(now))

    @_locked
    def latest_sync(self, company_id: str) -> dict[str, Any]:
        """The CompanySyncStatus of the company's latest sync; NotFound when it has none."""
        company = self._company(company_id)
        if not company.syncs:
            raise no_syncs(company_id)
        return company.syncs[-1].company_sync_status(self._now())

    @_locked
    def last_successful_sync(self, company_id: str) -> dict[str, Any]:
        """The CompanySyncStatus of the latest sync that succeeded; NotFound when none has."""
        company = self._company(company_id)
        now = self._now()
        record = latest_successful(company.syncs, now)
        if record is None:
            raise no_successful_sync(company_id)
        return record.company_sync_status(now)

    @_locked
    def sync(self, company_id: str, sync_id: str) -> dict[str, Any]:
        """The CompanySyncStatus of one sync; NotFound for an unknown id."""
        company = self._company(company_id)
        for record in company.syncs:
            if record.id == sync_id:
                return record.company_sync_status(self._now())
        raise sync_not_found(sync_id)

    @_locked
    def list_syncs(self, company_id: str) -> list[dict[str, Any]]:
        """The CompanySyncStatus of every sync of the company, newest first."""
        company = self._company(company_id)
        now = self._now()
        return [record.company_sync_status(now) for record in reversed(company.syncs)]

    @_locked
    def force_sync_outcome(
        self, sync_id: str, status_code: int, message: str | None = None
    ) -> dict[str, Any]:
        """Control API: fix a sync's outcome to any documented status code, from now on."""
        for company in self._companies.values():
            for record in company.syncs:
                if record.id == sync_id:
                    if message is not None:
                        check_length(message, "message", MAX_MESSAGE)
                    now = self._now()
                    record.force(status_code, message, now)
                    self._touched(company)
                    return record.company_sync_status(now)
        raise sync_not_found(sync_id)

    # -- Sync Flow settings ---------------------------------------------------------------

    @_locked
    def texts(self, locale: str) -> dict[str, Any]:
        """The LocalizationInfo of ``locale``: defaults overlaid by this tenant's changes."""
        return self._texts.texts(locale)

    @_locked
    def update_texts(self, locale: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Patch the texts of ``locale`` (``null`` resets a key); returns the result."""
        updated = self._texts.update(locale, changes)
        self._settings_touched()
        return updated

    @_locked
    def visible_accounts(self, platform_key: str) -> dict[str, Any]:
        """The VisibleAccounts of ``platform_key``; NotFound for an unknown platform."""
        self._env.catalog.platform(platform_key)
        return self._visible.get(platform_key)

    @_locked
    def update_visible_accounts(
        self, platform_key: str, visible: list[str] | None
    ) -> dict[str, Any]:
        """Replace the visible accounts of ``platform_key`` (``None`` resets to the default)."""
        self._env.catalog.platform(platform_key)
        updated = self._visible.update(platform_key, visible)
        self._settings_touched()
        return updated

    # -- Sync Flow --------------------------------------------------------------------------

    @_locked
    def sync_flow_url(
        self,
        commerce_key: str,
        accounting_key: str,
        merchant_identifier: str | None,
        redirect_url: str | None = None,
    ) -> dict[str, Any]:
        """A Sync Flow URL with a fresh one-time passcode.

        Codat's operation also sets the merchant up: with a ``merchant_identifier`` the mock
        finds the company it names (by id, else by exact name) or creates one with that name,
        and gives it a connection to each of the two platforms it does not have yet.
        """
        commerce = self._env.catalog.platform(commerce_key)
        accounting = self._env.catalog.platform(accounting_key)
        check_platforms(commerce_key, commerce, accounting_key, accounting)
        # An empty identifier (``?merchantIdentifier=``) names nobody: treat it as absent.
        merchant = merchant_identifier or None
        if merchant is not None:
            company = self._merchant_company(merchant)
            for key in (commerce_key, accounting_key):
                if all(c.platform.key != key for c in company.connections.values()):
                    self._new_connection(company, key)
        params: list[tuple[str, str]] = []
        if merchant is not None:
            params.append(("merchantIdentifier", merchant))
        params.append(("otp", self._env.ids.otp()))
        if self._env.changes is not None:
            self._env.changes.meta()
        if redirect_url is not None:
            params.append(("redirectUrl", redirect_url))
        return {"url": sync_flow_link(self.client_id, commerce_key, accounting_key, params)}

    def _merchant_company(self, merchant_identifier: str) -> CompanyRecord:
        found = self._companies.get(merchant_identifier.lower())  # ids are case-insensitive
        if found is not None:
            return found
        # Company names lose forbidden characters when created, so match on the cleaned form.
        name = merchant_company_name(merchant_identifier)
        for company in self._companies.values():
            if company.name in (merchant_identifier, name):
                return company
        return self._new_company(name, None, None)

    # -- the dashboard's view -----------------------------------------------------------------

    @_locked
    def overview(self, limit: int) -> dict[str, Any]:
        """The newest ``limit`` companies as they stand now (newest first), each with its
        configuration and its syncs (newest first, with their timing), and how many there are
        in all: what the dashboard's World page shows."""
        now = self._now()
        newest = itertools.islice(reversed(self._companies.values()), limit)
        return {
            "clientId": self.client_id,
            "companyCount": len(self._companies),
            "companies": [
                {
                    **company.render(now),
                    "configuration": render_configuration(self._env.configuration, company),
                    "syncs": [record.overview(now) for record in reversed(company.syncs)],
                }
                for company in newest
            ],
        }

    # -- snapshots --------------------------------------------------------------------------

    @_locked
    def to_json(self) -> dict[str, Any]:
        """A JSON-able snapshot of the whole tenant."""
        return {
            "clientId": self.client_id,
            "companies": [c.to_json() for c in self._companies.values()],
            "texts": self._texts.to_json(),
            "visibleAccounts": self._visible.to_json(),
        }

    def company_json(self, company_id: str) -> dict[str, Any] | None:
        """One company's snapshot (as in :meth:`to_json`), or ``None`` when it is not here."""
        company = self._companies.get(company_id)
        return company.to_json() if company is not None else None

    def company_ids(self) -> list[str]:
        """The ids of the tenant's companies, oldest first."""
        return list(self._companies)

    def companies_json(self) -> list[dict[str, Any]]:
        """Every company's snapshot, oldest first."""
        return [company.to_json() for company in self._companies.values()]

    def settings_json(self) -> dict[str, Any]:
        """The tenant's own settings (texts and visible accounts), as in :meth:`to_json`."""
        return {"texts": self._texts.to_json(), "visibleAccounts": self._visible.to_json()}

    def held_ids(self) -> list[str]:
        """Every company, connection and sync id the tenant holds."""
        found: list[str] = []
        for company in self._companies.values():
            found.append(company.id)
            found.extend(company.connections)
            found.extend(record.id for record in company.syncs)
        return found

    @classmethod
    def from_stored(
        cls,
        client_id: str,
        settings: dict[str, Any],
        companies: list[CompanyRecord],
        env: Environment,
    ) -> Tenant:
        """A tenant from a state file's records (see :mod:`mockserver.store.stored`)."""
        tenant = cls(client_id, env)
        tenant._companies = {company.id: company for company in companies}
        tenant._index.add_all(companies)
        tenant._texts.load_json(settings.get("texts", {}), "texts")
        tenant._visible.load_json(settings.get("visibleAccounts", {}), "visibleAccounts")
        return tenant

    @classmethod
    def from_json(cls, data: object, env: Environment, at: str = "tenant") -> Tenant:
        """Rebuild a tenant from :meth:`to_json` output, checking every field (SnapshotError
        names the one that is wrong)."""
        fields = Fields(data, at)
        client_id = fields.text("clientId", MAX_LABEL)
        if not client_id.strip():
            raise SnapshotError(fields.path("clientId"), "must not be empty")
        tenant = cls(client_id, env)
        for i, item in fields.items("companies"):
            where = join(fields.path("companies"), i)
            company = CompanyRecord.from_json(item, where)
            if company.id in tenant._companies:
                raise SnapshotError(f"{where}.id", f"{company.id} appears twice")
            tenant._companies[company.id] = company
        tenant._index.add_all(list(tenant._companies.values()))
        tenant._texts.load_json(fields.mapping("texts", {}), fields.path("texts"))
        tenant._visible.load_json(
            fields.mapping("visibleAccounts", {}), fields.path("visibleAccounts")
        )
        return tenant
