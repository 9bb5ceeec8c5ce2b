"""The query of ``GET /_mock/requests``: which entries, and how many.

========================  ==========================================================
``operationId=ID``        one operation's requests
``status=N``              the status sent
``since=ISO``             arrived at or after this time on the mock clock (ISO 8601;
                          no zone means UTC)
``clientId=ID``           one tenant's requests
``statusClass=4xx``       ``1xx`` to ``5xx`` by the status sent; ``none`` for the ones
                          that got no response (a dropped connection)
``faulted=true``          only the requests a fault rule fired on (``false``: none)
``touches=TEXT``          the path, query or either body contains TEXT (an id, say)
``sinceSeq=N``            only requests that arrived after request N (for pollers)
``limit=N``               the newest N of what is left, still oldest first (default
                          100, at most 10,000: the journal's size)
========================  ==========================================================

The first group and ``sinceSeq`` are answered from the journal's compact rows; the rest
test typed entries, newest first, only until the window is full.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from mockserver.clock import parse_datetime
from mockserver.control_kit import invalid
from mockserver.journal import JournalEntry

#: ``GET /_mock/requests`` answers at most this many entries unless ``limit`` says otherwise.
DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000

Check = Callable[[JournalEntry], bool]
_CLASSES = ("1xx", "2xx", "3xx", "4xx", "5xx", "none")


def _whole_number(params: Mapping[str, str], name: str, most: int) -> int | None:
    value = params.get(name)
    if value is None:
        return None
    # The length bound keeps int() away from its digit limit (a 500) on absurd input.
    if not (value.isascii() and value.isdigit() and len(value) <= 19 and int(value) <= most):
        raise invalid(name, f"{name} takes a whole number from 0 to {most}")
    return int(value)


def _status_class(value: str) -> Check:
    if value not in _CLASSES:
        raise invalid("statusClass", f"statusClass is one of {', '.join(_CLASSES)}")
    if value == "none":
        return lambda entry: entry.status is None or entry.dropped is not None
    hundreds = int(value[0])
    return lambda entry: (
        entry.dropped is None and entry.status is not None and entry.status // 100 == hundreds
    )


def _faulted(value: str) -> Check:
    if value not in ("true", "false"):
        raise invalid("faulted", "faulted takes true or false")
    wanted = value == "true"
    return lambda entry: (entry.fault_id is not None) == wanted


def _touches(text: str) -> Check:
    return lambda entry: (
        text in entry.path
        or text in entry.query
        or text in entry.request_body
        or text in entry.response_body
    )


def _all_of(checks: list[Check]) -> Check | None:
    if not checks:
        return None
    return lambda entry: all(check(entry) for check in checks)


def request_filters(params: Mapping[str, str]) -> dict[str, Any]:
    """The keyword arguments of :meth:`Journal.page` that ``params`` ask for; 400 on a bad one."""
    filters: dict[str, Any] = {}
    if "operationId" in params:
        filters["operation_id"] = params["operationId"]
    if "status" in params:
        if not (params["status"].isascii() and params["status"].isdigit()):
            raise invalid("status", "status takes an HTTP status code")
        filters["status"] = int(params["status"])
    if "since" in params:
        try:
            filters["since"] = parse_datetime(params["since"])
        except ValueError:
            raise invalid("since", "since takes an ISO 8601 date-time on the mock clock") from None
    if "clientId" in params:
        filters["client_id"] = params["clientId"]
    filters["since_seq"] = _whole_number(params, "sinceSeq", 2**63 - 1)
    limit = _whole_number(params, "limit", MAX_LIMIT)
    filters["limit"] = DEFAULT_LIMIT if limit is None else limit
    checks: list[Check] = []
    if "statusClass" in params:
        checks.append(_status_class(params["statusClass"]))
    if "faulted" in params:
        checks.append(_faulted(params["faulted"]))
    if params.get("touches"):
        checks.append(_touches(params["touches"]))
    filters["where"] = _all_of(checks)
    return filters
