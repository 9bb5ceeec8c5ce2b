"""The integration catalog: which platforms exist, and their branding. Shared by all tenants.

The catalog is read-only seed data (from :class:`mockserver.fixtures.Fixtures`). It also
fills, deterministically, the ids the contract requires on a Connection (``integrationId``,
``sourceId``, ``sourceType``) when a fixture's Integration leaves them out, so a connection to
any listed platform is always valid.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from mockserver.errors import NotFound
from mockserver.fixtures import Fixtures
from mockserver.store.ids import stable_id

#: Source types an Integration or Connection may carry (the contract's ``sourceType`` enum).
SOURCE_TYPES = ("Accounting", "Banking", "BankFeed", "Commerce", "Expense", "Other", "Unknown")


@dataclass(slots=True, frozen=True)
class Platform:
    """What a connection needs to know about its integration."""

    key: str
    name: str
    integration_id: str
    source_id: str
    source_type: str
    enabled: bool


def integration_not_found(platform_key: str) -> NotFound:
    """The error for a platform key the catalog does not list."""
    return NotFound(f"No integration was found with key {platform_key}")


class Catalog:
    """Read-only access to the integrations and branding in the fixtures."""

    def __init__(self, fixtures: Fixtures) -> None:
        # Keep our own copies: callers get copies too, so nothing outside can change the seed.
        self._integrations: dict[str, dict[str, Any]] = {
            str(item["key"]): copy.deepcopy(item) for item in fixtures.integrations
        }
        self._branding = copy.deepcopy(fixtures.branding)

    def list_integrations(self) -> list[dict[str, Any]]:
        """Every Integration object, in fixture order."""
        return [copy.deepcopy(item) for item in self._integrations.values()]

    def integration(self, platform_key: str) -> dict[str, Any]:
        """The Integration object for ``platform_key``; NotFound for an unknown key."""
        return copy.deepcopy(self._require(platform_key))

    def has(self, platform_key: str) -> bool:
        """Whether ``platform_key`` names a listed integration."""
        return platform_key in self._integrations

    def branding(self, platform_key: str) -> dict[str, Any]:
        """The Branding object for ``platform_key``; NotFound for an unknown key.

        A listed integration without branding in the fixtures gets one built from its
        ``logoUrl``, so every integration the list shows has branding too.
        """
        integration = self._require(platform_key)
        found = self._branding.get(platform_key)
        if found is not None:
            return copy.deepcopy(found)
        image = {"image": {"src": integration["logoUrl"], "alt": f"{integration['name']} logo"}}
        return {
            "logo": {"full": copy.deepcopy(image), "square": copy.deepcopy(image)},
            "button": {"default": copy.deepcopy(image), "hover": copy.deepcopy(image)},
            "sourceId": self.platform(platform_key).source_id,
        }

    def platform(self, platform_key: str) -> Platform:
        """The connection-facing facts of ``platform_key``; NotFound for an unknown key."""
        item = self._require(platform_key)
        source_type = item.get("sourceType")
        return Platform(
            key=platform_key,
            name=str(item["name"]),
            integration_id=str(item.get("integrationId") or stable_id("integration", platform_key)),
            source_id=str(item.get("sourceId") or stable_id("source", platform_key)),
            source_type=source_type if source_type in SOURCE_TYPES else "Unknown",
            enabled=bool(item.get("enabled", True)),
        )

    def _require(self, platform_key: str) -> dict[str, Any]:
        item = self._integrations.get(platform_key)
        if item is None:
            raise integration_not_found(platform_key)
        return item
