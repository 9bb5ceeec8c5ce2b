"""The mock's domain state: plain Python, no HTTP.

:class:`World` holds every tenant; :meth:`World.tenant` gives the :class:`Tenant` facade the
handlers call. Everything returned is JSON-ready (the contract's camelCase shapes) and every
failure is a :mod:`mockserver.errors` exception.
"""

from __future__ import annotations

from mockserver.store.catalog import Catalog
from mockserver.store.environment import ConnectionChange, ConnectionObserver
from mockserver.store.restore import SnapshotError
from mockserver.store.syncs import STATUS_CODES, StatusCode
from mockserver.store.tenant import Tenant
from mockserver.store.world import World

__all__ = [
    "STATUS_CODES",
    "Catalog",
    "ConnectionChange",
    "ConnectionObserver",
    "SnapshotError",
    "StatusCode",
    "Tenant",
    "World",
]
