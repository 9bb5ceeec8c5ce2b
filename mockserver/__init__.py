"""codat-mock: a stateful mock server and contract-testing toolkit for Codat Sync for Commerce.

from mockserver import MockServer

with MockServer() as mock:
    sdk = mock.sdk()  # or point any client at mock.url
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = [
    "CodatMockError",
    "FaultRule",
    "JournalEntry",
    "MockServer",
    "Settings",
    "authorization_for",
    "create_app",
]

if TYPE_CHECKING:
    from mockserver.app import create_app
    from mockserver.auth import authorization_for
    from mockserver.errors import CodatMockError
    from mockserver.faults.rules import FaultRule
    from mockserver.journal import JournalEntry
    from mockserver.server import MockServer
    from mockserver.settings import Settings

# Where each public name lives. They are imported on first use: the pytest plugin loads this
# package in every test session, and a session that never starts a mock should not pay for
# uvicorn, Starlette and pydantic.
_HOMES = {
    "CodatMockError": "mockserver.errors",
    "FaultRule": "mockserver.faults.rules",
    "JournalEntry": "mockserver.journal",
    "MockServer": "mockserver.server",
    "Settings": "mockserver.settings",
    "authorization_for": "mockserver.auth",
    "create_app": "mockserver.app",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'mockserver' has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
