"""Sending one attempt: a signed POST to the consumer's URL, and what came of it.

Any 2xx is a delivery; anything else (3xx included: redirects are not followed), a network
error or the timeout is a failure. A response carrying ``webhook-delivery: abort-message``
asks for no more retries. Without a transport of the caller's, every connection is checked
against :mod:`.targets`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

import httpx

from mockserver.webhooks.outbox import OutboxMessage
from mockserver.webhooks.signing import signature_headers
from mockserver.webhooks.targets import TargetPolicy, TargetRefused, checked_transport

#: How long a receiver has to answer an attempt.
DELIVERY_TIMEOUT = 15.0
USER_AGENT = "codat-mock-webhooks"


def failure_reason(exc: Exception) -> str:
    """One word for why an attempt got no response. The deliveries log shows no more: an
    exception's text (addresses, ports, TLS details) would make the log a network probe."""
    if isinstance(exc, TargetRefused):
        return "dns" if exc.reason == "dns" else "blocked"
    for kind, word in _FAILURES:
        if isinstance(exc, kind):
            return word
    return "error"


_FAILURES: tuple[tuple[type[Exception], str], ...] = (
    (httpx.TimeoutException, "timeout"),
    (httpx.ConnectError, "connect"),
    (httpx.ProtocolError, "protocol"),
    (httpx.TransportError, "network"),
)


@dataclass(slots=True, frozen=True)
class SendResult:
    """What one POST came to: when it went, the status or why none came, how long it took."""

    sent_at: datetime
    sent_wall: datetime
    status: int | None
    error: str | None
    duration_ms: float
    abort: bool

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def open_client(
    transport: httpx.BaseTransport | None, policy: TargetPolicy, timeout: float
) -> httpx.Client:
    """A consumer worker's client: ``transport`` (tests), else the network through
    ``policy``; no proxies from the environment, no redirects followed."""
    return httpx.Client(
        transport=transport or checked_transport(policy),
        timeout=timeout,
        trust_env=False,
        follow_redirects=False,
        headers={"user-agent": USER_AGENT},
    )


def post(
    client: httpx.Client,
    message: OutboxMessage,
    *,
    sent_at: datetime,
    sent_wall: datetime,
    stamp: datetime,
) -> SendResult:
    """POST ``message`` to its consumer, signed with timestamp ``stamp``; never raises."""
    headers = signature_headers(message.consumer.secret, message.id, stamp, message.body)
    headers["content-type"] = "application/json"
    started = time.perf_counter()
    status: int | None = None
    error: str | None = None
    abort = False
    try:
        response = client.post(message.consumer.url, content=message.body, headers=headers)
        status = response.status_code
        abort = response.headers.get("webhook-delivery", "").lower() == "abort-message"
    except Exception as exc:  # a receiver's failure must never take the worker down
        error = failure_reason(exc)
    duration_ms = (time.perf_counter() - started) * 1000.0
    return SendResult(sent_at, sent_wall, status, error, duration_ms, abort)
