"""The verdict on what a client did: retries, backoff, Retry-After, duplicated creates.

A chaos test injects faults, lets the client under test do its work, then asserts on this
report. It reads only the journal, so it judges the client by what went over the wire:

* A *logical call* is one thing the client meant to do: a run of attempts with the same
  method, path, query and body, in which every attempt but the last failed in a way worth
  retrying (a drop, 408, 429 or 5xx) and each attempt followed the previous one within the
  window. A success or a non-retryable answer ends the run.
* A *gap* is how long the client waited: from the end of one attempt (its last byte sent)
  to the arrival of the next, in real seconds. Negative gaps mean the client retried before
  the previous attempt had ended (typically a client-side timeout).
* A *duplicate* is the same create committed two or more times within the window. A commit
  counts even when the client never saw it, because an ``after`` fault replaced the answer:
  that is exactly the lost response that makes a blind retry create things twice.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import timedelta
from itertools import pairwise
from typing import Any

from mockserver.journal import JournalEntry

DEFAULT_CREATE_OPERATIONS = frozenset(
    {"create-company", "create-connection", "request-sync", "request-sync-for-date-range"}
)

#: Slack when judging Retry-After: the server notes an attempt's end a moment after the
#: last byte leaves, so a client that waited exactly the asked time can measure a hair short.
RETRY_AFTER_SLACK_SECONDS = 0.01

_RETRYABLE_STATUSES = frozenset({408, 429})

GroupKey = tuple[str | None, str | None]


def seen_status(entry: JournalEntry) -> int | None:
    """The status the client effectively got: None when the connection was dropped."""
    return None if entry.dropped is not None else entry.status


def is_retryable_failure(entry: JournalEntry) -> bool:
    """Whether the client saw a failure that retry logic is expected to retry."""
    status = seen_status(entry)
    return status is None or status in _RETRYABLE_STATUSES or status >= 500


def committed(entry: JournalEntry) -> bool:
    """Whether the handler succeeded, whatever the client got to see."""
    if entry.handler_status is not None:
        return 200 <= entry.handler_status < 300
    status = seen_status(entry)
    return status is not None and 200 <= status < 300


def gap_seconds(previous: JournalEntry, following: JournalEntry) -> float:
    """Real seconds from the end of ``previous`` to the arrival of ``following``."""
    ended = previous.wall_at + timedelta(milliseconds=previous.duration_ms)
    return round((following.wall_at - ended).total_seconds(), 3)


def retry_after_seconds(value: str | None) -> float | None:
    """A ``Retry-After`` header in delay-seconds form (None when absent or another form)."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def _call_key(entry: JournalEntry) -> tuple[str, str, str, str, bool]:
    return (
        entry.method,
        entry.path,
        entry.query,
        entry.request_body,
        entry.request_body_truncated,
    )


def _split_calls(group: Sequence[JournalEntry], window_seconds: float) -> list[list[JournalEntry]]:
    """Cut one group's entries (in arrival order) into logical calls."""
    calls: list[list[JournalEntry]] = []
    # Runs that a further attempt may still join, by call key. A client may interleave
    # several calls (say, two pages of a list), so more than one run can be open at once.
    open_runs: dict[tuple[str, str, str, str, bool], list[JournalEntry]] = {}
    for entry in group:
        key = _call_key(entry)
        run = open_runs.get(key)
        if run is None or gap_seconds(run[-1], entry) > window_seconds:
            run = []
            calls.append(run)
        run.append(entry)
        if is_retryable_failure(entry):
            open_runs[key] = run
        else:
            open_runs.pop(key, None)
    return calls


def _logical_call(attempts: Sequence[JournalEntry]) -> dict[str, Any]:
    gaps: list[float] = []
    asked: list[float | None] = []
    honoured: list[bool | None] = []
    for previous, following in pairwise(attempts):
        gap = gap_seconds(previous, following)
        wait = retry_after_seconds(previous.retry_after)
        gaps.append(gap)
        asked.append(wait)
        honoured.append(None if wait is None else gap >= wait - RETRY_AFTER_SLACK_SECONDS)
    judged = [verdict for verdict in honoured if verdict is not None]
    first, last = attempts[0], attempts[-1]
    outcome = seen_status(last)
    # Where each attempt starts and how long it lasts, for a timeline of the call.
    starts = [round((entry.wall_at - first.wall_at).total_seconds(), 3) for entry in attempts]
    return {
        "method": first.method,
        "path": first.path,
        "query": first.query,
        "seqs": [entry.seq for entry in attempts],
        "attempts": len(attempts),
        "statuses": [seen_status(entry) for entry in attempts],
        "faultIds": [entry.fault_id for entry in attempts],
        "gapsSeconds": gaps,
        "retryAfterSeconds": asked,
        "retryAfterHonouredPerGap": honoured,
        "retryAfterHonoured": all(judged) if judged else None,
        "outcome": outcome,
        "succeeded": outcome is not None and 200 <= outcome < 300,
        # The client stopped while its last attempt still failed in a retryable way.
        "gaveUp": is_retryable_failure(last),
        "startsSeconds": starts,
        "durationsMs": [round(entry.duration_ms, 3) for entry in attempts],
    }


def _duplicates(
    group_key: GroupKey, group: Sequence[JournalEntry], window_seconds: float
) -> list[dict[str, Any]]:
    """Same create, same body, committed again within the window of the previous commit."""
    by_call: dict[tuple[str, str, str, str, bool], list[JournalEntry]] = defaultdict(list)
    for entry in group:
        if committed(entry):
            by_call[_call_key(entry)].append(entry)
    found: list[dict[str, Any]] = []
    for commits in by_call.values():
        cluster: list[JournalEntry] = []
        for entry in commits:
            if cluster and gap_seconds(cluster[-1], entry) > window_seconds:
                found.extend(_duplicate(group_key, cluster))
                cluster = []
            cluster.append(entry)
        found.extend(_duplicate(group_key, cluster))
    return found


def _duplicate(group_key: GroupKey, cluster: Sequence[JournalEntry]) -> list[dict[str, Any]]:
    if len(cluster) < 2:
        return []
    operation_id, client_id = group_key
    return [
        {
            "operationId": operation_id,
            "clientId": client_id,
            "method": cluster[0].method,
            "path": cluster[0].path,
            "count": len(cluster),
            "seqs": [entry.seq for entry in cluster],
            "requestBody": cluster[0].request_body,
        }
    ]


def _group_order(key: GroupKey) -> tuple[bool, str, bool, str]:
    operation_id, client_id = key
    return (operation_id is None, operation_id or "", client_id is None, client_id or "")


def build_report(
    entries: Sequence[JournalEntry],
    *,
    window_seconds: float = 60.0,
    create_operations: frozenset[str] = DEFAULT_CREATE_OPERATIONS,
) -> dict[str, Any]:
    """Sum up ``entries`` per (operationId, clientId): logical calls, gaps, duplicates.

    The answer is plain JSON data, ordered deterministically: operations by operationId then
    clientId (unknown ones last), logical calls and duplicates by their first arrival.
    """
    groups: dict[GroupKey, list[JournalEntry]] = defaultdict(list)
    for entry in sorted(entries, key=lambda item: item.seq):
        groups[(entry.operation_id, entry.client_id)].append(entry)

    operations: list[dict[str, Any]] = []
    duplicates: list[dict[str, Any]] = []
    logical_calls = retried = 0
    for key in sorted(groups, key=_group_order):
        group = groups[key]
        calls = [_logical_call(run) for run in _split_calls(group, window_seconds)]
        found = _duplicates(key, group, window_seconds) if key[0] in create_operations else []
        duplicates.extend(found)
        logical_calls += len(calls)
        retried += sum(1 for call in calls if call["attempts"] > 1)
        operations.append(
            {
                "operationId": key[0],
                "clientId": key[1],
                "requests": len(group),
                "logicalCalls": calls,
                "maxAttempts": max(call["attempts"] for call in calls),
                "duplicates": len(found),
                "shapes": _shape_counts(group),
            }
        )
    duplicates.sort(key=lambda item: item["seqs"][0])
    return {
        "operations": operations,
        "duplicates": duplicates,
        "totals": {
            "requests": len(entries),
            "logicalCalls": logical_calls,
            "retried": retried,
            "faulted": sum(1 for entry in entries if entry.fault_id is not None),
            "dropped": sum(1 for entry in entries if entry.dropped is not None),
            "duplicates": len(duplicates),
        },
        "shapes": _shape_counts(entries),
    }


def _shape_counts(entries: Sequence[JournalEntry]) -> dict[str, int]:
    """How many answers went out in each response shape (answers with no shape left out)."""
    counts: dict[str, int] = defaultdict(int)
    for entry in entries:
        if entry.shape is not None:
            counts[entry.shape] += 1
    return dict(sorted(counts.items()))


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def text_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Rows under a header, in columns as wide as their widest cell, for a terminal."""
    widths = [len(title) for title in header]
    for row in rows:
        widths = [max(width, len(cell)) for width, cell in zip(widths, row, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            cell.ljust(width) for cell, width in zip(cells, widths, strict=True)
        ).rstrip()

    return [line(header), line(["-" * width for width in widths]), *(line(r) for r in rows)]


def format_report(report: dict[str, Any]) -> str:
    """The report as a plain-text summary for a terminal (``codat-mock report``).

    Works on the JSON form as well, so the CLI can format what ``GET /_mock/report`` returns.
    """
    lines: list[str] = []
    operations = report.get("operations", [])
    if operations:
        rows = [
            [
                _cell(op["operationId"]),
                _cell(op["clientId"]),
                _cell(op["requests"]),
                _cell(len(op["logicalCalls"])),
                _cell(sum(1 for call in op["logicalCalls"] if call["attempts"] > 1)),
                _cell(op["maxAttempts"]),
                _cell(op["duplicates"]),
            ]
            for op in operations
        ]
        header = ["operation", "client", "requests", "calls", "retried", "max", "duplicates"]
        lines += text_table(header, rows)
    else:
        lines.append("No requests recorded.")

    retried = [
        (op, call) for op in operations for call in op["logicalCalls"] if call["attempts"] > 1
    ]
    if retried:
        lines += ["", "Retried calls:"]
        rows = [
            [
                _cell(op["operationId"]),
                f"{call['method']} {call['path']}" + (f"?{call['query']}" if call["query"] else ""),
                _cell(call["attempts"]),
                ",".join(_cell(status) for status in call["statuses"]),
                ",".join(f"{gap:.3f}s" for gap in call["gapsSeconds"]),
                _cell(call["retryAfterHonoured"]),
                _cell(call["outcome"]),
            ]
            for op, call in retried
        ]
        header = [
            "operation",
            "request",
            "attempts",
            "statuses",
            "gaps",
            "retry-after ok",
            "outcome",
        ]
        lines += ["  " + line for line in text_table(header, rows)]

    duplicates = report.get("duplicates", [])
    if duplicates:
        lines += ["", "Duplicates (the same create committed more than once):"]
        for dup in duplicates:
            seqs = ",".join(str(seq) for seq in dup["seqs"])
            lines.append(
                f"  {_cell(dup['operationId'])} by {_cell(dup['clientId'])}: "
                f"{dup['count']} times (requests {seqs}) body {dup['requestBody']}"
            )

    totals = report.get("totals", {})
    shapes = report.get("shapes") or {}
    if shapes:
        lines += ["", "Shapes: " + ", ".join(f"{name} {count}" for name, count in shapes.items())]
    lines += [
        "",
        "Totals: "
        + ", ".join(
            f"{totals.get(name, 0)} {label}"
            for name, label in (
                ("requests", "requests"),
                ("logicalCalls", "logical calls"),
                ("retried", "retried"),
                ("faulted", "faulted"),
                ("dropped", "dropped"),
                ("duplicates", "duplicates"),
            )
        ),
    ]
    return "\n".join(lines) + "\n"
