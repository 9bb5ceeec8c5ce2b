"""codat-mock: a stateful mock server and contract-testing toolkit for Codat Sync for Commerce."""

from __future__ import annotations

__version__ = "0.1.0"
