"""Typed handles on one mock's parts, for Python callers (the library, the pytest plugin).

:class:`Faults` and :class:`MockClock` do in-process what ``/_mock/faults`` and ``/_mock/clock``
do over HTTP, and answer with the library's own objects (rules as the book holds them,
datetimes) rather than JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from mockserver.clock import Clock
from mockserver.faults import ActiveRule, FaultBook, FaultRule, rule_from
from mockserver.webhooks import WebhookHub


class Faults:
    """The fault rules of one mock."""

    def __init__(self, book: FaultBook) -> None:
        self._book = book

    def add(
        self, rule: FaultRule | Mapping[str, Any] | None = None, /, **fields: Any
    ) -> ActiveRule:
        """Add a rule (a FaultRule, a dict as ``POST /_mock/faults`` takes it, keyword fields,
        or a dict and keywords together) and return it as the book holds it, with its id."""
        if isinstance(rule, FaultRule):
            if fields:
                raise TypeError("give a FaultRule or fields, not both")
            return self._book.add(rule)
        return self._book.add(rule_from({**(rule or {}), **fields}))

    def list(self) -> list[ActiveRule]:
        """The rules in force, in the order they are tried."""
        return self._book.rules()

    def remove(self, rule_id: str) -> ActiveRule:
        """Remove one rule (NotFound for an unknown id) and return it."""
        return self._book.remove(rule_id)

    def clear(self) -> None:
        """Remove every rule."""
        self._book.clear()


class MockClock:
    """The mock's clock, as a test moves it. Moving it tells the webhook worker, whose
    retries may have fallen due (as ``POST /_mock/clock`` does)."""

    def __init__(self, clock: Clock, webhooks: WebhookHub) -> None:
        self._clock = clock
        self._webhooks = webhooks

    def now(self) -> datetime:
        """The mock's current time."""
        return self._clock.now()

    def advance(self, seconds: float) -> datetime:
        """Move the clock ``seconds`` forward; returns the new time."""
        moved = self._clock.advance(seconds)
        self._webhooks.clock_moved()
        return moved

    def set(self, instant: datetime) -> datetime:
        """Set the clock to ``instant`` (it stays frozen there); returns it."""
        moved = self._clock.set(instant)
        self._webhooks.clock_moved()
        return moved
