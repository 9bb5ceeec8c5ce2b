"""Webhook consumers: where events go, which ones, and the secret each delivery is signed with.

A consumer is registered through the control API (``POST /_mock/webhooks``) or the CLI's
``--webhook URL``. When no secret is given the mock makes one, as Codat does, and answers it
so the receiver can verify signatures.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mockserver.clock import Clock, isoformat
from mockserver.errors import BadRequest, NotFound, ValidationItem
from mockserver.store.ids import new_id
from mockserver.webhooks.signing import SecretError, new_secret, secret_bytes
from mockserver.webhooks.targets import TargetPolicy, TargetRefused

#: An entry of ``events`` that subscribes to every event type.
ALL_EVENTS = "*"

_FIELDS = frozenset({"url", "secret", "events", "clientId"})
#: The longest values a consumer keeps (the README's "Limits").
MAX_URL = 2048
MAX_SECRET = 256
MAX_CLIENT_ID = 255
MAX_EVENTS = 50


@dataclass(slots=True)
class Consumer:
    """One registered receiver."""

    id: str
    url: str
    secret: str
    #: Event types this consumer receives; ``None`` (or a ``"*"`` entry) means all of them.
    events: list[str] | None
    created: datetime
    #: Only events raised for this client (tenant) reach the consumer. ``None`` makes it the
    #: "all tenants" consumer: every client's events reach it.
    client_id: str | None = None

    def wants(self, event_type: str, client_id: str | None = None) -> bool:
        """Whether an event of ``event_type`` raised for ``client_id`` goes to this consumer."""
        if self.client_id is not None and client_id is not None and client_id != self.client_id:
            return False
        return self.events is None or ALL_EVENTS in self.events or event_type in self.events

    def to_json(self) -> dict[str, Any]:
        """The consumer as the control API shows it, secret included (this is a local mock)."""
        return {
            "id": self.id,
            "url": self.url,
            "secret": self.secret,
            "events": list(self.events) if self.events is not None else None,
            "clientId": self.client_id,
            # Said outright, so that a consumer receiving every tenant's events is no surprise.
            "allTenants": self.client_id is None,
            "created": isoformat(self.created),
        }


def consumer_not_found(consumer_id: str) -> NotFound:
    """The error for an unknown consumer id."""
    return NotFound(f"No webhook consumer was found with id {consumer_id!r}.")


class ConsumerRegistry:
    """The registered consumers, in registration order. Thread-safe."""

    def __init__(
        self, clock: Clock, rng: random.Random, policy: TargetPolicy | None = None
    ) -> None:
        self._clock = clock
        self._rng = rng
        self.policy = policy or TargetPolicy()
        self._lock = threading.Lock()
        self._consumers: dict[str, Consumer] = {}
        #: Clients whose events go to no consumer at all (a contract run's own tenant).
        self._quiet: set[str] = set()
        #: Moves on every registration and removal (a durable copy writes when it moved).
        self.revision = 0

    def add(
        self,
        url: str,
        *,
        secret: str | None = None,
        events: list[str] | None = None,
        client_id: str | None = None,
    ) -> Consumer:
        """Register a consumer; a secret is made when none is given.

        BadRequest names each problem: a URL that is not http(s) with a host or that
        :mod:`.targets` refuses, a malformed secret, an event list that is empty or holds
        something other than non-empty strings. The URL's name is resolved here (blocking).
        """
        problems = self._check_url(url) + _check_events(events)
        if secret is not None:
            try:
                secret_bytes(secret)
            except SecretError as exc:
                problems.append(ValidationItem("secret", str(exc), "control"))
        if problems:
            raise BadRequest("Error processing request - not valid.", validation=problems)
        with self._lock:
            consumer = Consumer(
                id=new_id(self._rng),
                url=url,
                secret=secret if secret is not None else new_secret(self._rng),
                events=list(events) if events is not None else None,
                created=self._clock.now(),
                client_id=client_id,
            )
            self._consumers[consumer.id] = consumer
            self.revision += 1
        return consumer

    def add_from_json(self, body: Any) -> Consumer:
        """Register a consumer from the control API's body ``{"url", "secret"?, "events"?,
        "clientId"?}``."""
        if not isinstance(body, Mapping):
            raise _invalid("body", "the body must be a JSON object")
        unknown = sorted(set(body) - _FIELDS)
        if unknown:
            raise _invalid(unknown[0], f"unknown field; expected one of {sorted(_FIELDS)}")
        url = body.get("url")
        if not isinstance(url, str):
            raise _invalid("url", "url is required: the receiver's http(s) address")
        secret = body.get("secret")
        if secret is not None and not isinstance(secret, str):
            raise _invalid("secret", "secret takes a 'whsec_' string")
        events = body.get("events")
        if events is not None and not isinstance(events, list):
            raise _invalid("events", "events takes a list of event types")
        client_id = body.get("clientId")
        if client_id is not None and not isinstance(client_id, str):
            raise _invalid("clientId", "clientId takes a string")
        for name, value, limit in (
            ("url", url, MAX_URL),
            ("secret", secret, MAX_SECRET),
            ("clientId", client_id, MAX_CLIENT_ID),
        ):
            if value is not None and len(value) > limit:
                raise _invalid(name, f"at most {limit} characters ({len(value)} given)")
        if events is not None and len(events) > MAX_EVENTS:
            raise _invalid("events", f"at most {MAX_EVENTS} event types ({len(events)} given)")
        return self.add(url, secret=secret, events=events, client_id=client_id)

    def all(self) -> list[Consumer]:
        """Every consumer, oldest first."""
        with self._lock:
            return list(self._consumers.values())

    def get(self, consumer_id: str) -> Consumer:
        """The consumer ``consumer_id``; NotFound otherwise."""
        with self._lock:
            found = self._consumers.get(consumer_id)
        if found is None:
            raise consumer_not_found(consumer_id)
        return found

    def remove(self, consumer_id: str) -> Consumer:
        """Unregister ``consumer_id`` and return it; NotFound otherwise."""
        with self._lock:
            found = self._consumers.pop(consumer_id, None)
            self.revision += 1
        if found is None:
            raise consumer_not_found(consumer_id)
        return found

    def export(self) -> list[dict[str, Any]]:
        """Every consumer, secret included, JSON-able (what a durable copy keeps)."""
        with self._lock:
            return [
                {**c.to_json(), "created": c.created.isoformat()} for c in self._consumers.values()
            ]

    def restore(self, items: list[dict[str, Any]]) -> None:
        """Replace the consumers with those :meth:`export` gave."""
        restored = [
            Consumer(
                id=str(item["id"]),
                url=str(item["url"]),
                secret=str(item["secret"]),
                events=list(item["events"]) if item["events"] is not None else None,
                created=datetime.fromisoformat(str(item["created"])),
                client_id=item.get("clientId"),
            )
            for item in items
        ]
        with self._lock:
            self._consumers = {consumer.id: consumer for consumer in restored}
            self.revision += 1

    def subscribed(self, event_type: str, client_id: str | None = None) -> list[Consumer]:
        """The consumers an event of ``event_type`` for ``client_id`` goes to."""
        with self._lock:
            if client_id in self._quiet:
                return []
            return [c for c in self._consumers.values() if c.wants(event_type, client_id)]

    def quiet(self, client_id: str, *, on: bool = True) -> None:
        """Deliver none of ``client_id``'s events (``on=False``: deliver them again)."""
        if len(client_id) > MAX_CLIENT_ID:
            raise _invalid(
                "clientId", f"at most {MAX_CLIENT_ID} characters ({len(client_id)} given)"
            )
        with self._lock:
            if on:
                self._quiet.add(client_id)
            else:
                self._quiet.discard(client_id)
            self.revision += 1

    def quiet_clients(self) -> list[str]:
        """The clients whose events are delivered nowhere, sorted."""
        with self._lock:
            return sorted(self._quiet)

    def _check_url(self, url: str) -> list[ValidationItem]:
        try:
            self.policy.check_registration(url)
        except TargetRefused as refused:
            message = str(refused)
            if refused.reason != "url":
                message = f"webhooks may not target this url: {message}"
            return [ValidationItem("url", message, "control")]
        return []


def _check_events(events: list[Any] | None) -> list[ValidationItem]:
    if events is None:
        return []
    if not events:
        return [ValidationItem("events", "events must name at least one event type", "control")]
    return [
        ValidationItem(f"events.{index}", "an event type is a non-empty string", "control")
        for index, item in enumerate(events)
        if not isinstance(item, str) or not item
    ]


def _invalid(field: str, message: str) -> BadRequest:
    return BadRequest(
        "Error processing request - not valid.",
        validation=[ValidationItem(field, message, "control")],
    )
