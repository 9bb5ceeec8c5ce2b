"""codat-mock: a stateful mock server and contract-testing toolkit for Codat Sync for Commerce.

from mockserver import MockServer

with MockServer() as mock:
    ...  # point a client at mock.url
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["MockServer", "Settings", "create_app"]

if TYPE_CHECKING:
    from mockserver.app import create_app
    from mockserver.server import MockServer
    from mockserver.settings import Settings


def __getattr__(name: str) -> Any:
    # Imported on first use: the pytest plugin loads this package in every test session, and
    # a session that never starts a mock should not pay for uvicorn and Starlette.
    if name == "MockServer":
        from mockserver.server import MockServer

        return MockServer
    if name == "Settings":
        from mockserver.settings import Settings

        return Settings
    if name == "create_app":
        from mockserver.app import create_app

        return create_app
    raise AttributeError(f"module 'mockserver' has no attribute {name!r}")
