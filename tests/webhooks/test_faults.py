"""Tests of mockserver/webhooks/faults.py: the delivery fault rules, and what duplicate,
reorder and delay do to deliveries."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from standardwebhooks import Webhook

from mockserver.clock import Clock
from mockserver.errors import BadRequest, Conflict, NotFound
from mockserver.webhooks import WebhookHub
from mockserver.webhooks.faults import DeliveryFaultBook, DeliveryFaultRule, delivery_rule_from
from tests.conftest import T0
from tests.webhooks.conftest import BODY, RECEIVER_URL, Receiver, advance


def event(event_type: str, n: int = 0) -> dict[str, Any]:
    return {**BODY, "id": f"e{n}", "eventType": event_type}


# -- the rule model ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "item_id", "fragment"),
    [
        ({}, "action", "Field required"),
        ({"action": "explode"}, "action", "'duplicate', 'reorder' or 'delay'"),
        ({"action": "delay"}, "rule", "needs delaySeconds"),
        ({"action": "delay", "delaySeconds": 0}, "delaySeconds", "greater than 0"),
        ({"action": "duplicate", "delaySeconds": 3}, "rule", "delay action only"),
        ({"action": "duplicate", "times": 0}, "times", "greater than or equal to 1"),
        ({"action": "duplicate", "status": 500}, "status", "Extra inputs"),
    ],
)
def test_bad_rules_are_refused_naming_the_field(
    data: dict[str, Any], item_id: str, fragment: str
) -> None:
    with pytest.raises(BadRequest) as caught:
        delivery_rule_from(data)
    (item,) = caught.value.validation
    assert item.item_id == item_id
    assert fragment in item.message
    assert item.validator_name == "control"


def test_rules_pick_in_order_and_retire_after_times() -> None:
    book = DeliveryFaultBook()
    first = book.add(delivery_rule_from({"action": "duplicate", "times": 1}))
    book.add(delivery_rule_from({"action": "reorder", "eventType": "connection.*"}))
    assert first.rule_id == "delivery-rule-1"
    assert [r.action for r in [book.pick("connection.deleted", "c")] if r] == ["duplicate"]
    assert [r.action for r in [book.pick("connection.deleted", "c")] if r] == ["reorder"]
    assert book.pick("company.created", "c") is None
    assert [r.to_json() for r in book.rules()] == [
        {"action": "duplicate", "eventType": "*", "times": 1, "id": "delivery-rule-1",
         "fired": 1, "retired": True},
        {"action": "reorder", "eventType": "connection.*", "id": "delivery-rule-2",
         "fired": 1, "retired": False},
    ]  # fmt: skip


def test_a_rule_can_target_one_consumer() -> None:
    book = DeliveryFaultBook()
    book.add(DeliveryFaultRule(action="duplicate", consumerId="c1"))
    assert book.pick("connection.deleted", "c2") is None
    assert book.pick("connection.deleted", "c1") is not None


def test_rule_ids_are_unique_and_removable() -> None:
    book = DeliveryFaultBook()
    book.add(DeliveryFaultRule(id="mine", action="duplicate"))
    with pytest.raises(Conflict, match="mine"):
        book.add(DeliveryFaultRule(id="mine", action="reorder"))
    assert book.remove("mine").rule_id == "mine"
    with pytest.raises(NotFound, match="mine"):
        book.remove("mine")
    book.add(DeliveryFaultRule(action="duplicate"))
    book.clear()
    assert book.rules() == []


# -- what the rules do to deliveries ---------------------------------------------------------


def test_duplicate_sends_a_delivered_message_once_more_with_the_same_webhook_id(
    hub: WebhookHub, receiver: Receiver
) -> None:
    consumer = hub.consumers.add(RECEIVER_URL)
    hub.faults.add(DeliveryFaultRule(action="duplicate", times=1))
    doubled = hub.emit("connection.deleted", event("connection.deleted", 1))
    single = hub.emit("connection.deleted", event("connection.deleted", 2))
    assert hub.wait_idle(5.0)
    assert [r.headers["webhook-id"] for r in receiver.requests] == [doubled, doubled, single]
    assert receiver.requests[0].content == receiver.requests[1].content
    for request in receiver.requests:
        Webhook(consumer.secret).verify(request.content, dict(request.headers))
    log = hub.deliveries(message_id=doubled)
    assert [(a.number, a.outcome, a.fault) for a in log] == [
        (1, "delivered", None),
        (1, "delivered", "duplicate"),
    ]


def test_duplicate_waits_for_the_delivery_through_retries(
    hub: WebhookHub, clock: Clock, receiver: Receiver
) -> None:
    hub.consumers.add(RECEIVER_URL)
    hub.faults.add(DeliveryFaultRule(action="duplicate"))
    receiver.statuses = [500]
    hub.emit("connection.deleted", BODY)
    assert hub.wait_idle(5.0)
    assert len(receiver.requests) == 1  # no copy of a failed attempt
    advance(hub, clock, 5)
    assert [(a.number, a.status, a.fault) for a in hub.deliveries()] == [
        (1, 500, None),
        (2, 200, None),
        (2, 200, "duplicate"),
    ]


def test_reorder_holds_a_message_back_until_the_next_one_has_been_sent(
    hub: WebhookHub, receiver: Receiver
) -> None:
    hub.consumers.add(RECEIVER_URL)
    hub.faults.add(DeliveryFaultRule(action="reorder", times=1))
    held = hub.emit("connection.connected", event("connection.connected"))
    assert hub.wait_idle(5.0)
    assert receiver.requests == []
    assert [(m.id, m.held, m.status) for m in hub.messages()] == [(held, True, "pending")]
    assert hub.messages()[0].to_json()["heldBack"] is True
    later = hub.emit("connection.disconnected", event("connection.disconnected"))
    assert hub.wait_idle(5.0)
    assert [r.headers["webhook-id"] for r in receiver.requests] == [later, held]
    assert [(a.message_id, a.fault) for a in hub.deliveries()] == [
        (held, "reorder"),
        (later, None),
    ]
    assert {m.status for m in hub.messages()} == {"delivered"}


def test_reorder_is_per_consumer(hub: WebhookHub, receiver: Receiver) -> None:
    first = hub.consumers.add(f"{RECEIVER_URL}/1")
    second = hub.consumers.add(f"{RECEIVER_URL}/2", events=["connection.created"])
    hub.faults.add(DeliveryFaultRule(action="reorder", consumerId=first.id, times=1))
    held = hub.emit("connection.deleted", BODY)
    other = hub.emit("connection.created", event("connection.created"))
    assert hub.wait_idle(5.0)
    # The message to the second consumer does not release the first consumer's...
    assert [r.headers["webhook-id"] for r in receiver.to(second.url)] == [other]
    # ...but it also went to the first consumer (subscribed to everything), which does.
    assert [r.headers["webhook-id"] for r in receiver.to(first.url)] == [other, held]


def test_delay_pushes_the_first_attempt_later_on_the_mock_clock(
    hub: WebhookHub, clock: Clock, receiver: Receiver
) -> None:
    hub.consumers.add(RECEIVER_URL)
    hub.faults.add(DeliveryFaultRule(action="delay", delaySeconds=30, eventType="connection.*"))
    hub.emit("connection.deleted", BODY)
    assert hub.wait_idle(5.0)
    assert receiver.requests == []
    advance(hub, clock, 29.9)
    assert receiver.requests == []
    advance(hub, clock, 0.1)
    assert len(receiver.requests) == 1
    (attempt,) = hub.deliveries()
    assert (attempt.scheduled, attempt.sent_at, attempt.fault) == (
        T0 + timedelta(seconds=30),
        T0 + timedelta(seconds=30),
        "delay",
    )


def test_a_rule_for_another_event_type_changes_nothing(hub: WebhookHub, receiver: Receiver) -> None:
    hub.consumers.add(RECEIVER_URL)
    hub.faults.add(DeliveryFaultRule(action="delay", delaySeconds=30, eventType="company.*"))
    hub.emit("connection.deleted", BODY)
    assert hub.wait_idle(5.0)
    assert len(receiver.requests) == 1
    assert hub.faults.rules()[0].fired == 0


def test_an_unlimited_reorder_rule_swaps_messages_in_pairs(
    hub: WebhookHub, receiver: Receiver
) -> None:
    hub.consumers.add(RECEIVER_URL)
    hub.faults.add(DeliveryFaultRule(action="reorder"))
    ids = [hub.emit("connection.deleted", event("connection.deleted", n)) for n in range(5)]
    assert hub.wait_idle(5.0)
    assert [r.headers["webhook-id"] for r in receiver.requests] == [ids[1], ids[0], ids[3], ids[2]]
    # The fifth waits for a sixth; the releasing messages did not count as firings.
    assert [m.held for m in hub.messages()] == [False, False, False, False, True]
    assert hub.faults.rules()[0].fired == 3
