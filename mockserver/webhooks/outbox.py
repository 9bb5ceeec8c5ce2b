"""The outbox's records: a message to one consumer, and each attempt at delivering it.

:class:`OutboxMessage` is the hub's own (mutable, under its lock); :class:`Attempt` is a line of
the deliveries log; :class:`MessageState` is the snapshot the control API lists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from mockserver.clock import isoformat, wall_isoformat
from mockserver.jsonio import loads
from mockserver.webhooks.consumers import Consumer

Outcome = Literal["pending", "delivered", "failed", "cancelled"]


@dataclass(slots=True)
class Attempt:
    """One attempt to deliver a message to a consumer: scheduled, then sent (or cancelled)."""

    message_id: str
    consumer_id: str
    url: str
    event_type: str
    #: 1 to 8; a duplicate copy carries the number of the attempt that delivered.
    number: int
    #: When the attempt falls (or fell) due, on the mock clock.
    scheduled: datetime
    outcome: Outcome = "pending"
    #: The delivery fault behind this attempt: ``delay``, ``reorder`` or ``duplicate``.
    fault: str | None = None
    sent_at: datetime | None = None
    sent_wall: datetime | None = None
    #: The receiver's status; ``None`` when no response came (see ``error``).
    status: int | None = None
    error: str | None = None
    duration_ms: float | None = None

    def to_json(self) -> dict[str, Any]:
        """The attempt as ``GET /_mock/webhooks/deliveries`` lists it."""
        return {
            "messageId": self.message_id,
            "consumerId": self.consumer_id,
            "url": self.url,
            "eventType": self.event_type,
            "attempt": self.number,
            "scheduledAt": isoformat(self.scheduled),
            "sentAt": isoformat(self.sent_at) if self.sent_at is not None else None,
            "sentAtWall": wall_isoformat(self.sent_wall) if self.sent_wall is not None else None,
            "responseStatus": self.status,
            "error": self.error,
            "durationMs": round(self.duration_ms, 3) if self.duration_ms is not None else None,
            "outcome": self.outcome,
            "fault": self.fault,
        }


@dataclass(slots=True, frozen=True)
class MessageState:
    """A snapshot of one message to one consumer."""

    id: str
    consumer_id: str
    event_type: str
    status: Outcome
    attempts: int
    created: datetime
    next_attempt_at: datetime | None
    held: bool
    fault: str | None
    body: bytes

    def to_json(self) -> dict[str, Any]:
        """The message as ``GET /_mock/webhooks/messages`` lists it."""
        return {
            "id": self.id,
            "consumerId": self.consumer_id,
            "eventType": self.event_type,
            "status": self.status,
            "attempts": self.attempts,
            "createdAt": isoformat(self.created),
            "nextAttemptAt": (
                isoformat(self.next_attempt_at) if self.next_attempt_at is not None else None
            ),
            "heldBack": self.held,
            "fault": self.fault,
            "payload": loads(self.body),
        }


@dataclass(slots=True)
class OutboxMessage:
    """The outbox's record of one message to one consumer."""

    id: str
    seq: int
    event_type: str
    body: bytes
    consumer: Consumer
    created: datetime
    fault: str | None = None
    status: Outcome = "pending"
    attempts: int = 0
    #: When the next attempt falls due; ``None`` while held back, in flight or finished.
    due: datetime | None = None
    held: bool = False
    #: The ``seq`` of the message whose sending releases this held one.
    released_by: int | None = None
    in_flight: bool = False
    #: The log entry of the attempt waiting to be sent.
    next_attempt: Attempt | None = None

    def snapshot(self) -> MessageState:
        upcoming = self.next_attempt.scheduled if self.next_attempt is not None else None
        return MessageState(
            id=self.id,
            consumer_id=self.consumer.id,
            event_type=self.event_type,
            status=self.status,
            attempts=self.attempts,
            created=self.created,
            next_attempt_at=None if self.held else upcoming,
            held=self.held,
            fault=self.fault,
            body=self.body,
        )
