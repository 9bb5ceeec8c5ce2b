"""Requesting syncs and reading their status; all views derive from the same sync records."""

from __future__ import annotations

from typing import Any

from mockserver.clock import ClockRangeError, check_instant, parse_datetime
from mockserver.errors import BadRequest, ValidationItem
from mockserver.handlers.registry import Call

__all__ = [
    "get_last_successful_sync",
    "get_latest_sync",
    "get_sync_by_id",
    "get_sync_status",
    "list_syncs",
    "request_sync",
    "request_sync_for_date_range",
]


def _date(value: Any, where: str) -> Any:
    """A requested date-time, within the mock's calendar (so a snapshot of the sync it
    starts can be restored, and no range end can overflow)."""
    try:
        return check_instant(parse_datetime(str(value)))
    except ClockRangeError as exc:
        raise BadRequest(
            "Error processing request - not valid.",
            validation=[ValidationItem(where, str(exc))],
        ) from None
    except ValueError:
        raise BadRequest(
            "Error processing request - not valid.",
            validation=[ValidationItem(where, f"{value!r} is not a valid date-time", "contract")],
        ) from None


def request_sync(call: Call) -> Any:
    body = call.body if isinstance(call.body, dict) else {}
    sync_to = body.get("syncTo")
    try:
        return call.tenant.request_sync(
            call.path["companyId"], _date(sync_to, "body.syncTo") if sync_to else None
        )
    except BadRequest as err:
        # The store checks the range it derives; its end is the request's syncTo.
        raise err.relocate(lambda item: "body.syncTo" if item == "finish" else item) from None


def request_sync_for_date_range(call: Call) -> Any:
    body = call.body if isinstance(call.body, dict) else {}
    date_range = body.get("dateRange")
    if not isinstance(date_range, dict):
        raise BadRequest(
            "Error processing request - not valid.",
            validation=[ValidationItem("body.dateRange", "a dateRange is required", "contract")],
        )
    try:
        return call.tenant.request_sync_for_date_range(
            call.path["companyId"],
            _date(date_range.get("start"), "body.dateRange.start"),
            _date(date_range.get("finish"), "body.dateRange.finish"),
        )
    except BadRequest as err:
        raise err.relocate(
            lambda item: f"body.dateRange.{item}" if item in ("start", "finish") else item
        ) from None


def get_sync_status(call: Call) -> Any:
    return call.tenant.sync_status(call.path["companyId"])


def get_latest_sync(call: Call) -> Any:
    return call.tenant.latest_sync(call.path["companyId"])


def get_last_successful_sync(call: Call) -> Any:
    return call.tenant.last_successful_sync(call.path["companyId"])


def get_sync_by_id(call: Call) -> Any:
    return call.tenant.sync(call.path["companyId"], call.path["syncId"])


def list_syncs(call: Call) -> Any:
    return call.tenant.list_syncs(call.path["companyId"])
