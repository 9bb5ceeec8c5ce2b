"""Sync flow settings: the UI texts per locale and the visible accounts per platform."""

from __future__ import annotations

from typing import Any

from mockserver.errors import NotFound
from mockserver.handlers.registry import Call

__all__ = [
    "get_config_text_sync_flow",
    "get_visible_accounts",
    "update_config_text_sync_flow",
    "update_visible_accounts_sync_flow",
]


def get_config_text_sync_flow(call: Call) -> Any:
    return call.tenant.texts(call.query["locale"])


def update_config_text_sync_flow(call: Call) -> Any:
    body = call.body if isinstance(call.body, dict) else {}
    return call.tenant.update_texts(call.query["locale"], body)


def get_visible_accounts(call: Call) -> Any:
    # The GET path names the client; another client's id is as unknown as a made-up one.
    if call.path["clientId"].lower() != call.client.client_id:
        raise NotFound(f"No client was found with ID {call.path['clientId']}")
    return call.tenant.visible_accounts(call.path["platformKey"])


def update_visible_accounts_sync_flow(call: Call) -> Any:
    body = call.body if isinstance(call.body, dict) else {}
    return call.tenant.update_visible_accounts(
        call.path["platformKey"], body.get("visibleAccounts")
    )
