"""Tests of mockserver/webhooks/delivery.py: the outbox, Svix's retry schedule on the mock
clock, signing of every attempt, and the deliveries log.

Nothing here sleeps: the clock is moved by hand and the tests wait on the hub's idle
condition (or the receiver's), each with a timeout.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook

from mockserver.clock import Clock
from mockserver.errors import NotFound
from mockserver.jsonio import dumps
from mockserver.webhooks import MAX_ATTEMPTS, RETRY_DELAYS, WebhookHub
from tests.conftest import T0
from tests.webhooks.conftest import BODY, RECEIVER_URL, Receiver, advance, resolve


def seconds(n: float) -> timedelta:
    return timedelta(seconds=n)


def test_the_schedule_is_svixs() -> None:
    assert RETRY_DELAYS == (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600)
    assert MAX_ATTEMPTS == 8


def test_a_receiver_failing_twice_gets_retries_only_as_the_clock_reaches_them(
    hub: WebhookHub, clock: Clock, receiver: Receiver
) -> None:
    consumer = hub.consumers.add(RECEIVER_URL)
    receiver.statuses = [500, 500]
    message_id = hub.emit("connection.deleted", BODY)
    assert message_id is not None
    assert hub.wait_idle(5.0)
    assert len(receiver.requests) == 1

    advance(hub, clock, 4.999)
    assert len(receiver.requests) == 1  # not before it is due
    advance(hub, clock, 0.001)
    assert len(receiver.requests) == 2
    advance(hub, clock, 299.999)
    assert len(receiver.requests) == 2
    advance(hub, clock, 0.001)
    assert len(receiver.requests) == 3
    advance(hub, clock, 36 * 3600)
    assert len(receiver.requests) == 3  # delivered: nothing more

    assert [r.headers["webhook-id"] for r in receiver.requests] == [message_id] * 3
    for request in receiver.requests:
        assert Webhook(consumer.secret).verify(request.content, dict(request.headers)) == BODY
    log = hub.deliveries(message_id=message_id)
    assert [a.number for a in log] == [1, 2, 3]
    assert [a.status for a in log] == [500, 500, 200]
    assert [a.outcome for a in log] == ["failed", "failed", "delivered"]
    assert [a.scheduled for a in log] == [T0, T0 + seconds(5), T0 + seconds(305)]
    assert [a.sent_at for a in log] == [T0, T0 + seconds(5), T0 + seconds(305)]
    assert all(a.duration_ms is not None and a.duration_ms >= 0 for a in log)
    assert hub.messages()[0].status == "delivered"


def test_each_wait_counts_from_the_failure_before_it_not_from_the_first_attempt(
    hub: WebhookHub, clock: Clock, receiver: Receiver
) -> None:
    hub.consumers.add(RECEIVER_URL)
    receiver.statuses = [500, 500]
    hub.emit("connection.deleted", BODY)
    assert hub.wait_idle(5.0)
    advance(hub, clock, 100)  # attempt 2 was due at +5 s; it goes now, at +100 s, and fails
    assert len(receiver.requests) == 2
    advance(hub, clock, 299)  # +399 s: attempt 3 is due 5 min after the failure, at +400 s
    assert len(receiver.requests) == 2
    advance(hub, clock, 1)
    assert len(receiver.requests) == 3
    assert [a.scheduled for a in hub.deliveries()] == [T0, T0 + seconds(5), T0 + seconds(400)]
    assert [a.sent_at for a in hub.deliveries()] == [T0, T0 + seconds(100), T0 + seconds(400)]


def test_an_exhausted_schedule_marks_the_message_failed(
    hub: WebhookHub, clock: Clock, receiver: Receiver
) -> None:
    hub.consumers.add(RECEIVER_URL)
    receiver.default = 503
    message_id = hub.emit("connection.deleted", BODY)
    assert hub.wait_idle(5.0)
    for delay in RETRY_DELAYS:
        advance(hub, clock, delay)
    advance(hub, clock, 30 * 24 * 3600)
    assert len(receiver.requests) == MAX_ATTEMPTS
    log = hub.deliveries(message_id=message_id)
    assert [a.number for a in log] == list(range(1, 9))
    assert {a.outcome for a in log} == {"failed"}
    expected, at = [T0], T0
    for delay in RETRY_DELAYS:
        at += seconds(delay)
        expected.append(at)
    assert [a.sent_at for a in log] == expected
    assert [m.status for m in hub.messages()] == ["failed"]
    assert hub.messages()[0].next_attempt_at is None


def test_a_pending_retry_is_listed_with_its_due_time(hub: WebhookHub, receiver: Receiver) -> None:
    hub.consumers.add(RECEIVER_URL)
    receiver.statuses = [500]
    hub.emit("connection.deleted", BODY)
    assert hub.wait_idle(5.0)
    pending = hub.deliveries(outcome="pending")
    assert [(a.number, a.scheduled, a.sent_at) for a in pending] == [(2, T0 + seconds(5), None)]
    assert pending[0].to_json()["sentAt"] is None
    assert hub.messages()[0].next_attempt_at == T0 + seconds(5)


@pytest.mark.parametrize("status", [200, 201, 204, 299])
def test_any_2xx_is_a_delivery(hub: WebhookHub, receiver: Receiver, status: int) -> None:
    hub.consumers.add(RECEIVER_URL)
    receiver.statuses = [status]
    hub.emit("connection.deleted", BODY)
    assert hub.wait_idle(5.0)
    assert [a.outcome for a in hub.deliveries()] == ["delivered"]


@pytest.mark.parametrize("status", [301, 302, 400, 410, 429, 500])
def test_anything_else_is_a_failure_and_redirects_are_not_followed(
    hub: WebhookHub, receiver: Receiver, status: int
) -> None:
    hub.consumers.add(RECEIVER_URL)
    receiver.answer = lambda _: httpx.Response(status, headers={"location": "https://x.test/"})
    hub.emit("connection.deleted", BODY)
    assert hub.wait_idle(5.0)
    assert len(receiver.requests) == 1
    assert [(a.outcome, a.status) for a in hub.deliveries()] == [
        ("failed", status),
        ("pending", None),
    ]


def test_abort_message_from_the_receiver_stops_the_retries(
    hub: WebhookHub, clock: Clock, receiver: Receiver
) -> None:
    hub.consumers.add(RECEIVER_URL)
    receiver.answer = lambda _: httpx.Response(500, headers={"webhook-delivery": "abort-message"})
    hub.emit("connection.deleted", BODY)
    assert hub.wait_idle(5.0)
    advance(hub, clock, 3600)
    assert len(receiver.requests) == 1
    assert [m.status for m in hub.messages()] == ["failed"]
    assert hub.deliveries(outcome="pending") == []


def test_a_network_error_is_a_failed_attempt_with_no_status(
    hub: WebhookHub, clock: Clock, receiver: Receiver
) -> None:
    hub.consumers.add(RECEIVER_URL)

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    receiver.answer = refuse
    hub.emit("connection.deleted", BODY)
    assert hub.wait_idle(5.0)
    first = hub.deliveries()[0]
    assert (first.outcome, first.status) == ("failed", None)
    assert first.error == "connect"  # one word: an exception's text would leak addresses
    receiver.answer = None
    advance(hub, clock, 5)
    assert [a.outcome for a in hub.deliveries()] == ["failed", "delivered"]


def test_attempts_use_a_15_second_timeout_and_ignore_proxy_settings(
    clock: Clock, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With trust_env the client would route through this (dead) proxy instead of the transport.
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("ALL_PROXY", "http://127.0.0.1:9")
    hub = WebhookHub(clock, random.Random(1), transport=receiver.transport, resolver=resolve)
    hub.start()
    try:
        hub.consumers.add(RECEIVER_URL)
        hub.emit("connection.deleted", BODY)
        assert hub.wait_idle(5.0)
    finally:
        hub.stop()
    assert len(receiver.requests) == 1
    assert receiver.requests[0].extensions["timeout"] == {
        "connect": 15.0,
        "read": 15.0,
        "write": 15.0,
        "pool": 15.0,
    }


def test_every_attempt_posts_the_same_json_bytes_with_fresh_signatures(
    clock: Clock, receiver: Receiver
) -> None:
    walls = iter(datetime(2026, 11, 1, 12, 0, s, tzinfo=timezone.utc) for s in (1, 7))
    hub = WebhookHub(clock, random.Random(1), transport=receiver.transport,
                     wall_clock=lambda: next(walls), resolver=resolve)  # fmt: skip
    hub.start()
    try:
        hub.consumers.add(RECEIVER_URL)
        receiver.statuses = [500]
        hub.emit("connection.deleted", BODY)
        assert hub.wait_idle(5.0)
        advance(hub, clock, 5)
    finally:
        hub.stop()
    first, second = receiver.requests
    assert first.content == second.content == dumps(BODY)
    assert first.headers["content-type"] == "application/json"
    # Signed with the wall clock at each attempt, not the (frozen) mock clock.
    stamps = [r.headers["webhook-timestamp"] for r in receiver.requests]
    assert stamps == [
        str(int(datetime(2026, 11, 1, 12, 0, s, tzinfo=timezone.utc).timestamp())) for s in (1, 7)
    ]
    assert first.headers["webhook-signature"] != second.headers["webhook-signature"]
    assert [a.to_json()["sentAtWall"] for a in hub.deliveries()] == [
        "2026-11-01T12:00:01.000Z",
        "2026-11-01T12:00:07.000Z",
    ]


def test_sign_with_mock_clock_stamps_mock_time(clock: Clock, receiver: Receiver) -> None:
    hub = WebhookHub(clock, random.Random(1), transport=receiver.transport,
                     sign_with_mock_clock=True, resolver=resolve)  # fmt: skip
    hub.start()
    try:
        hub.consumers.add(RECEIVER_URL)
        hub.emit("connection.deleted", BODY)
        assert hub.wait_idle(5.0)
    finally:
        hub.stop()
    assert receiver.requests[0].headers["webhook-timestamp"] == str(int(T0.timestamp()))


def test_events_go_only_to_consumers_that_subscribed(hub: WebhookHub, receiver: Receiver) -> None:
    everything = hub.consumers.add(f"{RECEIVER_URL}/all")
    deleted = hub.consumers.add(f"{RECEIVER_URL}/deleted", events=["connection.deleted"])
    created = hub.consumers.add(f"{RECEIVER_URL}/created", events=["connection.created"])
    deleted_id = hub.emit("connection.deleted", BODY)
    created_id = hub.emit("connection.created", {**BODY, "eventType": "connection.created"})
    assert hub.wait_idle(5.0)
    assert [r.headers["webhook-id"] for r in receiver.to(everything.url)] == [
        deleted_id,
        created_id,
    ]
    assert [r.headers["webhook-id"] for r in receiver.to(deleted.url)] == [deleted_id]
    assert [r.headers["webhook-id"] for r in receiver.to(created.url)] == [created_id]
    # Each consumer's copy is signed with its own secret.
    for consumer in (everything, deleted, created):
        for request in receiver.to(consumer.url):
            Webhook(consumer.secret).verify(request.content, dict(request.headers))


def test_client_bound_consumers_get_only_their_clients_events(
    hub: WebhookHub, receiver: Receiver
) -> None:
    hub.consumers.add(RECEIVER_URL, client_id="client-a")
    assert hub.emit("connection.deleted", BODY, client_id="client-b") is None
    assert hub.emit("connection.deleted", BODY, client_id="client-a") is not None
    assert hub.wait_idle(5.0)
    assert len(receiver.requests) == 1


def test_emit_with_no_consumer_sends_and_draws_nothing(clock: Clock, receiver: Receiver) -> None:
    rng = random.Random(3)
    hub = WebhookHub(clock, rng, transport=receiver.transport, resolver=resolve)
    before = rng.getstate()
    company = {"id": "c", "name": "A"}
    assert hub.emit("connection.deleted", BODY) is None
    assert hub.emit_connection("connection.deleted", company, {}) is None
    assert rng.getstate() == before
    assert hub.messages() == [] and hub.deliveries() == []


def test_emit_connection_builds_the_event_body(hub: WebhookHub, receiver: Receiver) -> None:
    hub.consumers.add(RECEIVER_URL)
    company: dict[str, Any] = {"id": "c1", "name": "Acme", "description": None, "tags": {}}
    assert hub.emit_connection("connection.deleted", company, {"id": "k1"}) is not None
    assert hub.wait_idle(5.0)
    sent = json.loads(receiver.requests[0].content)
    assert sent["eventType"] == "connection.deleted"
    assert sent["payload"]["referenceCompany"]["id"] == "c1"
    assert sent["payload"]["connection"] == {"id": "k1"}


def test_emit_returns_while_a_slow_receiver_is_still_answering(
    hub: WebhookHub, receiver: Receiver
) -> None:
    entered, release = threading.Event(), threading.Event()

    def slow(_: httpx.Request) -> httpx.Response:
        entered.set()
        release.wait(10)
        return httpx.Response(200)

    receiver.answer = slow
    hub.consumers.add(RECEIVER_URL)
    hub.emit("connection.deleted", BODY)
    assert entered.wait(5)
    second = threading.Thread(target=hub.emit, args=("connection.deleted", BODY))
    second.start()
    second.join(5)
    try:
        assert not second.is_alive()  # emit did not wait for the receiver
        assert not hub.wait_idle(0.05)  # an attempt is in flight
    finally:
        release.set()
    assert hub.wait_idle(5.0)
    assert len(receiver.requests) == 2


def test_a_real_time_clock_wakes_the_worker_when_a_retry_falls_due(receiver: Receiver) -> None:
    # The retry falls due in real time; nobody calls clock_moved, and max_wait is long, so
    # only the worker's own timed wake can send it.
    hub = WebhookHub(Clock(), random.Random(1), transport=receiver.transport, max_wait=60,
                     retry_delays=(0.05,), resolver=resolve)  # fmt: skip
    hub.start()
    try:
        hub.consumers.add(RECEIVER_URL)
        receiver.statuses = [500]
        hub.emit("connection.deleted", BODY)
        assert receiver.wait_for(2, timeout=5.0)
        assert hub.wait_idle(5.0)
    finally:
        hub.stop()
    assert [a.status for a in hub.deliveries()] == [500, 200]


def test_removing_a_consumer_cancels_its_pending_retries(
    hub: WebhookHub, clock: Clock, receiver: Receiver
) -> None:
    consumer = hub.consumers.add(RECEIVER_URL)
    receiver.statuses = [500]
    hub.emit("connection.deleted", BODY)
    assert hub.wait_idle(5.0)
    assert hub.remove_consumer(consumer.id) is consumer
    advance(hub, clock, 3600)
    assert len(receiver.requests) == 1
    assert [a.outcome for a in hub.deliveries()] == ["failed", "cancelled"]
    assert [m.status for m in hub.messages()] == ["cancelled"]
    with pytest.raises(NotFound):
        hub.remove_consumer(consumer.id)


def test_clear_deliveries_keeps_only_pending_messages(hub: WebhookHub, receiver: Receiver) -> None:
    hub.consumers.add(RECEIVER_URL)
    delivered = hub.emit("connection.deleted", BODY)
    assert hub.wait_idle(5.0)
    receiver.statuses = [500]
    retrying = hub.emit("connection.deleted", BODY)
    assert hub.wait_idle(5.0)
    hub.clear_deliveries()
    assert {m.id for m in hub.messages()} == {retrying} != {delivered}
    assert [(a.message_id, a.outcome) for a in hub.deliveries()] == [
        (retrying, "failed"),
        (retrying, "pending"),
    ]


def test_reset_drops_messages_log_and_fault_rules_but_keeps_consumers(
    hub: WebhookHub, clock: Clock, receiver: Receiver
) -> None:
    from mockserver.webhooks.faults import DeliveryFaultRule

    consumer = hub.consumers.add(RECEIVER_URL)
    hub.faults.add(DeliveryFaultRule(action="delay", delaySeconds=10))
    hub.emit("connection.deleted", BODY)
    hub.reset()
    advance(hub, clock, 60)
    assert receiver.requests == []
    assert hub.messages() == [] and hub.deliveries() == [] and hub.faults.rules() == []
    assert hub.consumers.all() == [consumer]


def test_the_deliveries_log_json_shape(hub: WebhookHub, receiver: Receiver) -> None:
    consumer = hub.consumers.add(RECEIVER_URL)
    message_id = hub.emit("connection.deleted", BODY)
    assert hub.wait_idle(5.0)
    (entry,) = [a.to_json() for a in hub.deliveries()]
    assert set(entry) == {
        "messageId", "consumerId", "url", "eventType", "attempt", "scheduledAt", "sentAt",
        "sentAtWall", "responseStatus", "error", "durationMs", "outcome", "fault",
    }  # fmt: skip
    assert entry["messageId"] == message_id
    assert entry["consumerId"] == consumer.id
    assert (entry["url"], entry["eventType"], entry["attempt"]) == (
        RECEIVER_URL,
        "connection.deleted",
        1,
    )
    assert entry["scheduledAt"] == entry["sentAt"] == "2026-03-02T09:00:00Z"
    assert (entry["responseStatus"], entry["outcome"], entry["error"]) == (200, "delivered", None)
    (message,) = [m.to_json() for m in hub.messages()]
    assert message["payload"] == BODY
    assert (message["status"], message["attempts"], message["nextAttemptAt"]) == (
        "delivered",
        1,
        None,
    )


def test_the_same_seed_gives_the_same_message_ids(clock: Clock, receiver: Receiver) -> None:
    ids = []
    for _ in range(2):
        hub = WebhookHub(clock, random.Random(21), transport=receiver.transport, resolver=resolve)
        hub.consumers.add(RECEIVER_URL)
        ids.append(hub.emit("connection.deleted", BODY))
    assert ids[0] == ids[1]


def test_start_and_stop_are_idempotent_and_wait_idle_needs_a_worker(
    clock: Clock, receiver: Receiver
) -> None:
    hub = WebhookHub(clock, random.Random(1), transport=receiver.transport, resolver=resolve)
    with pytest.raises(RuntimeError, match="not running"):
        hub.wait_idle(0.01)
    hub.start()
    hub.start()
    assert hub.running
    hub.stop()
    hub.stop()
    assert not hub.running
    hub.start()  # and it can start again
    try:
        hub.consumers.add(RECEIVER_URL)
        hub.emit("connection.deleted", BODY)
        assert hub.wait_idle(5.0)
    finally:
        hub.stop()
    assert len(receiver.requests) == 1


def test_a_worker_outliving_a_timed_out_stop_quits_when_a_new_one_starts(
    clock: Clock, receiver: Receiver
) -> None:
    entered, release = threading.Event(), threading.Event()

    def slow(_: httpx.Request) -> httpx.Response:
        entered.set()
        release.wait(10)
        return httpx.Response(200)

    receiver.answer = slow
    hub = WebhookHub(clock, random.Random(1), transport=receiver.transport, resolver=resolve)
    hub.start()
    hub.consumers.add(RECEIVER_URL)
    before = set(threading.enumerate())
    hub.emit("connection.deleted", BODY)
    assert entered.wait(5)
    (old,) = set(threading.enumerate()) - before  # the consumer's worker
    hub.stop(timeout=0.01)  # the old worker is still inside the slow receiver
    assert old.is_alive()
    hub.start()
    try:
        release.set()
        old.join(5)
        assert not old.is_alive()
        receiver.answer = None
        hub.emit("connection.deleted", BODY)
        assert hub.wait_idle(5.0)
    finally:
        hub.stop()
    assert len(receiver.requests) == 2
    assert [a.outcome for a in hub.deliveries()] == ["delivered", "delivered"]


# -- one consumer never waits on another -------------------------------------------------------

HANGING_URL = "https://hanging.test/codat"


class Hang:
    """Answers for two receivers: at HANGING_URL one that hangs until released (then 200),
    elsewhere one that answers at once, the scripted ``statuses`` in turn (then 200)."""

    def __init__(self, receiver: Receiver) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.statuses: list[int] = []
        receiver.answer = self.answer

    def answer(self, request: httpx.Request) -> httpx.Response:
        if str(request.url) == HANGING_URL:
            self.entered.set()
            self.release.wait(30)
            return httpx.Response(200)
        return httpx.Response(self.statuses.pop(0) if self.statuses else 200)


@pytest.fixture
def hang(receiver: Receiver) -> Iterator[Hang]:
    hanging = Hang(receiver)
    yield hanging
    hanging.release.set()


def test_a_receiver_that_never_answers_does_not_delay_another_consumer(
    hub: WebhookHub, receiver: Receiver, hang: Hang
) -> None:
    # The hanging consumer comes first: with one worker for all, its attempt would block the
    # other's until the 15 s timeout.
    hanging = hub.consumers.add(HANGING_URL)
    other = hub.consumers.add(RECEIVER_URL)
    hub.emit("connection.deleted", BODY)
    assert hang.entered.wait(5)
    # Idle is the hub's word that the outcome is recorded; the receiver seeing the request
    # comes before that.
    assert hub.wait_idle(10, consumer_id=other.id)
    assert not hang.release.is_set()
    assert len(receiver.to(RECEIVER_URL)) == 1
    assert not hub.wait_idle(0.01)  # the hanging consumer's attempt is still in flight
    assert [(a.consumer_id, a.outcome) for a in hub.deliveries(consumer_id=other.id)] == [
        (other.id, "delivered")
    ]
    assert [a.outcome for a in hub.deliveries(consumer_id=hanging.id)] == ["pending"]


def test_another_consumers_retries_run_on_the_mock_clock_while_one_hangs(
    hub: WebhookHub, clock: Clock, receiver: Receiver, hang: Hang
) -> None:
    hanging = hub.consumers.add(HANGING_URL)
    other = hub.consumers.add(RECEIVER_URL)
    hang.statuses = [500, 500]
    first = hub.emit("connection.deleted", BODY)
    second = hub.emit("connection.deleted", {**BODY, "id": "e2"})
    assert hang.entered.wait(5)
    # Both first attempts failed and their retries are scheduled before the clock moves:
    # each retry counts from its failure, so a clock moved earlier would put it later.
    assert hub.wait_idle(10, consumer_id=other.id)
    assert len(receiver.to(RECEIVER_URL)) == 2
    advance(hub, clock, 5, consumer_id=other.id)
    assert not hang.release.is_set()
    # Its own order holds: the first message's attempts before the second's at each step.
    sent = [r.headers["webhook-id"] for r in receiver.to(RECEIVER_URL)]
    assert sent == [first, second, first, second]
    # The log is in the order attempts were scheduled: the first message's retry may be
    # scheduled before the second message is emitted, so compare step by step.
    log = sorted(hub.deliveries(consumer_id=other.id), key=lambda a: a.number)
    assert [(a.message_id, a.number, a.outcome) for a in log] == [
        (first, 1, "failed"),
        (second, 1, "failed"),
        (first, 2, "delivered"),
        (second, 2, "delivered"),
    ]
    assert [a.scheduled for a in log] == [T0, T0, T0 + seconds(5), T0 + seconds(5)]
    assert [a.sent_at for a in log] == [T0, T0, T0 + seconds(5), T0 + seconds(5)]
    hang.release.set()
    assert hub.wait_idle(10.0)
    assert [m.status for m in hub.messages() if m.consumer_id == hanging.id] == [
        "delivered",
        "delivered",
    ]
