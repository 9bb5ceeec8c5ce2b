"""Fixtures for the webhook tests: a scripted in-process receiver, a running hub, and a real
HTTP server on loopback for the end-to-end tests."""

from __future__ import annotations

import random
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.types import ASGIApp

from mockserver.clock import Clock
from mockserver.webhooks import WebhookHub

RECEIVER_URL = "https://receiver.test/codat"

#: The names webhook tests register, and what they resolve to: no test asks real DNS.
NAMES: dict[str, list[str]] = {"receiver.test": ["10.0.0.7"], "x.test": ["10.0.0.8"]}


def resolve(host: str, port: int) -> list[str]:
    """A resolver answering :data:`NAMES` (and nothing else, like a name not yet in DNS)."""
    try:
        return list(NAMES[host])
    except KeyError:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known") from None


#: A minimal body that is enough wherever the payload's content does not matter.
BODY: dict[str, Any] = {"id": "e1", "eventType": "connection.deleted", "payload": {}}


class Receiver:
    """An ``httpx.MockTransport`` receiver: records every request and answers the scripted
    statuses in turn (then ``default``). ``answer`` may replace the whole response."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.statuses: list[int] = []
        self.default = 200
        self.answer: Callable[[httpx.Request], httpx.Response] | None = None
        self.arrived = threading.Condition()

    def handle(self, request: httpx.Request) -> httpx.Response:
        request.read()
        with self.arrived:
            self.requests.append(request)
            status = self.statuses.pop(0) if self.statuses else self.default
            self.arrived.notify_all()
        if self.answer is not None:
            return self.answer(request)
        return httpx.Response(status)

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def to(self, url: str) -> list[httpx.Request]:
        """The requests sent to ``url``, in order."""
        with self.arrived:
            return [r for r in self.requests if str(r.url) == url]

    def wait_for(self, count: int, timeout: float = 5.0) -> bool:
        """Wait until ``count`` requests have arrived."""
        with self.arrived:
            return self.arrived.wait_for(lambda: len(self.requests) >= count, timeout)


@pytest.fixture
def receiver() -> Receiver:
    return Receiver()


@pytest.fixture
def hub(clock: Clock, receiver: Receiver) -> Iterator[WebhookHub]:
    """A running hub on the frozen test clock, delivering to ``receiver``. Signatures carry
    the real wall clock, so ``standardwebhooks`` accepts them."""
    running = WebhookHub(clock, random.Random(5), transport=receiver.transport, resolver=resolve)
    running.start()
    yield running
    running.stop()


def advance(
    hub: WebhookHub, clock: Clock, seconds: float, *, consumer_id: str | None = None
) -> None:
    """Move the mock clock, tell the hub, and wait until everything due has been sent (to
    ``consumer_id``, when given)."""
    clock.advance(seconds)
    hub.clock_moved()
    assert hub.wait_idle(5.0, consumer_id=consumer_id)


@contextmanager
def serve(app: ASGIApp) -> Iterator[str]:
    """Run ``app`` under uvicorn on 127.0.0.1 and a free port; yields its base URL.

    The socket listens before uvicorn starts, so a client that connects early waits in the
    backlog instead of being refused: no readiness polling is needed.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
