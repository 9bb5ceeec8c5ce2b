"""Tests of mockserver/webhooks/targets.py: which URLs a consumer may register, the check
again when each attempt connects (over real loopback, names resolved by an injected
resolver), and the one-word reasons the deliveries log shows."""

from __future__ import annotations

import random
import socket
import threading

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient

from mockserver.clock import Clock
from mockserver.errors import BadRequest
from mockserver.webhooks import WebhookHub
from mockserver.webhooks.consumers import ConsumerRegistry
from mockserver.webhooks.targets import TargetPolicy, TargetRefused
from mockserver.webhooks.transport import failure_reason
from tests.handlers.support import expect_error, ok
from tests.webhooks.conftest import BODY, serve

NAMES: dict[str, list[str]] = {
    "receiver.test": ["10.0.0.7"],
    "sneaky.test": ["169.254.169.254"],
    "mixed.test": ["10.0.0.1", "224.0.0.5"],
    "v6-metadata.test": ["fd00:ec2::254"],
    "nowhere.test": ["0.0.0.0"],
}


def resolve(host: str, port: int) -> list[str]:
    try:
        return list(NAMES[host])
    except KeyError:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known") from None


@pytest.fixture
def registry(clock: Clock) -> ConsumerRegistry:
    return ConsumerRegistry(clock, random.Random(3), TargetPolicy(resolve))


REFUSED = [
    # cloud metadata, by address and by name
    "http://169.254.169.254/latest/meta-data/",
    "http://169.254.170.2/v2/credentials",
    "http://100.100.100.200/latest/meta-data",
    "http://[fd00:ec2::254]/latest/meta-data",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://sneaky.test/hook",
    "http://v6-metadata.test/hook",
    # link-local, multicast, unspecified, reserved (IPv6 forms of IPv4 included)
    "http://169.254.1.1/",
    "http://[fe80::1]/",
    "http://[::ffff:169.254.169.254]/",
    "http://[2002:a9fe:a9fe::1]/",
    "http://224.0.0.1/",
    "http://[ff02::1]/",
    "http://mixed.test/",
    "http://0.0.0.0:4010/",
    "http://[::]:4010/",
    "http://nowhere.test/",
    "http://240.0.0.1/",
    "http://255.255.255.255/",
    "http://[fec0::1]/",
    # spellings of an IPv4 address that parsers disagree on
    "http://0/",
    "http://0:4010/_mock/reset",
    "http://2130706433/",
    "http://0x7f000001/",
    "http://0x7f.1/",
    "http://0177.0.0.1/",
    "http://127.1/",
    "http://[fe80::1%25eth0]/",
    "http://\uff11\uff12\uff17.\uff10.\uff10.\uff11/",  # fullwidth digits
    # a host that Python's parser and the sender's read differently
    "http://127.0.0.1 .receiver.test/",
    # the mock's own control API, however the path is spelled
    "http://127.0.0.1:4010/_mock/reset",
    "http://localhost:4010/_mock",
    "http://127.0.0.1:4010//_mock/reset",
    "http://127.0.0.1:4010/%5Fmock/reset",
    "http://127.0.0.1:4010/%255Fmock/reset",
    "http://127.0.0.1:4010/hooks/../_mock/state",
    "http://127.0.0.1:4010/_MOCK/reset",
]


@pytest.mark.parametrize("url", REFUSED)
def test_registration_refuses_targets_webhooks_must_not_reach(
    registry: ConsumerRegistry, url: str
) -> None:
    with pytest.raises(BadRequest) as caught:
        registry.add(url)
    assert [item.item_id for item in caught.value.validation] == ["url"]
    assert registry.all() == []


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hook",  # loopback: test receivers
        "http://127.8.9.10/hook",
        "http://localhost:8080/",
        "http://127.0.0.1:80/hook",  # a default port written out
        "https://receiver.test:0443/codat",
        "http://[::1]:9/",
        "http://10.1.2.3/",  # private: container networks
        "http://172.17.0.2:3000/",
        "http://192.168.0.5/",
        "http://[fd12:3456::1]/",
        "https://receiver.test/codat",  # a name resolving to a private address
        "https://93.184.216.34/hook",  # the internet
        "http://127.0.0.1:4010/_mockery",  # only the control API itself is out
        "https://not-yet-in-dns.test/hook",  # checked again when each attempt connects
    ],
)
def test_loopback_private_and_public_targets_stay_allowed(
    registry: ConsumerRegistry, url: str
) -> None:
    assert registry.add(url).url == url


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("http://169.254.169.254/latest", "169.254.169.254 is a cloud metadata endpoint"),
        ("http://127.0.0.1:4010/_mock/reset", "the mock's control API"),
    ],
)
def test_the_control_api_refuses_a_target_in_the_error_shape(
    client: TestClient, url: str, fragment: str
) -> None:
    response = client.post("/_mock/webhooks", json={"url": url})
    expect_error(
        response, 400, "Error processing request - not valid.", items=[("url", fragment, "control")]
    )
    assert ok(client.get("/_mock/webhooks")) == {"consumers": []}


# -- when each attempt connects ------------------------------------------------------------------


class Counter:
    """A receiver app that counts what reaches it."""

    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()
        self.app = Starlette(routes=[Route("/hook", self.endpoint, methods=["POST"])])

    async def endpoint(self, _: Request) -> Response:
        with self.lock:
            self.count += 1
        return Response(status_code=204)


def test_each_attempt_resolves_again_and_connects_only_to_a_checked_address(
    clock: Clock,
) -> None:
    """A name that answers a loopback address at registration and the metadata address
    afterwards (DNS rebinding) gets one delivery, then none."""
    answers = {"flip.test": ["127.0.0.1"]}
    hub = WebhookHub(clock, random.Random(8), resolver=lambda host, _: list(answers[host]))
    counter = Counter()
    with serve(counter.app) as base:
        port = base.rsplit(":", 1)[1]
        consumer = hub.consumers.add(f"http://flip.test:{port}/hook")
        hub.start()
        try:
            hub.emit("connection.deleted", BODY)
            assert hub.wait_idle(10.0)
            # Reached through the injected resolver's answer: no DNS knows flip.test.
            assert counter.count == 1
            answers["flip.test"] = ["169.254.169.254"]
            hub.emit("connection.deleted", BODY)
            assert hub.wait_idle(10.0)
        finally:
            hub.stop()
    assert counter.count == 1
    log = hub.deliveries(consumer_id=consumer.id)
    assert [(a.status, a.error) for a in log[:2]] == [(204, None), (None, "blocked")]


def first_attempt(clock: Clock, url: str) -> tuple[int | None, str | None, str]:
    """Deliver one event to ``url`` over the real network stack; the first attempt's status,
    error and outcome."""
    hub = WebhookHub(clock, random.Random(8), resolver=resolve)
    hub.consumers.add(url)
    hub.start()
    try:
        hub.emit("connection.deleted", BODY)
        assert hub.wait_idle(10.0)
    finally:
        hub.stop()
    first = hub.deliveries()[0]
    return first.status, first.error, first.outcome


def test_an_unresolvable_name_is_a_dns_failure(clock: Clock) -> None:
    attempt = first_attempt(clock, "http://not-yet-in-dns.test/hook")
    assert attempt == (None, "dns", "failed")


def test_a_closed_port_is_one_word_with_no_address_in_it(clock: Clock) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed once the with block ends
    attempt = first_attempt(clock, f"http://127.0.0.1:{port}/hook")
    assert attempt == (None, "connect", "failed")


@pytest.mark.parametrize(
    ("exc", "word"),
    [
        (httpx.ReadTimeout("timed out reading from 10.0.0.7:443"), "timeout"),
        (httpx.ConnectTimeout("timed out"), "timeout"),
        (httpx.ConnectError("[Errno 111] Connection refused"), "connect"),
        (httpx.RemoteProtocolError("Server disconnected"), "protocol"),
        (httpx.ReadError("[Errno 104] Connection reset by peer"), "network"),
        (TargetRefused("link-local", "169.254.1.1 is a link-local address"), "blocked"),
        (TargetRefused("dns", "x.test does not resolve"), "dns"),
        (RuntimeError("anything at all"), "error"),
    ],
)
def test_failure_reasons_are_one_word(exc: Exception, word: str) -> None:
    assert failure_reason(exc) == word
