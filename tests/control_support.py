"""Helpers the control API's tests share (``tests/test_control*.py``)."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from tests.handlers.support import INVALID, create_company, expect_error, ok, request_sync

#: ``GET /_mock/rate-limit`` of a mock started without rate limits.
DEFAULT_LIMITS = {
    "enabled": False,
    "dailyBase": 1000,
    "perCompanyConcurrency": 10,
    "perIpPerMinute": 1000,
}


def invalid(response: Any, field: str, fragment: str) -> None:
    """A 400 from the control API naming ``field``."""
    expect_error(response, 400, INVALID, items=[(field, fragment, "control")])


def journal(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    """The journal's entries, as ``GET /_mock/requests`` answers with ``params``."""
    entries: list[dict[str, Any]] = ok(client.get("/_mock/requests", params=params))["requests"]
    return entries


def synced_company(client: TestClient) -> tuple[str, str]:
    company = create_company(client)
    return company["id"], request_sync(client, company["id"])["commerceSyncId"]
