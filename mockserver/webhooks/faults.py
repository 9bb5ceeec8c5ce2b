"""Delivery faults: make webhook delivery misbehave the ways at-least-once delivery can.

A rule names the messages it applies to (``eventType``, a glob such as ``"connection.*"``,
and optionally one ``consumerId``) and an ``action``:

* ``duplicate``: once the message is delivered, it is sent once more, same ``webhook-id`` and
  body (a fresh signature), as when a sender retries after a lost acknowledgement;
* ``reorder``: the message is held back until the next message to the same consumer has been
  sent, so the receiver sees the later event first. That next message is never held itself,
  so a rule without ``times`` swaps messages in pairs (2, 1, 4, 3, ...); the last one held
  waits for another message to that consumer;
* ``delay``: the first attempt is pushed ``delaySeconds`` later on the mock clock.

Rules are tried in order when a message is created; the first that matches and has not used
up its ``times`` fires (``times`` absent: every matching message).
"""

from __future__ import annotations

import fnmatch
import threading
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from mockserver.errors import BadRequest, Conflict, NotFound, ValidationItem

Action = Literal["duplicate", "reorder", "delay"]


class DeliveryFaultRule(BaseModel):
    """One delivery fault rule, as the control API states it."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(default=None, min_length=1, max_length=100)
    eventType: str = Field(default="*", min_length=1)
    consumerId: str | None = None
    action: Action
    delaySeconds: float | None = Field(default=None, gt=0)
    times: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _coherent(self) -> DeliveryFaultRule:
        if self.action == "delay" and self.delaySeconds is None:
            raise ValueError("a delay rule needs delaySeconds")
        if self.action != "delay" and self.delaySeconds is not None:
            raise ValueError("delaySeconds goes with the delay action only")
        return self


def delivery_rule_from(data: Any) -> DeliveryFaultRule:
    """A rule from JSON-like data; BadRequest names every problem."""
    try:
        return DeliveryFaultRule.model_validate(data)
    except ValidationError as exc:
        items = [
            ValidationItem(
                ".".join(str(p) for p in error["loc"]) or "rule", error["msg"], "control"
            )
            for error in exc.errors()
        ]
        raise BadRequest("Error processing request - not valid.", validation=items) from None


@dataclass(slots=True)
class ActiveDeliveryFault:
    """A rule in the book, with its id and how many messages it has fired on."""

    rule: DeliveryFaultRule
    rule_id: str
    fired: int = 0

    @property
    def retired(self) -> bool:
        return self.rule.times is not None and self.fired >= self.rule.times

    def matches(self, event_type: str, consumer_id: str) -> bool:
        if self.rule.consumerId is not None and self.rule.consumerId != consumer_id:
            return False
        return fnmatch.fnmatchcase(event_type, self.rule.eventType)

    def to_json(self) -> dict[str, Any]:
        return {
            **self.rule.model_dump(exclude_none=True, mode="json"),
            "id": self.rule_id,
            "fired": self.fired,
            "retired": self.retired,
        }


class DeliveryFaultBook:
    """The ordered delivery fault rules. Thread-safe."""

    def __init__(self) -> None:
        self._rules: list[ActiveDeliveryFault] = []
        self._next = 1
        self._lock = threading.Lock()

    def add(self, rule: DeliveryFaultRule) -> ActiveDeliveryFault:
        """Append ``rule``; it gets an id unless it names one (a taken id: Conflict)."""
        with self._lock:
            rule_id = rule.id or self._fresh_id()
            if any(active.rule_id == rule_id for active in self._rules):
                raise Conflict(f"A delivery fault rule with id {rule_id!r} already exists.")
            active = ActiveDeliveryFault(rule, rule_id)
            self._rules.append(active)
            return active

    def _fresh_id(self) -> str:
        while True:
            candidate = f"delivery-rule-{self._next}"
            self._next += 1
            if all(active.rule_id != candidate for active in self._rules):
                return candidate

    def rules(self) -> list[ActiveDeliveryFault]:
        with self._lock:
            return list(self._rules)

    def remove(self, rule_id: str) -> ActiveDeliveryFault:
        with self._lock:
            for index, active in enumerate(self._rules):
                if active.rule_id == rule_id:
                    return self._rules.pop(index)
        raise NotFound(f"No delivery fault rule was found with id {rule_id!r}.")

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def pick(
        self, event_type: str, consumer_id: str, *, can_reorder: bool = True
    ) -> DeliveryFaultRule | None:
        """The rule that fires on a new message, if any (counting the firing).

        ``can_reorder=False`` passes over reorder rules: the message is the one that releases
        a message already held back, so holding it too would hold both forever.
        """
        with self._lock:
            for active in self._rules:
                if active.retired or (not can_reorder and active.rule.action == "reorder"):
                    continue
                if active.matches(event_type, consumer_id):
                    active.fired += 1
                    return active.rule
        return None
