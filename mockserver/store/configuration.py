"""A company's Sync for Commerce configuration, built from the fixture default.

Every company shows the fixture's default Configuration with its own ``companyId``. The mock
keeps one piece of per-company state, whether ``set-configuration`` has been called:
``configured`` and ``enable`` are both ``False`` before it and both ``True`` after it, whatever
the fixture says. ``accountingSoftwareCompanyName`` names the platform of the company's
accounting connection (a linked one first); with no accounting connection the field is left out
rather than invented.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from mockserver.clock import parse_datetime
from mockserver.errors import Conflict
from mockserver.store.companies import CompanyRecord
from mockserver.store.connections import ConnectionRecord
from mockserver.store.instants import as_utc


def accounting_connection(company: CompanyRecord) -> ConnectionRecord | None:
    """The company's accounting connection: the first linked one, else the first at all."""
    accounting = [c for c in company.connections.values() if c.platform.source_type == "Accounting"]
    linked = [c for c in accounting if c.status == "Linked"]
    candidates = linked or accounting
    return candidates[0] if candidates else None


def check_configurable(company: CompanyRecord, now: datetime) -> None:
    """Conflict while one of the company's syncs runs: its configuration waits for the end."""
    if any(record.state(now).in_progress for record in company.syncs):
        raise Conflict(
            f"A sync is in progress for company {company.id}; "
            "its configuration can be changed once the sync has finished."
        )


def configuration_template(default: dict[str, Any]) -> bytes:
    """The default configuration, serialized once: reading a fresh copy back from JSON is
    about ten times faster than a deep copy, and every answer needs a copy of its own."""
    return orjson.dumps(default)


def render_configuration(template: bytes, company: CompanyRecord) -> dict[str, Any]:
    """The contract's Configuration object for ``company`` (``template`` from
    :func:`configuration_template`)."""
    config: dict[str, Any] = orjson.loads(template)
    config["companyId"] = company.id
    accounting = accounting_connection(company)
    if accounting is not None:
        config["accountingSoftwareCompanyName"] = accounting.platform.name
    else:
        config.pop("accountingSoftwareCompanyName", None)
    config["configured"] = company.configured
    config["enable"] = company.configured
    return config


def schedule_start(default: dict[str, Any]) -> datetime | None:
    """The schedule's ``startDate`` from the default configuration, if it has a usable one."""
    schedule = default.get("schedule")
    if not isinstance(schedule, dict):
        return None
    start = schedule.get("startDate")
    if not isinstance(start, str):
        return None
    try:
        return as_utc(parse_datetime(start))
    except ValueError:
        # A malformed fixture date is the fixture loader's business; here it just means
        # "no configured start", and the caller falls back to its own default.
        return None
