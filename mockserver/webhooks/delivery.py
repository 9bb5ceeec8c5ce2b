"""Webhook delivery: an outbox worked by a thread per consumer, on the mock's clock.

:meth:`WebhookHub.emit` only records a message for each subscribed consumer and wakes that
consumer's worker; it never waits on the network, so an API request that raises an event is
not slowed by the receiver. Each consumer has a worker of its own, which sends its messages in
order: a receiver that never answers holds up its own deliveries (15 s an attempt), nobody
else's.

The retry schedule is Svix's, which Codat uses. Attempt 1 is due at once; after a failed
attempt *n*, attempt *n + 1* falls due ``RETRY_DELAYS[n - 1]`` later, counted on the mock clock
from the moment the failure was seen (Svix: "each period is started following the failure of
the preceding attempt"). So a message that fails three times and then succeeds lands
5 s + 5 min + 30 min after the first attempt. Eight attempts in all; after the eighth failure
the message is ``failed``. Any 2xx is a delivery; anything else (3xx included: redirects are not
followed), a network error or the 15 s timeout is a failure. A response carrying
``webhook-delivery: abort-message`` stops the retries, as Svix honours it.

Because retries wait on the *mock* clock, a test advances the clock (and calls
:meth:`WebhookHub.clock_moved`) instead of sleeping, then :meth:`WebhookHub.wait_idle` until
everything due has been sent. With a clock that follows real time the worker also wakes when
the next attempt falls due.

Signatures are stamped with the wall clock by default, not the mock clock: receivers check the
timestamp against their own clock (``standardwebhooks`` allows five minutes either way), and a
mock clock frozen in another month, or advanced by hours to trigger retries, would make every
signature look stale. ``sign_with_mock_clock=True`` stamps mock time instead.
"""

from __future__ import annotations

import dataclasses
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import httpx

from mockserver.clock import Clock, system_now
from mockserver.jsonio import dumps
from mockserver.store.ids import rng_state, set_rng_state
from mockserver.webhooks.consumers import Consumer, ConsumerRegistry
from mockserver.webhooks.events import EventFactory
from mockserver.webhooks.faults import DeliveryFaultBook, DeliveryFaultRule
from mockserver.webhooks.outbox import Attempt, MessageState, OutboxMessage
from mockserver.webhooks.signing import new_message_id
from mockserver.webhooks.targets import Resolver, TargetPolicy, system_resolver
from mockserver.webhooks.transport import DELIVERY_TIMEOUT, SendResult, open_client, post

#: Waits before attempts 2 to 8, each counted from the failure of the attempt before.
RETRY_DELAYS: tuple[float, ...] = (5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0)
MAX_ATTEMPTS = 1 + len(RETRY_DELAYS)


class WebhookHub:
    """Consumers, delivery fault rules, the outbox and the log of every attempt.

    ``transport`` replaces the network (``httpx.MockTransport`` in unit tests); without
    one, every connection is checked against :mod:`.targets`, whose names ``resolver``
    resolves;
    ``wall_clock`` is where wall times (and, by default, signature timestamps) come from;
    ``max_wait`` caps how long the idle worker sleeps before looking again, so a clock moved
    without :meth:`clock_moved` is still noticed; ``retry_delays`` replaces Svix's schedule
    (tests only: the default is what Codat does).
    """

    def __init__(
        self,
        clock: Clock,
        rng: random.Random,
        *,
        transport: httpx.BaseTransport | None = None,
        wall_clock: Callable[[], datetime] = system_now,
        sign_with_mock_clock: bool = False,
        timeout: float = DELIVERY_TIMEOUT,
        max_wait: float = 1.0,
        retry_delays: Sequence[float] = RETRY_DELAYS,
        resolver: Resolver = system_resolver,
        render: Callable[[Any], Any] | None = None,
    ) -> None:
        #: Puts an event body into the server's response shape (None: as built).
        self.render = render
        self.clock = clock
        self.policy = TargetPolicy(resolver)
        self.consumers = ConsumerRegistry(clock, rng, self.policy)
        self.faults = DeliveryFaultBook()
        self.events = EventFactory(clock, rng)
        self._rng = rng
        self._transport = transport
        self._wall_clock = wall_clock
        self._sign_with_mock_clock = sign_with_mock_clock
        self._timeout = timeout
        self._max_wait = max_wait
        self._retry_delays = tuple(retry_delays)
        self._cond = threading.Condition()
        self._messages: list[OutboxMessage] = []
        self._log: list[Attempt] = []
        self._seq = 0
        self._stopping = False
        self._running = False
        self._generation = 0
        #: One worker per consumer with messages pending, so that a receiver that never
        #: answers holds up its own deliveries only.
        self._workers: dict[str, threading.Thread] = {}
        #: Moves on every change to the outbox (a durable copy writes when it moved).
        self.revision = 0
        #: Called (off the lock) after each attempt's outcome is recorded.
        self.on_change: Callable[[], None] | None = None

    # -- life cycle ------------------------------------------------------------------------

    def start(self) -> None:
        """Start delivering (no-op when running already): a worker for each consumer with
        messages pending, and one for each consumer that gets a message later."""
        with self._cond:
            if self._running:
                return
            self._running = True
            self._stopping = False
            # Workers from before a stop() whose join timed out see the generation change and
            # quit, so there is never more than one sending to a consumer.
            self._generation += 1
            for consumer_id in dict.fromkeys(
                m.consumer.id for m in self._messages if m.status == "pending"
            ):
                self._ensure_worker(consumer_id)

    def stop(self, timeout: float = DELIVERY_TIMEOUT + 5.0) -> None:
        """Stop the workers and join them (attempts in flight are allowed to finish, within
        ``timeout`` seconds in all). Idempotent."""
        with self._cond:
            self._stopping = True
            self._running = False
            workers = list(self._workers.values())
            self._workers.clear()
            self._cond.notify_all()
        deadline = time.monotonic() + timeout
        for worker in workers:
            worker.join(max(0.0, deadline - time.monotonic()))

    @property
    def running(self) -> bool:
        """Whether the hub delivers (between start() and stop())."""
        return self._running

    # -- raising events --------------------------------------------------------------------

    def emit(
        self, event_type: str, body: Mapping[str, Any], *, client_id: str | None = None
    ) -> str | None:
        """Queue ``body`` for every consumer subscribed to ``event_type`` (and to
        ``client_id``'s events) and return the message id, or ``None`` when nobody listens.

        Returns at once: delivery happens on the worker thread.
        """
        consumers = self.consumers.subscribed(event_type, client_id)
        if not consumers:
            return None
        # Serialized once, so every attempt and every consumer gets the very same bytes.
        payload = dumps(dict(body))
        with self._cond:
            # One message id per event, shared by its consumers, as in Svix.
            message_id = new_message_id(self._rng)
            now = self.clock.now()
            for consumer in consumers:
                self._seq += 1
                message = OutboxMessage(message_id, self._seq, event_type, payload, consumer, now)
                # A message held back (reorder) waits for the next message to its consumer:
                # this one. It is tied now, not when this one is sent, so that messages
                # emitted meanwhile cannot take its place.
                waiting = [
                    m
                    for m in self._messages
                    if m.held and m.released_by is None and m.consumer.id == consumer.id
                ]
                for held in waiting:
                    held.released_by = message.seq
                rule = self.faults.pick(event_type, consumer.id, can_reorder=not waiting)
                self._schedule_first(message, rule, now)
                self._messages.append(message)
                self._ensure_worker(consumer.id)
            self.revision += 1
            self._cond.notify_all()
        return message_id

    def emit_connection(
        self,
        event_type: str,
        company: Mapping[str, Any],
        connection: Mapping[str, Any],
        *,
        client_id: str | None = None,
    ) -> str | None:
        """Build and emit a connection event (see :mod:`mockserver.webhooks.events`).

        Nothing is built, and nothing drawn from the RNG, when no consumer listens.
        """
        if not self.consumers.subscribed(event_type, client_id):
            return None
        body = self.events.connection(event_type, company, connection)
        if self.render is not None:
            body = self.render(body)
        return self.emit(event_type, body, client_id=client_id)

    def clock_moved(self) -> None:
        """Tell the worker the mock clock changed: attempts may have fallen due."""
        with self._cond:
            self._cond.notify_all()

    def wait_idle(self, timeout: float = 5.0, *, consumer_id: str | None = None) -> bool:
        """Wait until no attempt is due on the mock clock and none is in flight (only
        ``consumer_id``'s, when given: another consumer may hang for good).

        Returns whether that happened within ``timeout`` real seconds. Attempts scheduled in
        the mock future do not count: advance the clock to make them due. Once it returns
        true, every attempt sent so far has its outcome in the log and its retry scheduled.
        """
        if not self.running:
            raise RuntimeError("the webhook worker is not running; call start() first")
        deadline = time.monotonic() + timeout
        with self._cond:
            # Wake the worker too, in case the clock moved without clock_moved().
            self._cond.notify_all()
            while self._busy(consumer_id):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return True

    # -- what happened ---------------------------------------------------------------------

    def deliveries(
        self,
        *,
        message_id: str | None = None,
        consumer_id: str | None = None,
        event_type: str | None = None,
        outcome: str | None = None,
    ) -> list[Attempt]:
        """Every attempt, sent or scheduled, in the order they were scheduled (copies)."""
        with self._cond:
            return [
                dataclasses.replace(a)
                for a in self._log
                if (message_id is None or a.message_id == message_id)
                and (consumer_id is None or a.consumer_id == consumer_id)
                and (event_type is None or a.event_type == event_type)
                and (outcome is None or a.outcome == outcome)
            ]

    def messages(self) -> list[MessageState]:
        """Every message to every consumer, oldest first."""
        with self._cond:
            return [m.snapshot() for m in self._messages]

    def clear_deliveries(self) -> None:
        """Forget finished messages and their attempts; pending ones stay."""
        with self._cond:
            self._messages = [m for m in self._messages if m.status == "pending"]
            live = {(m.id, m.consumer.id) for m in self._messages}
            self._log = [a for a in self._log if (a.message_id, a.consumer_id) in live]

    # -- consumers and faults --------------------------------------------------------------

    def remove_consumer(self, consumer_id: str) -> Consumer:
        """Unregister a consumer and cancel its pending messages (as Svix stops delivering
        to a removed endpoint); NotFound for an unknown id."""
        removed = self.consumers.remove(consumer_id)
        with self._cond:
            for message in self._messages:
                if message.consumer.id == consumer_id and message.status == "pending":
                    message.status = "cancelled"
                    message.due = None
                    if message.next_attempt is not None:
                        message.next_attempt.outcome = "cancelled"
                        message.next_attempt = None
            self.revision += 1
            self._cond.notify_all()
        return removed

    def reset(self) -> None:
        """Drop every message, the log and the delivery fault rules; consumers stay, and
        every client's events are delivered again."""
        for client_id in self.consumers.quiet_clients():
            self.consumers.quiet(client_id, on=False)
        with self._cond:
            for message in self._messages:
                message.status = "cancelled"
            self._messages = []
            self._log = []
            self.faults.clear()
            self.revision += 1
            self._cond.notify_all()

    # -- a durable copy ------------------------------------------------------------------

    def export(self) -> dict[str, Any]:
        """Consumers, undelivered messages and the random stream's position, JSON-able.

        A message in flight counts as not yet attempted: after a restart it is sent again
        (receivers dedupe by ``webhook-id``, as Svix asks of them)."""
        consumers = self.consumers.export()
        with self._cond:
            now = self.clock.now()
            messages = [
                {
                    "id": m.id,
                    "seq": m.seq,
                    "eventType": m.event_type,
                    "body": m.body.decode("utf-8"),
                    "consumerId": m.consumer.id,
                    "created": m.created.isoformat(),
                    "fault": m.fault,
                    "attempts": m.attempts - 1 if m.in_flight else m.attempts,
                    # A message in flight is due again at once.
                    "due": (
                        m.next_attempt.scheduled if m.next_attempt and not m.in_flight else now
                    ).isoformat(),
                    "held": m.held,
                    "releasedBy": m.released_by,
                }
                for m in self._messages
                if m.status == "pending"
            ]
            quiet = self.consumers.quiet_clients()
            return {"consumers": consumers, "quiet": quiet, "messages": messages,
                    "seq": self._seq, "rng": rng_state(self._rng)}  # fmt: skip

    def restore(self, data: dict[str, Any]) -> None:
        """Put back what :meth:`export` gave: the undelivered messages fall due when they
        were due (on the mock clock), with the attempt numbers they had reached."""
        self.consumers.restore(data["consumers"])
        for client_id in data.get("quiet", []):
            self.consumers.quiet(client_id)
        by_id = {consumer.id: consumer for consumer in self.consumers.all()}
        with self._cond:
            set_rng_state(self._rng, data["rng"])
            self._seq = int(data["seq"])
            self._messages = []
            self._log = []
            for item in data["messages"]:
                consumer = by_id.get(str(item["consumerId"]))
                if consumer is None:
                    continue
                message = OutboxMessage(
                    str(item["id"]), int(item["seq"]), str(item["eventType"]),
                    str(item["body"]).encode("utf-8"), consumer,
                    datetime.fromisoformat(str(item["created"])), fault=item["fault"],
                    attempts=int(item["attempts"]), held=bool(item["held"]),
                    released_by=item["releasedBy"],
                )  # fmt: skip
                self._schedule(message, message.attempts + 1, datetime.fromisoformat(item["due"]))
                self._messages.append(message)
            self.revision += 1
            self._cond.notify_all()

    # -- scheduling (callers hold the condition's lock) ----------------------------------

    def _schedule_first(
        self, message: OutboxMessage, rule: DeliveryFaultRule | None, now: datetime
    ) -> None:
        due = now
        if rule is not None:
            message.fault = rule.action
            if rule.action == "delay" and rule.delaySeconds is not None:
                due = now + timedelta(seconds=rule.delaySeconds)
            elif rule.action == "reorder":
                message.held = True
        self._schedule(message, 1, due)

    def _schedule(self, message: OutboxMessage, number: int, due: datetime) -> None:
        fault = message.fault if number == 1 and message.fault != "duplicate" else None
        attempt = Attempt(
            message.id, message.consumer.id, message.consumer.url, message.event_type,
            number, due, fault=fault,
        )  # fmt: skip
        self._log.append(attempt)
        message.next_attempt = attempt
        message.due = None if message.held else due

    def _claimable(self, now: datetime, consumer_id: str | None = None) -> list[OutboxMessage]:
        return [
            m
            for m in self._messages
            if m.status == "pending"
            and not m.in_flight
            and m.due is not None
            and m.due <= now
            and (consumer_id is None or m.consumer.id == consumer_id)
        ]

    def _busy(self, consumer_id: str | None = None) -> bool:
        in_flight = (m for m in self._messages if m.in_flight)
        if any(consumer_id is None or m.consumer.id == consumer_id for m in in_flight):
            return True
        return bool(self._claimable(self.clock.now(), consumer_id))

    def _claim(self, consumer_id: str) -> OutboxMessage | None:
        ready = self._claimable(self.clock.now(), consumer_id)
        if not ready:
            return None
        message = min(ready, key=lambda m: (m.due or m.created, m.seq))
        message.in_flight = True
        message.due = None
        message.attempts += 1
        return message

    def _pending(self, consumer_id: str) -> list[OutboxMessage]:
        return [m for m in self._messages if m.consumer.id == consumer_id and m.status == "pending"]

    def _wait_seconds(self, consumer_id: str) -> float:
        if self.clock.is_frozen:
            return self._max_wait
        dues = [m.due for m in self._pending(consumer_id) if not m.in_flight and m.due is not None]
        if not dues:
            return self._max_wait
        until = (min(dues) - self.clock.now()).total_seconds()
        return min(self._max_wait, max(0.0, until))

    def _ensure_worker(self, consumer_id: str) -> None:
        """Start ``consumer_id``'s worker unless it runs already (or the hub does not)."""
        if not self._running or consumer_id in self._workers:
            return
        worker = threading.Thread(
            target=self._run,
            args=(self._generation, consumer_id),
            name=f"codat-mock-webhooks-{consumer_id[:8]}",
            daemon=True,
        )
        self._workers[consumer_id] = worker
        worker.start()

    def _release_held(self, sent: OutboxMessage, now: datetime) -> None:
        for message in self._messages:
            if message.held and message.released_by == sent.seq and message.status == "pending":
                message.held = False
                message.due = now
                if message.next_attempt is not None:
                    message.next_attempt.scheduled = now

    # -- the worker ----------------------------------------------------------------------

    def _run(self, generation: int, consumer_id: str) -> None:
        """One consumer's worker: its messages in order, one attempt at a time; it ends when
        the consumer has nothing pending (the next message starts another)."""
        me = threading.current_thread()
        with open_client(self._transport, self.policy, self._timeout) as client:
            while True:
                with self._cond:
                    message: OutboxMessage | None = None
                    while not self._stopping and self._generation == generation:
                        message = self._claim(consumer_id)
                        if message is not None or not self._pending(consumer_id):
                            break
                        self._cond.wait(self._wait_seconds(consumer_id))
                    if message is None:
                        if self._workers.get(consumer_id) is me:
                            del self._workers[consumer_id]
                        return
                    attempt = message.next_attempt
                    message.next_attempt = None
                    if attempt is None:  # cannot happen: a pending message has one scheduled
                        message.in_flight = False
                        continue
                self._deliver(client, message, attempt)

    def _deliver(self, client: httpx.Client, message: OutboxMessage, attempt: Attempt) -> None:
        result = self._post(client, message)
        with self._cond:
            self._record(attempt, result)
            if message.status == "cancelled":
                pass  # removed while in flight: keep the result, schedule nothing more
            elif result.delivered:
                message.status = "delivered"
            elif result.abort or message.attempts > len(self._retry_delays):
                message.status = "failed"
            else:
                delay = self._retry_delays[message.attempts - 1]
                due = self.clock.now() + timedelta(seconds=delay)
                self._schedule(message, message.attempts + 1, due)
            self._release_held(message, self.clock.now())
            duplicate: Attempt | None = None
            if message.fault == "duplicate" and message.status == "delivered":
                duplicate = Attempt(
                    message.id, message.consumer.id, message.consumer.url, message.event_type,
                    attempt.number, self.clock.now(), fault="duplicate",
                )  # fmt: skip
                self._log.append(duplicate)
            else:
                message.in_flight = False
            self.revision += 1
            self._cond.notify_all()
        if self.on_change is not None:
            self.on_change()
        if duplicate is None:
            return
        # The same message again, after it was acknowledged: the receiver must dedupe by
        # webhook-id.
        result = self._post(client, message)
        with self._cond:
            self._record(duplicate, result)
            message.in_flight = False
            self._cond.notify_all()

    def _record(self, attempt: Attempt, result: SendResult) -> None:
        attempt.sent_at = result.sent_at
        attempt.sent_wall = result.sent_wall
        attempt.status = result.status
        attempt.error = result.error
        attempt.duration_ms = result.duration_ms
        attempt.outcome = "delivered" if result.delivered else "failed"

    def _post(self, client: httpx.Client, message: OutboxMessage) -> SendResult:
        sent_at = self.clock.now()
        sent_wall = self._wall_clock()
        stamp = sent_at if self._sign_with_mock_clock else sent_wall
        return post(client, message, sent_at=sent_at, sent_wall=sent_wall, stamp=stamp)
