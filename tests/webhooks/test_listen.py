"""Tests of mockserver/webhooks/listen.py: the development receiver accepts what the mock
signs, prints it, and refuses anything tampered with."""

from __future__ import annotations

import io
import json
import random
import socket
from datetime import datetime, timedelta, timezone

import pytest
import uvicorn
from starlette.testclient import TestClient

from mockserver.cli import main
from mockserver.webhooks.listen import listen_app, run_listener
from mockserver.webhooks.signing import SecretError, new_secret, signature_headers

SECRET = new_secret(random.Random(12))
BODY = b'{"id":"e1","eventType":"connection.deleted","payload":{}}'


def signed(body: bytes = BODY, *, secret: str = SECRET, age: float = 0) -> dict[str, str]:
    stamp = datetime.now(timezone.utc) - timedelta(seconds=age)
    return signature_headers(secret, "msg_1", stamp, body)


@pytest.fixture
def streams() -> tuple[io.StringIO, io.StringIO]:
    return io.StringIO(), io.StringIO()


@pytest.fixture
def listener(streams: tuple[io.StringIO, io.StringIO]) -> TestClient:
    out, err = streams
    return TestClient(listen_app(SECRET, out, err))


def test_a_correctly_signed_delivery_is_accepted_and_printed_as_one_json_line(
    listener: TestClient, streams: tuple[io.StringIO, io.StringIO]
) -> None:
    headers = signed()
    response = listener.post("/any/path", content=BODY, headers=headers)
    assert response.status_code == 204
    out, err = streams
    (line,) = out.getvalue().splitlines()
    assert json.loads(line) == {
        "webhookId": "msg_1",
        "timestamp": headers["webhook-timestamp"],
        "event": json.loads(BODY),
    }
    assert err.getvalue() == ""


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (BODY.replace(b"deleted", b"created"), signed()),  # tampered body
        (BODY, signed(secret=new_secret(random.Random(13)))),  # another secret
        (BODY, signed(age=600)),  # replayed: older than five minutes
        (BODY, {**signed(), "webhook-id": "msg_2"}),  # id swapped
        (BODY, {k: v for k, v in signed().items() if k != "webhook-signature"}),  # unsigned
        (BODY, {**signed(), "webhook-signature": "garbage"}),  # malformed signature
    ],
)
def test_anything_not_signed_for_this_body_is_refused_with_400(
    listener: TestClient,
    streams: tuple[io.StringIO, io.StringIO],
    body: bytes,
    headers: dict[str, str],
) -> None:
    response = listener.post("/", content=body, headers=headers)
    assert response.status_code == 400
    out, err = streams
    assert out.getvalue() == ""
    assert json.loads(err.getvalue())["path"] == "/"


def test_a_bad_secret_fails_at_startup() -> None:
    with pytest.raises(SecretError):
        listen_app("not-a-secret", io.StringIO())


def test_only_post_is_served(listener: TestClient) -> None:
    assert listener.get("/").status_code == 405


def test_run_listener_refuses_a_bad_secret_before_serving() -> None:
    with pytest.raises(SecretError):
        run_listener(0, "whsec_short")


def test_run_listener_says_when_it_is_ready(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ports: list[int] = []

    def fake_run(server: uvicorn.Server, sockets: list[socket.socket]) -> None:
        # By the time uvicorn is handed the socket, the line is out and the port is taken.
        assert "listening for webhooks" in capsys.readouterr().err
        ports.append(sockets[0].getsockname()[1])

    monkeypatch.setattr(uvicorn.Server, "run", fake_run)
    run_listener(0, SECRET)
    (port,) = ports
    assert port > 0


def test_the_listen_command_refuses_a_taken_port(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["webhooks", "listen", "--port", str(port), "--secret", SECRET]) == 2
    assert capsys.readouterr().err == (
        f"codat-mock: cannot listen on 127.0.0.1:{port}: Address already in use\n"
    )
