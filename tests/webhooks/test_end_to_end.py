"""End to end over real HTTP on loopback: the hub delivers to a receiver running under uvicorn,
which verifies each delivery with the ``standardwebhooks`` library."""

from __future__ import annotations

import io
import json
import random
import threading
from typing import Any

from standardwebhooks import Webhook
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient

from mockserver.clock import Clock
from mockserver.spec import Spec
from mockserver.webhooks import CONNECTION_DELETED, WebhookHub
from mockserver.webhooks.listen import listen_app
from mockserver.webhooks.signing import new_secret
from tests.conftest import T0
from tests.handlers.support import create_company, create_connection, link_connection
from tests.webhooks.conftest import serve


class Capture:
    """A receiver app that keeps each delivery's raw body and headers and answers the
    scripted statuses in turn (then 200)."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = list(statuses)
        self.received: list[tuple[bytes, dict[str, str]]] = []
        self.arrived = threading.Condition()
        self.app = Starlette(routes=[Route("/codat", self.endpoint, methods=["POST"])])

    async def endpoint(self, request: Request) -> Response:
        body = await request.body()
        with self.arrived:
            self.received.append((body, dict(request.headers)))
            status = self.statuses.pop(0) if self.statuses else 200
            self.arrived.notify_all()
        return Response(status_code=status)

    def wait_for(self, count: int, timeout: float = 10.0) -> bool:
        with self.arrived:
            return self.arrived.wait_for(lambda: len(self.received) >= count, timeout)


def deleted_connection(client: TestClient) -> tuple[dict[str, Any], dict[str, Any]]:
    company = create_company(client, "Harbour Street Bakery", tags={"region": "uk-south"})
    connection = create_connection(client, company["id"])
    return company, link_connection(client, company["id"], connection["id"])


def test_a_real_receiver_gets_a_signed_connection_deleted_that_verifies_and_validates(
    client: TestClient, clock: Clock, spec: Spec
) -> None:
    capture = Capture([])
    company, connection = deleted_connection(client)
    hub = WebhookHub(clock, random.Random(3))  # the real network: no transport
    with serve(capture.app) as base:
        hub.start()
        try:
            consumer = hub.consumers.add(f"{base}/codat", events=[CONNECTION_DELETED])
            message_id = hub.emit_connection(CONNECTION_DELETED, company, connection)
            assert capture.wait_for(1)
            assert hub.wait_idle(10.0)
        finally:
            hub.stop()
    ((body, headers),) = capture.received
    assert headers["webhook-id"] == message_id
    event = Webhook(consumer.secret).verify(body, headers)
    assert spec.schema_validator("ConnectionWebhook").problems(event) == []
    assert event["eventType"] == "connection.deleted"
    assert event["payload"]["connection"]["id"] == connection["id"]
    assert event["payload"]["referenceCompany"]["tags"] == {"region": "uk-south"}
    assert [(a.status, a.outcome) for a in hub.deliveries()] == [(200, "delivered")]


def test_a_real_receiver_failing_twice_gets_both_retries_as_the_clock_advances(
    clock: Clock,
) -> None:
    capture = Capture([500, 500])
    hub = WebhookHub(clock, random.Random(3))
    body = {"id": "e1", "eventType": "connection.deleted", "payload": {}}
    with serve(capture.app) as base:
        hub.start()
        try:
            consumer = hub.consumers.add(f"{base}/codat")
            message_id = hub.emit(CONNECTION_DELETED, body)
            assert capture.wait_for(1)
            assert hub.wait_idle(10.0)
            clock.advance(5)
            hub.clock_moved()
            assert capture.wait_for(2)
            assert hub.wait_idle(10.0)
            assert len(capture.received) == 2  # the 5 min retry is not due yet
            clock.advance(300)
            hub.clock_moved()
            assert capture.wait_for(3)
            assert hub.wait_idle(10.0)
        finally:
            hub.stop()
    assert [h["webhook-id"] for _, h in capture.received] == [message_id] * 3
    for raw, headers in capture.received:
        assert Webhook(consumer.secret).verify(raw, headers) == body
    log = hub.deliveries(message_id=message_id)
    assert [(a.number, a.status) for a in log] == [(1, 500), (2, 500), (3, 200)]
    assert [a.sent_at for a in log] == [
        T0,
        T0.replace(second=5),
        T0.replace(minute=5, second=5),
    ]


def test_the_listen_app_over_loopback_prints_each_verified_event(
    client: TestClient, clock: Clock
) -> None:
    company, connection = deleted_connection(client)
    printed = threading.Event()

    class Out(io.StringIO):
        def flush(self) -> None:
            super().flush()
            printed.set()

    out = Out()
    hub = WebhookHub(clock, random.Random(4))
    secret = new_secret(random.Random(40))
    with serve(listen_app(secret, out)) as base:
        hub.consumers.add(base + "/webhooks", secret=secret)
        hub.start()
        try:
            message_id = hub.emit_connection(CONNECTION_DELETED, company, connection)
            assert printed.wait(10)
            assert hub.wait_idle(10.0)
        finally:
            hub.stop()
    (line,) = out.getvalue().splitlines()
    shown = json.loads(line)
    assert shown["webhookId"] == message_id
    assert shown["event"]["payload"]["connection"]["id"] == connection["id"]
    assert [a.status for a in hub.deliveries()] == [204]
