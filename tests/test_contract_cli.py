"""``codat-mock contract --suite server`` against a running mock, run as a user would.

The command runs in a subprocess from a temporary folder outside the checkout, so nothing it
needs may come from the current directory. Against a healthy mock it passes; against a mock
whose answers have been tampered with it must fail and say which check caught it; against a
server that is no codat-mock (a mock with its control API hidden) it must only read.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from pathlib import Path
from typing import Any

import orjson
import pytest

from mockserver.server import MockServer
from mockserver.settings import Settings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Few examples: the point is the command's plumbing and verdict, not a thorough run (the
#: suite itself runs in full in CI from contracts/).
EXAMPLES = 2
#: The contract has 22 operations; the server suite reports each as a subtest.
OPERATIONS = 22


def run_server_suite(base_url: str, cwd: Path, *options: str) -> subprocess.CompletedProcess[str]:
    # The outer pytest's own variables (the current test's id, its addopts) are not the
    # user's environment; the command starts a pytest of its own.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "mockserver.cli",
            "contract",
            "--suite",
            "server",
            "--base-url",
            base_url,
            "--examples",
            str(EXAMPLES),
            *options,
        ],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def summary_line(output: str) -> str:
    """pytest's last line: ``N passed, ... in Ts``."""
    return output.strip().splitlines()[-1]


class DropCompanyIds:
    """ASGI middleware that deletes ``id`` from the company objects of ``/companies``.

    The rest of the answer (status, other fields) stays as the mock sent it, so only a check
    that reads the body against the contract can tell.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != "/companies":
            await self.app(scope, receive, send)
            return
        start: Message = {}
        chunks: list[bytes] = []

        async def tamper(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)  # sent once the body is known (its length changes)
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = without_company_ids(b"".join(chunks))
            headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode("ascii")))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, tamper)


class HideControlApi:
    """ASGI middleware that makes a mock pass for another server: no ``/_mock`` routes.

    It also notes the method and path of every request that reaches it, in ``seen``.
    """

    def __init__(self, app: ASGIApp, seen: list[tuple[str, str]]) -> None:
        self.app = app
        self.seen = seen

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.seen.append((scope["method"], scope["path"]))
        if scope["path"].startswith("/_mock"):
            await send({"type": "http.response.start", "status": 404, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        await self.app(scope, receive, send)


def without_company_ids(body: bytes) -> bytes:
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body
    if isinstance(document, dict):
        companies = document.get("results") if "results" in document else [document]
        for company in companies if isinstance(companies, list) else []:
            if isinstance(company, dict):
                company.pop("id", None)
    return orjson.dumps(document)


def test_the_middleware_drops_company_ids() -> None:
    """The tampering itself, so the failing run below fails for the reason it claims."""
    page = {"results": [{"id": "c1", "name": "A"}, {"id": "c2", "name": "B"}], "pageSize": 2}
    assert orjson.loads(without_company_ids(orjson.dumps(page)))["results"] == [
        {"name": "A"},
        {"name": "B"},
    ]
    assert orjson.loads(without_company_ids(b'{"id": "c1", "name": "A"}')) == {"name": "A"}
    assert without_company_ids(b"not json") == b"not json"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """An empty working directory away from the checkout."""
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    assert not (cwd / "contracts").exists()
    return cwd


#: The healthy mock guards its control API with a token, which the suite must pass on.
TOKEN = "contract-token"


@pytest.fixture
def healthy_mock() -> Iterator[MockServer]:
    with MockServer(Settings(port=0, strict=True, control_token=TOKEN)) as mock:
        yield mock


@pytest.fixture
def broken_mock() -> Iterator[MockServer]:
    server = MockServer(Settings(port=0, strict=False))
    server.app.add_middleware(DropCompanyIds)  # outermost: after the mock's own checks
    with server as mock:
        yield mock


@pytest.fixture
def disguised_mock() -> Iterator[tuple[MockServer, list[tuple[str, str]]]]:
    seen: list[tuple[str, str]] = []
    server = MockServer(Settings(port=0, strict=True))
    server.app.add_middleware(HideControlApi, seen=seen)
    with server as mock:
        yield mock, seen


def test_the_server_suite_passes_against_a_running_mock(
    healthy_mock: MockServer, outside: Path
) -> None:
    result = run_server_suite(healthy_mock.url, outside, "--control-token", TOKEN)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    summary = summary_line(result.stdout)
    assert "failed" not in summary and "error" not in summary, output
    # Every operation ran, and so did the stateful test (the skip would say "skipped").
    assert re.search(rf"\b2 passed, {OPERATIONS} subtests passed\b", summary), output
    # It drove the mock given, not one of its own: its journal holds the last stateful scenario.
    assert healthy_mock.requests()


def test_the_server_suite_fails_against_a_broken_mock(
    broken_mock: MockServer, outside: Path
) -> None:
    result = run_server_suite(broken_mock.url, outside)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output  # pytest's "tests failed", not a crash or usage error
    # create-company's run and the stateful run (whose chains start there) fail; the
    # other 21 operations never answer a company with its id missing (a fresh client has no
    # companies to list), so they pass.
    assert re.search(r"\b2 failed, 1 passed, 21 subtests passed\b", summary_line(result.stdout))
    assert "SUBFAILED" in output and "[POST /companies]" in output, output
    assert "::test_stateful_run_follows_links" in output, output
    # The verdict names the check, and says what it found.
    assert "ST108 Response violates schema: response_schema_conformance" in output, output
    assert '"id" is a required property' in output, output


def test_the_server_suite_only_reads_from_a_server_that_is_no_mock(
    disguised_mock: tuple[MockServer, list[tuple[str, str]]], outside: Path
) -> None:
    """What it would do to the live API without --allow-writes: GETs (and OPTIONS and TRACE in
    their place) only, and no get-sync-flow-url, which creates a company for the merchant."""
    mock, seen = disguised_mock
    result = run_server_suite(mock.url, outside)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    # 12 operations read; the stateful phase, which writes, is skipped.
    assert re.search(r"\b1 passed, 1 skipped, 12 subtests passed\b", summary_line(result.stdout))
    api = [(method, path) for method, path in seen if not path.startswith("/_mock")]
    assert ("GET", "/companies") in api, seen
    assert {method for method, _ in api} <= {"GET", "OPTIONS", "TRACE"}, seen
    assert not [path for _, path in api if path.startswith("/config/sync/commerce/")], seen
