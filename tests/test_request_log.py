"""Tests of mockserver/request_log.py: the line each Codat request gets, as text and as JSON,
fed by the journal middleware of a real app."""

from __future__ import annotations

import io
import json
import random
import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from starlette.testclient import TestClient

from mockserver.app import create_app
from mockserver.auth import authorization_for, client_id_for
from mockserver.clock import wall_isoformat
from mockserver.faults.rules import parse_fault_string
from mockserver.journal import JournalEntry
from mockserver.request_log import RequestLog
from mockserver.settings import Settings
from mockserver.spec import Spec

KEY = "log-key"
SHORT = client_id_for(KEY)[:8]
AT = datetime(2026, 3, 2, 9, 0, 0, 123000, tzinfo=timezone.utc)


def entry(**fields: object) -> JournalEntry:
    base: dict[str, object] = {
        "seq": 1,
        "mock_at": AT,
        "wall_at": AT,
        "method": "GET",
        "path": "/companies",
        "operation_id": "list-companies",
        "client_id": client_id_for(KEY),
        "status": 200,
        "duration_ms": 1.25,
    }
    base.update(fields)
    return JournalEntry(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fields", "line"),
    [
        ({}, f"2026-03-02T09:00:00.123Z GET /companies 200 list-companies 1.2ms tenant {SHORT}"),
        (
            {"query": "page=2", "status": 503, "fault_id": "rule-1", "fault_action": "status"},
            f"2026-03-02T09:00:00.123Z GET /companies?page=2 503 list-companies 1.2ms "
            f"tenant {SHORT} fault rule-1 status",
        ),
        (
            {"status": None, "fault_id": "r", "fault_action": "drop:reset", "dropped": "reset"},
            f"2026-03-02T09:00:00.123Z GET /companies - list-companies 1.2ms tenant {SHORT} "
            "fault r drop:reset",
        ),
        (
            {"status": 429, "fault_action": "rate-limit:daily"},
            f"2026-03-02T09:00:00.123Z GET /companies 429 list-companies 1.2ms tenant {SHORT} "
            "fault rate-limit:daily",
        ),
        (
            {
                "status": 400,
                "violations": [
                    {"itemId": "query.page", "message": "not an integer"},
                    {"itemId": "query.pageSize", "message": "too big"},
                ],
            },
            f"2026-03-02T09:00:00.123Z GET /companies 400 list-companies 1.2ms tenant {SHORT} "
            "error query.page: not an integer",
        ),
        (
            {"path": "/nowhere\n2026 forged", "operation_id": None, "client_id": None},
            "2026-03-02T09:00:00.123Z GET /nowhere\\n2026 forged 200 - 1.2ms tenant -",
        ),
    ],
)
def test_text_lines(fields: dict[str, object], line: str) -> None:
    assert RequestLog.text_line(entry(**fields)) == line + "\n"


def test_json_lines() -> None:
    text = RequestLog.json_line(entry(query="page=2", status=503, fault_id="rule-1"))
    assert text.endswith("}\n") and text.count("\n") == 1
    assert json.loads(text) == {
        "time": "2026-03-02T09:00:00.123Z",
        "method": "GET",
        "path": "/companies",
        "query": "page=2",
        "status": 503,
        "operationId": "list-companies",
        "ms": 1.25,
        "tenant": SHORT,
        "fault": "rule-1",
        "error": None,
    }


def test_outside_an_event_loop_each_line_is_flushed_at_once() -> None:
    class Counting(io.StringIO):
        flushes = 0

        def flush(self) -> None:
            self.flushes += 1

    stream = Counting()
    log = RequestLog(stream)
    log(entry())
    log(entry())
    assert stream.flushes == 2
    assert stream.getvalue().count("\n") == 2


@pytest.fixture
def logged(spec: Spec) -> Iterator[tuple[TestClient, io.StringIO, io.StringIO]]:
    text, lines = io.StringIO(), io.StringIO()
    rule = parse_fault_string("create-company:503:times=1")

    def both(item: JournalEntry) -> None:
        RequestLog(text)(item)
        RequestLog(lines, json_lines=True)(item)

    app = create_app(Settings(fault_rules=[rule]), spec=spec, on_request=both)
    with TestClient(app, headers={"Authorization": authorization_for(KEY)}) as client:
        yield client, text, lines


def test_the_app_logs_each_codat_request_and_nothing_else(
    logged: tuple[TestClient, io.StringIO, io.StringIO],
) -> None:
    client, text, lines = logged
    client.get("/companies")
    client.post("/companies", json={"name": "Lost"})
    client.get("/companies", params={"page": "x"})
    client.get("/_mock/requests")  # the control API is not logged
    client.get("/openapi.json")
    time = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"
    expected = [
        rf"{time} GET /companies 200 list-companies \d+\.\dms tenant {SHORT}",
        rf"{time} POST /companies 503 create-company \d+\.\dms tenant {SHORT} fault rule-1 status",
        rf"{time} GET /companies\?page=x 400 list-companies \d+\.\dms tenant {SHORT} "
        r"error query\.page: .*",
    ]
    got = text.getvalue().splitlines()
    assert len(got) == len(expected), got
    for line, pattern in zip(got, expected, strict=True):
        assert re.fullmatch(pattern, line), line
    records = [json.loads(line) for line in lines.getvalue().splitlines()]
    assert [(r["method"], r["status"], r["fault"]) for r in records] == [
        ("GET", 200, None),
        ("POST", 503, "rule-1 status"),
        ("GET", 400, None),
    ]
    assert records[2]["error"].startswith("query.page: ")
    assert {r["tenant"] for r in records} == {SHORT}


def test_the_log_writes_each_time_as_the_journal_does() -> None:
    """The log works out the date and time once a second; what it writes must not differ."""
    rng = random.Random(5)
    base = datetime(2026, 12, 31, 23, 59, 58, tzinfo=timezone.utc)
    instants = sorted(base + timedelta(microseconds=rng.randrange(4_000_000)) for _ in range(300))
    stream = io.StringIO()
    log = RequestLog(stream)
    for instant in instants:
        log(entry(wall_at=instant))
    written = [line.split(" ", 1)[0] for line in stream.getvalue().splitlines()]
    assert written == [wall_isoformat(instant) for instant in instants]
    assert written[-1].startswith("2027-01-01T00:00:0")
