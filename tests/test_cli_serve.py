"""Tests of ``codat-mock serve`` around the app: the banner (mockserver/banner.py), the request
log on stdout, startup failures as one line (mockserver/binding.py). In-process, with uvicorn's
server replaced by a stand-in that drives the app through a TestClient; a few slow tests run
the real command."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from importlib.metadata import version
from pathlib import Path

import httpx
import pytest
import uvicorn
from starlette.testclient import TestClient

from mockserver.auth import authorization_for, client_id_for
from mockserver.banner import banner, has_route, state_file
from mockserver.binding import base_url, listen
from mockserver.cli import main
from mockserver.settings import Settings

KEY = "serve-key"
VERSION = version("codat-mock")


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """uvicorn's server replaced: it sends two Codat requests (one faulted if a rule says
    so) and a control request to the app, then returns as if stopped."""
    addresses: list[tuple[str, int]] = []

    def fake_run(server: uvicorn.Server, sockets: list[socket.socket]) -> None:
        (sock,) = sockets
        addresses.append(sock.getsockname())
        headers = {"Authorization": authorization_for(KEY)}
        with TestClient(server.config.app, headers=headers) as client:
            client.get("/companies")
            client.post("/companies", json={"name": "A"})
            client.get("/_mock/health")

    monkeypatch.setattr(uvicorn.Server, "run", fake_run)
    return addresses


def test_the_banner_says_what_is_served(
    served: list[tuple[str, int]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["serve", "--port", "0", "--seed", "7", "--strict", "--fixtures", str(tmp_path)]
    argv += ["--fault", "create-company:503", "--fault", "list-syncs:429", "--rate-limit"]
    assert main(argv) == 0
    ((host, port),) = served
    url = f"http://{host}:{port}"
    err = capsys.readouterr().err
    assert err.startswith(f"codat-mock {VERSION}: Codat Sync for Commerce v1.1 at {url}\n")
    assert f"  seed 7; strict on; fixtures overlay: {tmp_path}\n" in err
    assert "  fault rules: 2 active; rate limiting: on (dailyBase 1000, " in err
    assert "  state: in memory\n" in err
    assert f"  control API: {url}/_mock (its OpenAPI document: {url}/_mock/openapi.json)\n" in err
    assert f"  dashboard: {url}/_mock/ui\n" in err
    assert "  request log: stdout (text)\n" in err


def test_the_banner_names_the_state_file(
    served: list[tuple[str, int]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "--port", "0", "--state", str(tmp_path / "mock.db")]) == 0
    assert f"  state: {tmp_path / 'mock.db'}\n" in capsys.readouterr().err


def test_the_banner_of_the_defaults(
    served: list[tuple[str, int]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "--port", "0"]) == 0
    err = capsys.readouterr().err
    assert "  seed 0; strict off; fixtures overlay: none\n" in err
    assert "  fault rules: 0 active; rate limiting: off\n" in err


def test_the_request_log_goes_to_stdout(
    served: list[tuple[str, int]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "--port", "0", "--fault", "create-company:503"]) == 0
    lines = capsys.readouterr().out.splitlines()
    short = client_id_for(KEY)[:8]
    assert [line.split(" ", 1)[1] for line in lines] == [
        f"GET /companies 200 list-companies {lines[0].split()[5]} tenant {short}",
        f"POST /companies 503 create-company {lines[1].split()[5]} tenant {short} "
        "fault rule-1 status",
    ]


def test_the_request_log_as_json(
    served: list[tuple[str, int]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "--port", "0", "--log-format", "json"]) == 0
    captured = capsys.readouterr()
    records = [json.loads(line) for line in captured.out.splitlines()]
    assert [(r["method"], r["path"], r["status"], r["operationId"]) for r in records] == [
        ("GET", "/companies", 200, "list-companies"),
        ("POST", "/companies", 200, "create-company"),
    ]
    assert "  request log: stdout (json)\n" in captured.err


def test_quiet_means_no_request_log(
    served: list[tuple[str, int]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "--port", "0", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "  request log: off (--quiet)\n" in captured.err


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


@pytest.mark.parametrize(
    ("port", "reason"),
    [
        (lambda taken: "99999", "port must be 0-65535"),
        (lambda taken: str(taken), "Address already in use"),
    ],
)
def test_a_port_it_cannot_have_is_one_line(
    port: Callable[[int], str],
    reason: str,
    taken_port: int,
    served: list[tuple[str, int]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    number = port(taken_port)
    assert main(["serve", "--port", number]) == 2
    assert served == []  # uvicorn never started
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(
        f"codat-mock: cannot start: cannot listen on 127.0.0.1:{number}: "
    )
    assert reason in captured.err
    assert captured.err.count("\n") == 1


def test_listen_takes_the_port_before_the_server_starts() -> None:
    sock = listen("127.0.0.1", 0)
    try:
        url = base_url(sock)
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url)
        # A client that connects now is queued, not refused.
        with socket.create_connection(sock.getsockname(), timeout=5):
            pass
    finally:
        sock.close()


def test_banner_names_a_state_file_and_a_dashboard_when_there_are_some(tmp_path: Path) -> None:
    assert state_file(Settings()) is None

    @dataclasses.dataclass
    class Later(Settings):  # Settings as a later version may have it
        state: Path | None = None
        load: Path | None = None

    later = Later(state=tmp_path / "mock.db", load=tmp_path / "snap.json")
    text = banner(later, "http://h:1", version="9", request_log="off")
    assert f"  state: {tmp_path / 'mock.db'}; started from {tmp_path / 'snap.json'}\n" in text
    text = banner(Settings(), "http://h:1", version="9", request_log="off", dashboard=True)
    assert "  dashboard: http://h:1/_mock/ui\n" in text
    assert "  dashboard" not in banner(Settings(), "http://h:1", version="9", request_log="off")


def test_has_route_follows_mounts() -> None:
    from mockserver.app import create_app

    routes = create_app(Settings()).routes
    assert has_route(routes, "/_mock/health")
    assert has_route(routes, "/openapi.json")
    assert not has_route(routes, "/_mock/nothing")


# -- the real command --------------------------------------------------------------------------


def command(*argv: str) -> list[str]:
    return [sys.executable, "-m", "mockserver.cli", *argv]


@pytest.mark.slow
def test_serve_for_real_configured_from_the_environment() -> None:
    """The real command: environment variables configure it, the banner says so once the
    port is taken, a request is logged as JSON, Ctrl-C stops it cleanly."""
    env = {**os.environ, "CODAT_MOCK_PORT": "0", "CODAT_MOCK_SEED": "11"}
    env["CODAT_MOCK_LOG_FORMAT"] = "json"
    process = subprocess.Popen(
        command("serve", "--seed", "12"),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        first = process.stderr.readline()
        match = re.fullmatch(rf"codat-mock {VERSION}: .* at (http://127\.0\.0\.1:\d+)\n", first)
        assert match, first
        # The banner ends with the request log's line (the dashboard's line comes before it).
        banner_lines = [process.stderr.readline()]
        while not banner_lines[-1].startswith("  request log") and len(banner_lines) < 12:
            banner_lines.append(process.stderr.readline())
        assert "  dashboard: " + match.group(1) + "/_mock/ui\n" in banner_lines, banner_lines
        assert banner_lines[0].startswith("  seed 12; strict off"), banner_lines  # flag wins
        assert "  request log: stdout (json)\n" in banner_lines, banner_lines
        response = httpx.get(
            match.group(1) + "/companies",
            headers={"Authorization": authorization_for(KEY)},
            timeout=10,
        )
        assert response.status_code == 200
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    (record,) = [json.loads(line) for line in out.splitlines()]
    assert (record["method"], record["path"], record["status"]) == ("GET", "/companies", 200)


@pytest.mark.slow
def test_serve_on_a_taken_port_for_real(taken_port: int) -> None:
    result = subprocess.run(
        command("serve", "--port", str(taken_port)),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"codat-mock: cannot start: cannot listen on 127.0.0.1:{taken_port}: "
        "Address already in use\n"
    )


@pytest.mark.slow
def test_version_for_real() -> None:
    result = subprocess.run(
        command("--version"), capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout == f"codat-mock {VERSION}\n"
