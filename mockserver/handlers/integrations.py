"""The integrations catalogue and each integration's branding (shared by every client)."""

from __future__ import annotations

from typing import Any

from mockserver.handlers.listing import page_of
from mockserver.handlers.registry import Call

__all__ = ["get_integration_branding", "list_integrations"]


def list_integrations(call: Call) -> Any:
    return page_of(call, call.world.catalog.list_integrations(), "Integration", "Integration")


def get_integration_branding(call: Call) -> Any:
    return call.world.catalog.branding(call.path["platformKey"])
