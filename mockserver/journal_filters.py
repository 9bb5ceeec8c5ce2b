"""The filters of ``GET /_mock/requests`` beyond the journal's own: what a dashboard or a
script needs to find requests without reading them all.

========================  ==========================================================
``clientId=ID``           one tenant's requests
``statusClass=4xx``       ``1xx`` to ``5xx`` by the status sent; ``none`` for the ones
                          that got no response (a dropped connection)
``faulted=true``          only the requests a fault rule fired on (``false``: none)
``touches=TEXT``          the path, query or either body contains TEXT (an id, say)
``sinceSeq=N``            only requests that arrived after request N (for pollers)
``limit=N``               the newest N of what is left (still oldest first)
========================  ==========================================================
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from mockserver.control_kit import invalid
from mockserver.journal import JournalEntry

Check = Callable[[JournalEntry], bool]
_CLASSES = ("1xx", "2xx", "3xx", "4xx", "5xx", "none")


def _whole_number(params: Mapping[str, str], name: str) -> int | None:
    value = params.get(name)
    if value is None:
        return None
    if not (value.isascii() and value.isdigit()):
        raise invalid(name, f"{name} takes a whole number, zero or more")
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


def narrow_requests(
    entries: Sequence[JournalEntry], params: Mapping[str, str]
) -> list[JournalEntry]:
    """``entries`` (oldest first) cut down by the filters in ``params``; 400 on a bad one."""
    checks: list[Check] = []
    client_id = params.get("clientId")
    if client_id is not None:
        checks.append(lambda entry: entry.client_id == client_id)
    if "statusClass" in params:
        checks.append(_status_class(params["statusClass"]))
    if "faulted" in params:
        checks.append(_faulted(params["faulted"]))
    if params.get("touches"):
        checks.append(_touches(params["touches"]))
    since_seq = _whole_number(params, "sinceSeq")
    if since_seq is not None:
        checks.append(lambda entry: entry.seq > since_seq)
    limit = _whole_number(params, "limit")
    kept = [entry for entry in entries if all(check(entry) for check in checks)]
    if limit is not None:
        kept = kept[len(kept) - limit :] if limit else []
    return kept
