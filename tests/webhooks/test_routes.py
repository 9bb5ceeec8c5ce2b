"""Tests of mockserver/webhooks/routes.py: the ``/_mock/webhooks`` control routes, mounted the
way the app mounts them."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient

from mockserver.clock import Clock
from mockserver.webhooks import WebhookHub, webhook_routes
from mockserver.webhooks.signing import new_secret
from tests.handlers.support import expect_error, is_uuid4, ok
from tests.webhooks.conftest import BODY, RECEIVER_URL, Receiver, advance

INVALID = "Error processing request - not valid."
CORRELATION = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def control(hub: WebhookHub) -> Iterator[TestClient]:
    app = Starlette(routes=[Mount("/_mock", routes=webhook_routes(hub, lambda: CORRELATION))])
    with TestClient(app) as test_client:
        yield test_client


def register(control: TestClient, **body: Any) -> dict[str, Any]:
    created: dict[str, Any] = ok(
        control.post("/_mock/webhooks", json={"url": RECEIVER_URL, **body})
    )
    return created


def test_post_registers_a_consumer_and_answers_its_new_secret(control: TestClient) -> None:
    consumer = register(control)
    assert is_uuid4(consumer["id"])
    assert consumer["secret"].startswith("whsec_")
    assert (consumer["url"], consumer["events"], consumer["clientId"]) == (RECEIVER_URL, None, None)
    assert ok(control.get("/_mock/webhooks")) == {"consumers": [consumer]}


def test_post_keeps_a_given_secret_and_events(control: TestClient) -> None:
    secret = new_secret(random.Random(2))
    consumer = register(control, secret=secret, events=["connection.deleted"])
    assert (consumer["secret"], consumer["events"]) == (secret, ["connection.deleted"])


@pytest.mark.parametrize(
    ("body", "item_id", "fragment"),
    [
        ({"url": "not a url"}, "url", "http:// or https://"),
        ({"url": RECEIVER_URL, "secret": "hunter2"}, "secret", "whsec_"),
        ({}, "url", "url is required"),
    ],
)
def test_post_refuses_bad_consumers(
    control: TestClient, body: dict[str, Any], item_id: str, fragment: str
) -> None:
    response = control.post("/_mock/webhooks", json=body)
    found = expect_error(response, 400, INVALID, items=[(item_id, fragment, "control")])
    assert found["correlationId"] == CORRELATION
    assert ok(control.get("/_mock/webhooks")) == {"consumers": []}


def test_post_refuses_a_body_that_is_not_json(control: TestClient) -> None:
    response = control.post("/_mock/webhooks", content=b"{nope")
    expect_error(response, 400, INVALID, items=[("body", "not valid JSON", "control")])


def test_delete_removes_a_consumer_and_then_404s(control: TestClient) -> None:
    consumer = register(control)
    assert ok(control.delete(f"/_mock/webhooks/{consumer['id']}")) == consumer
    assert ok(control.get("/_mock/webhooks")) == {"consumers": []}
    response = control.delete(f"/_mock/webhooks/{consumer['id']}")
    expect_error(response, 404, f"No webhook consumer was found with id {consumer['id']!r}.")


def test_deliveries_and_messages_show_what_was_sent(
    control: TestClient, hub: WebhookHub, clock: Clock, receiver: Receiver
) -> None:
    consumer = register(control)
    receiver.statuses = [500]
    message_id = hub.emit("connection.deleted", BODY)
    assert hub.wait_idle(5.0)
    advance(hub, clock, 5)
    deliveries = ok(control.get("/_mock/webhooks/deliveries"))["deliveries"]
    assert [(d["messageId"], d["consumerId"], d["attempt"], d["responseStatus"], d["outcome"])
            for d in deliveries] == [
        (message_id, consumer["id"], 1, 500, "failed"),
        (message_id, consumer["id"], 2, 200, "delivered"),
    ]  # fmt: skip
    failed = ok(control.get("/_mock/webhooks/deliveries", params={"outcome": "failed"}))
    assert [d["attempt"] for d in failed["deliveries"]] == [1]
    other = ok(control.get("/_mock/webhooks/deliveries", params={"consumerId": "nobody"}))
    assert other == {"deliveries": []}
    messages = ok(control.get("/_mock/webhooks/messages"))["messages"]
    assert [(m["id"], m["status"], m["attempts"], m["payload"]) for m in messages] == [
        (message_id, "delivered", 2, BODY)
    ]
    assert ok(control.delete("/_mock/webhooks/deliveries")) == {"deliveries": []}
    assert ok(control.get("/_mock/webhooks/messages")) == {"messages": []}


def test_deliveries_refuse_an_unknown_outcome(control: TestClient) -> None:
    response = control.get("/_mock/webhooks/deliveries", params={"outcome": "lost"})
    expect_error(response, 400, INVALID, items=[("outcome", "one of pending", "control")])


def test_fault_rules_can_be_added_listed_and_removed(control: TestClient) -> None:
    one = ok(control.post("/_mock/webhooks/faults", json={"action": "duplicate", "times": 1}))
    assert one == {"action": "duplicate", "eventType": "*", "times": 1, "id": "delivery-rule-1",
                   "fired": 0, "retired": False}  # fmt: skip
    many = ok(
        control.post(
            "/_mock/webhooks/faults",
            json=[{"action": "reorder"}, {"action": "delay", "delaySeconds": 30, "id": "slow"}],
        )
    )
    assert [r["id"] for r in many["rules"]] == ["delivery-rule-2", "slow"]
    listed = ok(control.get("/_mock/webhooks/faults"))["rules"]
    assert [r["id"] for r in listed] == ["delivery-rule-1", "delivery-rule-2", "slow"]
    assert ok(control.delete("/_mock/webhooks/faults/slow"))["id"] == "slow"
    expect_error(
        control.delete("/_mock/webhooks/faults/slow"),
        404,
        "No delivery fault rule was found with id 'slow'.",
    )
    assert ok(control.delete("/_mock/webhooks/faults")) == {"rules": []}
    assert ok(control.get("/_mock/webhooks/faults")) == {"rules": []}


def test_bad_fault_rules_are_refused_and_none_of_a_list_is_added(control: TestClient) -> None:
    response = control.post(
        "/_mock/webhooks/faults", json=[{"action": "duplicate"}, {"action": "delay"}]
    )
    expect_error(response, 400, INVALID, items=[("rule", "needs delaySeconds", "control")])
    assert ok(control.get("/_mock/webhooks/faults")) == {"rules": []}
    conflict = control.post("/_mock/webhooks/faults", json={"action": "reorder", "id": "x"})
    assert conflict.status_code == 200
    again = control.post("/_mock/webhooks/faults", json={"action": "reorder", "id": "x"})
    expect_error(again, 409, "A delivery fault rule with id 'x' already exists.")


def test_a_rule_added_over_http_applies_to_the_next_delivery(
    control: TestClient, hub: WebhookHub, receiver: Receiver
) -> None:
    register(control)
    ok(control.post("/_mock/webhooks/faults", json={"action": "duplicate", "times": 1}))
    hub.emit("connection.deleted", BODY)
    assert hub.wait_idle(5.0)
    assert len(receiver.requests) == 2
