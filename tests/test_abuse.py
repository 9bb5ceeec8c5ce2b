"""A bounded fuzz-and-abuse run against a real mock on loopback: it must end with 0 server
errors and the server still answering.

One server (uvicorn, strict mode) takes, in turn: schemathesis with every phase and negative
data (the server conformance suite's own setup, on a small budget), raw malformed HTTP over a
socket, deeply nested JSON, over-large headers, URLs and bodies, bodies cut short, and resets
and snapshot imports racing ordinary calls. Every answer is counted; a 5xx, or anything the
server logs as an error, fails the run. Everything is bounded in count (and each socket read
in time), and nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import schemathesis.engine
from schemathesis.engine import events

from contracts.server_conformance import Budget, Vocabulary, schema_for_url
from mockserver.auth import authorization_for
from mockserver.journal import JournalEntry
from mockserver.jsonio import MAX_DEPTH
from mockserver.server import MockServer
from mockserver.settings import (
    MAX_BODY_BYTES,
    MAX_HEADER_BYTES,
    MAX_SNAPSHOT_BYTES,
    MAX_URL_BYTES,
    Settings,
)

pytestmark = pytest.mark.slow

AUTHORIZATION = authorization_for("abuse-key")
#: How long one raw socket waits for an answer before counting "no answer".
SOCKET_TIMEOUT = 5.0


class Tally:
    """Every status the server answered, by where it came from."""

    def __init__(self) -> None:
        self.statuses: Counter[tuple[str, int]] = Counter()
        self._lock = threading.Lock()

    def add(self, source: str, status: int) -> None:
        with self._lock:
            self.statuses[(source, status)] += 1

    def server_errors(self) -> dict[tuple[str, int], int]:
        return {key: n for key, n in self.statuses.items() if key[1] >= 500}

    def count(self, source: str) -> int:
        return sum(n for (where, _), n in self.statuses.items() if where == source)


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer(Settings(port=0, strict=True, seed=11)) as running:
        yield running


@pytest.fixture(scope="module")
def tally() -> Tally:
    return Tally()


@pytest.fixture
def api(server: MockServer, tally: Tally) -> Iterator[Callable[..., httpx.Response]]:
    """Send one request to the mock and count its status."""
    with httpx.Client(base_url=server.url, timeout=SOCKET_TIMEOUT) as client:

        def send(method: str, path: str, source: str = "http", **kwargs: Any) -> httpx.Response:
            headers = {"Authorization": AUTHORIZATION, **kwargs.pop("headers", {})}
            response = client.request(method, path, headers=headers, **kwargs)
            tally.add(source, response.status_code)
            return response

        yield send


@pytest.fixture(autouse=True)
def no_errors_logged(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Whatever the server logs at ERROR (a traceback with no 500 to show for it) fails too."""
    with caplog.at_level(logging.ERROR):
        yield
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]


def raw_exchange(server: MockServer, payload: bytes, *, close_early: bool = False) -> bytes:
    """Send ``payload`` over a fresh socket and return whatever comes back (maybe nothing)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=SOCKET_TIMEOUT) as sock:
        try:
            sock.sendall(payload)
            if close_early:
                return b""
            sock.shutdown(socket.SHUT_WR)
            chunks = []
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        except (ConnectionError, TimeoutError):
            return b"".join(chunks) if not close_early else b""
        return b"".join(chunks)


def status_of(answer: bytes) -> int | None:
    """The status of the first response in ``answer`` (None when nothing came back)."""
    if not answer.startswith(b"HTTP/"):
        return None
    return int(answer.split(b" ", 2)[1])


# -- schemathesis, every phase, negative data included ---------------------------------------


def test_schemathesis_every_phase_with_negative_data(server: MockServer, tally: Tally) -> None:
    schema = schema_for_url(
        server.url,
        AUTHORIZATION,
        Budget(max_examples=2, stateful_scenarios=2, stateful_steps=6),
        Vocabulary(commerce_keys=("fztf",), accounting_keys=("gbol",)),
    )
    assert {mode.value for mode in schema.config.generation.modes} == {"positive", "negative"}
    phases: set[str] = set()
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            phases.add(event.phase.value)
            for interaction in event.recorder.interactions.values():
                if interaction.response is not None:
                    tally.add("schemathesis", interaction.response.status_code)
        elif isinstance(event, events.FatalError):  # pragma: no cover - shown when it happens
            raise event.exception
    assert {"examples", "coverage", "fuzzing", "stateful"} <= phases
    assert tally.count("schemathesis") >= 300
    assert tally.server_errors() == {}


# -- raw malformed HTTP ----------------------------------------------------------------------

MALFORMED: list[bytes] = [
    b"\x00\x01\x02\x03\r\n\r\n",
    b"GET\r\n\r\n",
    b"GET / HTTP/9.9\r\n\r\n",
    b"GET /companies HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n",
    b"GET /companies HTTP/1.1\r\nHost: x\r\nX-A: \x00\x7f\r\n\r\n",
    b"GET /%zz%00/../companies HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET http://evil.example/companies HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /companies\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n",
    b"POST /companies HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
    b"POST /companies HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}",
    b"POST /companies HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 9\r\n\r\n{}",
    b"POST /companies HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
    b"Content-Length: 3\r\n\r\nzz\r\n",
    b"POST /companies HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"fffffffffffffffff\r\n{}\r\n0\r\n\r\n",
    b"POST /_mock/state HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
    b"Content-Length: " + str(MAX_SNAPSHOT_BYTES + 1).encode() + b"\r\n\r\n{",
    b"GET /companies HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\n\x00garbage",
    b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
    b"BREW /companies HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /companies HTTP/1.1\r\n" + b"X-Many: y\r\n" * 3000 + b"\r\n",
]


def test_raw_malformed_http_gets_no_server_error(server: MockServer, tally: Tally) -> None:
    for payload in MALFORMED:
        status = status_of(raw_exchange(server, payload))
        if status is not None:
            tally.add("raw", status)
    assert tally.count("raw") >= len(MALFORMED) // 2
    assert tally.server_errors() == {}


# -- deep JSON, over-large headers, URLs and bodies ------------------------------------------


def test_deep_json_everywhere_is_a_400(api: Callable[..., httpx.Response]) -> None:
    company = api("POST", "/companies", json={"name": "Deep"}).json()["id"]
    targets = [
        ("POST", "/companies", '{{"name": "x", "tags": {}}}'),
        ("PATCH", "/sync/commerce/config/ui/text?locale=en-us", '{{"k": {}}}'),
        ("POST", f"/meta/companies/{company}/sync/commerce/historic", '{{"dateRange": {}}}'),
        ("POST", f"/companies/{company}/sync/commerce/latest", '{{"syncTo": {}}}'),
        ("PUT", f"/companies/{company}/connections/x/authorization", "{}"),
        ("POST", "/_mock/faults", "{}"),
        ("PUT", "/_mock/state", '{{"version": 1, "tenants": {}}}'),
        ("POST", "/_mock/clock", '{{"set": {}}}'),
        ("POST", "/_mock/webhooks", '{{"url": {}}}'),
    ]
    for depth in (MAX_DEPTH + 1, 255, 256, 511, 1023, 1024, 5000):
        deep = "[" * depth + "]" * depth
        for method, path, template in targets:
            response = api(
                method,
                path,
                source="deep",
                content=template.format(deep).encode(),
                headers={"Content-Type": "application/json"},
            )
            assert response.status_code in (400, 404), (method, path, depth, response.text)


def test_over_large_requests_are_refused_in_the_error_shape(
    api: Callable[..., httpx.Response],
) -> None:
    refusals: list[tuple[str, str, dict[str, Any], int]] = [
        ("GET", "/companies", {"headers": {"X-Big": "b" * (MAX_HEADER_BYTES + 1)}}, 431),
        ("GET", "/_mock/state", {"headers": {"X-Big": "b" * (4 * MAX_HEADER_BYTES)}}, 431),
        ("GET", "/companies", {"params": {"query": "q" * (MAX_URL_BYTES + 1)}}, 414),
        ("POST", "/companies", {"content": b"{" + b" " * MAX_BODY_BYTES + b"}"}, 413),
        ("POST", "/_mock/faults", {"content": b"[" + b" " * MAX_BODY_BYTES + b"]"}, 413),
    ]
    for method, path, kwargs, status in refusals:
        headers = {"Content-Type": "application/json", **kwargs.pop("headers", {})}
        response = api(method, path, source="large", headers=headers, **kwargs)
        assert response.status_code == status, (method, path, response.text[:200])
        assert response.json()["statusCode"] == status


# -- bodies cut short --------------------------------------------------------------------------


def test_bodies_cut_short_change_nothing(
    server: MockServer, api: Callable[..., httpx.Response]
) -> None:
    before = api("GET", "/companies").json()["totalResults"]
    assert api("DELETE", "/_mock/requests").status_code == 200
    for body in (b'{"name": "Half"}', b'{"name": "Half", "description": "d"}'):
        head = (
            b"POST /companies HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Authorization: " + AUTHORIZATION.encode() + b"\r\n"
            b"Content-Type: application/json\r\n"
            b"Content-Length: " + str(len(body) + 50).encode() + b"\r\n\r\n"
        )
        raw_exchange(server, head + body, close_early=True)
    # Wait (bounded) until the journal has both exchanges: each is recorded when it ends.
    creates = _journal_when(server, "create-company", 2)
    assert [(entry.status, entry.dropped) for entry in creates] == [
        (None, "client-left"),
        (None, "client-left"),
    ]
    assert api("GET", "/companies").json()["totalResults"] == before


def _journal_when(server: MockServer, operation_id: str, count: int) -> list[JournalEntry]:
    """The journal's entries for ``operation_id`` once there are ``count`` (at most 5 s)."""
    pause = threading.Event()
    for _ in range(1000):
        entries = server.requests(operation_id=operation_id)
        if len(entries) >= count:
            return entries
        pause.wait(0.005)
    raise AssertionError(f"the journal never showed {count} {operation_id} calls")


# -- resets and imports racing ordinary calls -------------------------------------------------


def test_concurrent_resets_and_imports_give_no_server_error(
    server: MockServer, tally: Tally
) -> None:
    snapshot = httpx.get(f"{server.url}/_mock/state", timeout=SOCKET_TIMEOUT).content

    def worker(kind: int) -> None:
        with httpx.Client(
            base_url=server.url,
            timeout=SOCKET_TIMEOUT,
            headers={"Authorization": AUTHORIZATION, "Content-Type": "application/json"},
        ) as client:
            for i in range(25):
                calls: list[tuple[str, str, bytes | None]]
                if kind == 0:
                    calls = [("POST", "/_mock/reset", None)]
                elif kind == 1:
                    calls = [("PUT", "/_mock/state", snapshot)]
                else:
                    calls = []
                    created = client.post("/companies", content=b'{"name": "Racer"}')
                    tally.add("race", created.status_code)
                    if created.status_code == 200:
                        cid = created.json()["id"]
                        calls += [
                            ("POST", f"/companies/{cid}/connections", b'{"platformKey": "gbol"}'),
                            ("POST", f"/companies/{cid}/sync/commerce/latest", b"{}"),
                            ("GET", f"/companies/{cid}/sync/commerce/syncs/list/status", None),
                            ("GET", f"/companies/{cid}/connections", None),
                        ]
                    calls.append(("GET", f"/companies?page={1 + i % 3}", None))
                for method, path, body in calls:
                    tally.add("race", client.request(method, path, content=body).status_code)

    threads = [threading.Thread(target=worker, args=(kind,)) for kind in (0, 1, 2, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads)
    assert tally.count("race") >= 150
    assert tally.server_errors() == {}


# -- and afterwards ----------------------------------------------------------------------------


def test_the_server_still_answers_with_no_server_error_counted(
    server: MockServer, api: Callable[..., httpx.Response], tally: Tally
) -> None:
    assert api("GET", "/_mock/health").json() == {"status": "ok"}
    assert api("GET", "/companies").status_code == 200
    assert api("POST", "/companies", json={"name": "After"}).status_code == 200
    assert tally.server_errors() == {}
    assert sum(tally.statuses.values()) >= 500
