"""Data connections, their authorization, and the sync flow URL."""

from __future__ import annotations

from typing import Any

from mockserver.errors import BadRequest, ValidationItem
from mockserver.handlers.listing import page_of
from mockserver.handlers.registry import Call

__all__ = [
    "create_connection",
    "get_sync_flow_url",
    "list_connections",
    "update_connection",
    "update_connection_authorization",
]


def list_connections(call: Call) -> Any:
    records = call.tenant.list_connections(call.path["companyId"])
    return page_of(call, records, "Connection", "Connection")


def create_connection(call: Call) -> Any:
    body = call.body if isinstance(call.body, dict) else {}
    platform_key = body.get("platformKey")
    if not platform_key:
        raise BadRequest(
            "Error processing request - not valid.",
            validation=[
                ValidationItem("body.platformKey", "a platformKey is required", "contract")
            ],
        )
    return call.tenant.create_connection(call.path["companyId"], platform_key)


def update_connection(call: Call) -> Any:
    body = call.body if isinstance(call.body, dict) else {}
    return call.tenant.update_connection(
        call.path["companyId"], call.path["connectionId"], body.get("status")
    )


def update_connection_authorization(call: Call) -> Any:
    body = call.body if isinstance(call.body, dict) else {}
    return call.tenant.update_connection_authorization(
        call.path["companyId"], call.path["connectionId"], body
    )


def get_sync_flow_url(call: Call) -> Any:
    return call.tenant.sync_flow_url(
        call.path["commerceKey"],
        call.path["accountingKey"],
        call.query.get("merchantIdentifier"),
        redirect_url=call.extra_query.get("redirectUrl"),
    )
