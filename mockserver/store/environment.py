"""What every tenant of one world shares, and the change a tenant reports to the world.

:class:`Environment` is handed to each :class:`~mockserver.store.tenant.Tenant`: fixtures,
catalog, clock, RNG, ids and the lock, plus whoever listens for connection changes and the
marks a durable copy writes from.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mockserver.clock import Clock
from mockserver.fixtures import Fixtures
from mockserver.store.catalog import Catalog
from mockserver.store.changes import Changes
from mockserver.store.ids import IdSource


@dataclass(slots=True)
class Environment:
    """What every tenant of one world shares."""

    fixtures: Fixtures
    catalog: Catalog
    clock: Clock
    rng: random.Random
    #: Hands out every company, connection and sync id (drawn from ``rng``).
    ids: IdSource
    lock: threading.RLock
    #: Seconds a newly requested sync takes to complete.
    sync_duration: float
    #: The default configuration, serialized once (see configuration_template).
    configuration: bytes
    #: Told of every connection change (the app turns them into webhooks).
    observer: ConnectionObserver | None = None
    #: Marks of what changed, for a durable copy (``--state``); ``None`` without one.
    changes: Changes | None = None


@dataclass(slots=True, frozen=True)
class ConnectionChange:
    """A connection was created (``before`` None), changed status, or deleted (``after``
    None). ``company`` and ``connection`` are the JSON objects as they stand after it (the
    connection as it last was, for a deletion)."""

    client_id: str
    company: dict[str, Any]
    connection: dict[str, Any]
    before: str | None
    after: str | None


ConnectionObserver = Callable[[ConnectionChange], None]
