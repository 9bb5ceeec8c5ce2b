"""Durable state (``--state PATH``): the SQLite file an app's state survives restarts in.

* :mod:`.statefile`: the file itself: layout, schema version, locking, checks at startup;
* :mod:`.durable`: :class:`Durable`, which restores the app's components from the file and
  writes back what changed;
* :mod:`.middleware`: the ASGI layer that writes before each answer leaves.
"""

from __future__ import annotations

from mockserver.persistence.durable import Durable, open_durable
from mockserver.persistence.middleware import DurableMiddleware
from mockserver.persistence.statefile import SCHEMA_VERSION, StateFile, StateFileError

__all__ = [
    "SCHEMA_VERSION",
    "Durable",
    "DurableMiddleware",
    "StateFile",
    "StateFileError",
    "open_durable",
]
