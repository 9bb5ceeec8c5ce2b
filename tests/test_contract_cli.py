"""``codat-mock contract``: its verdicts, its output, and that it leaves a running mock as it
found it.

The suites themselves run in full from ``contracts/`` in CI; here they run on one or two
operations with one example, in-process (``pytest.main``), against mocks that are shared,
broken (answers tampered with) or disguised (no control API, as if another server). The
command's own plumbing (headings, table, exit status, refusals) is checked in-process too;
one slow test runs the real command from a folder outside the checkout.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from contracts import command
from mockserver.auth import authorization_for, client_id_for
from mockserver.cli import main
from mockserver.server import MockServer
from mockserver.settings import Settings

SERVER_SUITE = str(command.ROOT / "test_server_conformance.py")
RETRIES_SUITE = str(command.ROOT / "test_retry_behaviour.py")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class DropIntegrationNames:
    """ASGI middleware that deletes ``name`` from the integrations of ``/config/integrations``.

    The rest of the answer (status, other fields) stays as the mock sent it, so only a check
    that reads the body against the contract can tell.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != "/config/integrations":
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
            body = without_names(b"".join(chunks))
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


def without_names(body: bytes) -> bytes:
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body
    results = document.get("results") if isinstance(document, dict) else None
    for item in results if isinstance(results, list) else []:
        if isinstance(item, dict):
            item.pop("name", None)
    return orjson.dumps(document)


def test_the_middleware_drops_integration_names() -> None:
    """The tampering itself, so the failing run below fails for the reason it claims."""
    page = {"results": [{"key": "a", "name": "A"}, {"key": "b", "name": "B"}], "pageSize": 2}
    assert orjson.loads(without_names(orjson.dumps(page)))["results"] == [
        {"key": "a"},
        {"key": "b"},
    ]
    assert without_names(b"not json") == b"not json"
    assert orjson.loads(without_names(b'{"name": "kept"}')) == {"name": "kept"}


#: The mocks the suites share guard their control API with a token, which the suites must
#: pass on.
TOKEN = "contract-token"


@pytest.fixture
def healthy_mock() -> Iterator[MockServer]:
    with MockServer(Settings(port=0, strict=True, control_token=TOKEN)) as mock:
        yield mock


@pytest.fixture
def broken_mock() -> Iterator[MockServer]:
    server = MockServer(Settings(port=0, strict=False))
    server.app.add_middleware(DropIntegrationNames)  # outermost: after the mock's own checks
    with server as mock:
        yield mock


@pytest.fixture
def disguised_mock() -> Iterator[tuple[MockServer, list[tuple[str, str]]]]:
    seen: list[tuple[str, str]] = []
    server = MockServer(Settings(port=0, strict=True))
    server.app.add_middleware(HideControlApi, seen=seen)
    with server as mock:
        yield mock, seen


@dataclass(slots=True, frozen=True)
class SuiteRun:
    """What one in-process run of a suite did."""

    status: int
    output: str
    rows: list[dict[str, Any]]


def run_suite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], suite: str, base_url: str, *options: str
) -> SuiteRun:
    """One suite in-process against ``base_url``: its exit status, its output, its summary.

    Not through pytester: pytester forgets the modules each run imported, so the next run
    imports schemathesis anew, and the suite's checks (imported before) no longer recognise
    its classes.
    """
    summary = tmp_path / "summary.json"
    capsys.readouterr()
    status = pytest.main(
        [
            suite,
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(command.ROOT),
            "--base-url",
            base_url,
            "--examples",
            "1",
            "--summary-file",
            str(summary),
            *options,
        ]
    )
    rows = json.loads(summary.read_text()) if summary.exists() else []
    return SuiteRun(int(status), capsys.readouterr().out, rows)


def test_the_server_suite_fails_against_a_broken_mock(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], broken_mock: MockServer
) -> None:
    run = run_suite(
        tmp_path, capsys, SERVER_SUITE, broken_mock.url, "--operation", "list-integrations"
    )
    assert run.status == pytest.ExitCode.TESTS_FAILED
    output = run.output
    assert "[GET /config/integrations]" in output, output
    # The verdict names the check, and says what it found.
    assert "ST108 Response violates schema: response_schema_conformance" in output, output
    assert '"name" is a required property' in output, output
    assert [(r["operation"], r["failures"]) for r in run.rows] == [("GET /config/integrations", 1)]


def test_the_server_suite_only_reads_from_a_server_that_is_no_mock(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    disguised_mock: tuple[MockServer, list[tuple[str, str]]],
) -> None:
    """What it would do to the live API without --allow-writes: asked for a write and a read,
    it makes GETs (and OPTIONS and TRACE in their place) only."""
    mock, seen = disguised_mock
    ops = ("--operation", "create-company", "--operation", "list-companies")
    run = run_suite(tmp_path, capsys, SERVER_SUITE, mock.url, *ops)
    assert run.status == pytest.ExitCode.OK, run.output
    assert [r["operation"] for r in run.rows] == ["GET /companies"]
    api = [(method, path) for method, path in seen if not path.startswith("/_mock")]
    assert ("GET", "/companies") in api, seen
    assert {method for method, _ in api} <= {"GET", "OPTIONS", "TRACE"}, seen


# -- leaving a shared mock as it was -----------------------------------------------------------

USER = {"Authorization": authorization_for("the-users-own-key")}
USER_CLIENT = client_id_for("the-users-own-key")


@pytest.fixture
def shared_mock() -> Iterator[MockServer]:
    """A mock someone is using: a consumer of every client's webhooks, a fault rule, data."""
    hooks = ["http://127.0.0.1:9/hook"]
    with MockServer(Settings(port=0, strict=True, webhook_urls=hooks, control_token=TOKEN)) as mock:
        with httpx.Client(base_url=mock.url, headers=mock.control_headers, timeout=10) as api:
            api.post("/_mock/faults", json={"operationId": "list-syncs", "status": 503})
            api.post("/companies", json={"name": "Users Ltd"}, headers=USER).raise_for_status()
        yield mock


def what_the_user_sees(mock: MockServer) -> dict[str, Any]:
    with httpx.Client(base_url=mock.url, headers=mock.control_headers, timeout=10) as api:
        return {
            "companies": api.get("/companies", headers=USER).json()["results"],
            "faults": api.get("/_mock/faults").json()["rules"],
            "messages": api.get("/_mock/webhooks/messages").json()["messages"],
            "quiet": api.get("/_mock/webhooks/quiet").json()["clientIds"],
            "consumers": api.get("/_mock/webhooks").json()["consumers"],
        }


def test_the_server_suite_leaves_a_shared_mock_as_it_was(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    shared_mock: MockServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = what_the_user_sees(shared_mock)
    consumers = shared_mock.components.webhooks.consumers
    quiet = consumers.quiet
    quieted: list[tuple[str, bool]] = []

    def spy(client_id: str, *, on: bool = True) -> None:
        quieted.append((client_id, on))
        quiet(client_id, on=on)

    monkeypatch.setattr(consumers, "quiet", spy)
    only = ("--operation", "list-companies", "--control-token", TOKEN)
    run = run_suite(tmp_path, capsys, SERVER_SUITE, shared_mock.url, *only)
    assert run.status == pytest.ExitCode.OK, run.output
    # The stateful phase needs every operation.
    assert "1 passed, 1 skipped" in run.output, run.output
    assert [(r["operation"], r["failures"]) for r in run.rows] == [("GET /companies", 0)]
    assert int(run.rows[0]["cases"]) > 0, run.rows
    assert what_the_user_sees(shared_mock) == before
    assert before["messages"] == [] and before["companies"] and before["faults"]
    # All in one tenant of its own (besides the unauthenticated probes of the credentials
    # check), kept quiet while the run lasted: its events reach no consumer (see
    # tests/test_tenant_scoping.py).
    (tenant,) = {entry.client_id for entry in shared_mock.requests()} - {None, USER_CLIENT}
    assert quieted == [(tenant, True), (tenant, False)]


def test_the_retries_suite_removes_its_fault_rules(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], shared_mock: MockServer
) -> None:
    before = what_the_user_sees(shared_mock)
    only = ("-k", "error_message_carries_no_retry_after", "--control-token", TOKEN)
    run = run_suite(tmp_path, capsys, RETRIES_SUITE, shared_mock.url, *only)
    assert run.status == pytest.ExitCode.OK, run.output
    assert "1 passed" in run.output, run.output
    assert what_the_user_sees(shared_mock) == before
    # It did add one, for its own tenant alone.
    faulted = [e for e in shared_mock.requests("create-company") if e.fault_id is not None]
    assert len(faulted) == 1 and faulted[0].client_id not in (None, USER_CLIENT)


# -- the command: refusals, headings, table, status ----------------------------------------


def test_an_unreachable_target_is_one_line_and_status_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with MockServer(Settings(port=0)) as mock:
        url = mock.url  # a port that was just free, and is again
    assert main(["contract", "--base-url", url]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"codat-mock: cannot reach {url}: ")
    assert captured.err.count("\n") == 1


@pytest.mark.parametrize("suite", ["client", "retries"])
def test_a_mock_only_suite_refuses_a_server_that_is_no_mock(
    suite: str,
    disguised_mock: tuple[MockServer, list[tuple[str, str]]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    mock, _ = disguised_mock
    assert main(["contract", "--suite", suite, "--base-url", mock.url]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"codat-mock: the {suite} suite cannot run against {mock.url}: it is not a "
        "codat-mock (the suite needs its control API, /_mock)\n"
    )


@pytest.fixture
def fake_pytest(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Stand in for the suites' pytest: each writes a summary and fails if it is 'client'."""
    calls: list[list[str]] = []

    def call(argv: list[str], env: dict[str, str]) -> int:
        calls.append(argv)
        assert env["HYPOTHESIS_STORAGE_DIRECTORY"].endswith("hypothesis")
        suite = next(name for name, (module, _) in command.SUITES.items() if module in argv[3])
        summary = Path(argv[argv.index("--summary-file") + 1])
        failures = 1 if suite == "client" else 0
        rows = [{"suite": suite, "operation": "op-a", "cases": 3, "failures": failures}]
        rows.append({"suite": suite, "operation": "op-b", "cases": 10, "failures": 0})
        summary.write_text(json.dumps(rows))
        return failures

    monkeypatch.setattr(command.subprocess, "call", call)
    return calls


def test_each_suite_gets_a_heading_and_the_run_a_table(
    fake_pytest: list[list[str]], capfd: pytest.CaptureFixture[str]
) -> None:
    status = command.run(command.Options(examples=3, operations=("list-companies",)))
    assert status == 1  # the client suite failed
    out = capfd.readouterr().out
    assert "== [1/3] server suite: the server's answers" in out
    assert "== [2/3] client suite: the official SDK's requests and parsing; against a fresh" in out
    assert "== [3/3] retries suite: what the SDK does under each kind of fault" in out
    table = out.split("== summary\n", 1)[1].splitlines()
    assert table[0].split() == ["suite", "operation", "cases", "failures"]
    assert table[2].split() == ["server", "op-a", "3", "0"]
    assert ["client", "op-a", "3", "1"] in [line.split() for line in table]
    assert ["server", "(all)", "13", "0"] in [line.split() for line in table]
    assert ["client", "(all)", "13", "1"] in [line.split() for line in table]
    (first, *_) = fake_pytest
    assert first[:3] == ["-m", "pytest", SERVER_SUITE] or first[1:4] == [
        "-m",
        "pytest",
        SERVER_SUITE,
    ]
    assert "--progress" in first
    assert first[first.index("--operation") + 1] == "list-companies"
    assert first[first.index("--examples") + 1] == "3"


def test_against_another_server_the_mock_only_suites_are_left_out(
    fake_pytest: list[list[str]],
    disguised_mock: tuple[MockServer, list[tuple[str, str]]],
    capfd: pytest.CaptureFixture[str],
) -> None:
    mock, _ = disguised_mock
    assert command.run(command.Options(base_url=mock.url)) == 0
    out = capfd.readouterr().out
    assert f"client and retries left out: {mock.url} is no codat-mock" in out
    assert (
        f"== [1/1] server suite: the server's answers (schemathesis, every check); "
        f"against {mock.url}\n" in out
    )
    assert len(fake_pytest) == 1


def test_against_a_running_mock_the_client_suite_brings_its_own(
    fake_pytest: list[list[str]], healthy_mock: MockServer, capfd: pytest.CaptureFixture[str]
) -> None:
    assert command.run(command.Options(base_url=healthy_mock.url, suite="client")) == 1
    out = capfd.readouterr().out
    assert "against a codat-mock of its own (it moves the mock's clock)" in out


# -- the real command, once ------------------------------------------------------------------


@pytest.mark.slow
def test_the_command_for_real(shared_mock: MockServer, tmp_path: Path) -> None:
    """From a folder outside the checkout, as a user runs it, against a mock in use: a
    heading, the operation's progress line, the table; nothing left behind in the folder,
    nothing changed for the mock's user."""
    before = what_the_user_sees(shared_mock)
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    # The outer pytest's own variables (the current test's id, its addopts) are not the
    # user's environment; the command starts a pytest of its own.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    result = subprocess.run(
        [
            *(sys.executable, "-m", "mockserver.cli", "contract", "--suite", "server"),
            *("--base-url", shared_mock.url, "--examples", "1", "--operation", "list-companies"),
            *("--control-token", TOKEN),
        ],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[1].startswith("== [1/1] server suite: "), lines
    assert "server: GET /companies" in lines, lines
    summary = result.stdout.split("== summary\n", 1)[1].splitlines()
    assert summary[2].split()[:3] == ["server", "GET", "/companies"], summary
    assert list(cwd.iterdir()) == []  # no .schemathesis/, no .hypothesis/
    assert what_the_user_sees(shared_mock) == before
