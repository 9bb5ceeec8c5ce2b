"""Tests of mockserver/webhooks/signing.py: secrets, message ids and the Standard Webhooks
headers, checked with the ``standardwebhooks`` library a receiver would use."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import re
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from standardwebhooks import Webhook, WebhookVerificationError

from mockserver.webhooks.signing import (
    SecretError,
    new_message_id,
    new_secret,
    secret_bytes,
    signature_headers,
)


def now() -> datetime:
    return datetime.now(timezone.utc)


def test_a_new_secret_is_whsec_and_base64_of_24_random_bytes() -> None:
    secret = new_secret(random.Random(1))
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 24
    assert secret == new_secret(random.Random(1))
    assert secret != new_secret(random.Random(2))


@pytest.mark.parametrize(
    ("secret", "fragment"),
    [
        ("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "starts with 'whsec_'"),
        ("whsec_not*base64*at*all", "is base64"),
        ("whsec_" + base64.b64encode(b"x" * 23).decode(), "(23 given)"),
        ("whsec_" + base64.b64encode(b"x" * 65).decode(), "(65 given)"),
    ],
)
def test_malformed_secrets_are_refused(secret: str, fragment: str) -> None:
    with pytest.raises(SecretError, match=re.escape(fragment)):
        secret_bytes(secret)


def test_secret_bytes_accepts_unpadded_base64_like_standardwebhooks() -> None:
    raw = bytes(range(25))  # 25 bytes: base64 with one '=' of padding
    padded = base64.b64encode(raw).decode()
    assert padded.endswith("=")
    assert secret_bytes("whsec_" + padded.rstrip("=")) == raw


def test_message_ids_look_like_svix_ones_and_follow_the_seed() -> None:
    first = new_message_id(random.Random(3))
    assert re.fullmatch(r"msg_[0-9A-Za-z]{27}", first)
    assert first == new_message_id(random.Random(3))
    assert first != new_message_id(random.Random(4))


def test_headers_carry_id_whole_seconds_and_a_v1_hmac_of_id_timestamp_body() -> None:
    secret = new_secret(random.Random(1))
    stamp = datetime(2026, 3, 2, 9, 0, 0, 750_000, tzinfo=timezone.utc)
    body = b'{"eventType":"connection.deleted"}'
    headers = signature_headers(secret, "msg_abc", stamp, body)
    assert headers["webhook-id"] == "msg_abc"
    assert headers["webhook-timestamp"] == str(int(stamp.timestamp()))  # truncated, not rounded
    key = secret_bytes(secret)
    expected = hmac.new(key, b"msg_abc." + headers["webhook-timestamp"].encode() + b"." + body,
                        hashlib.sha256).digest()  # fmt: skip
    assert headers["webhook-signature"] == "v1," + base64.b64encode(expected).decode()


def test_standardwebhooks_verifies_a_signed_body_and_returns_it() -> None:
    secret = new_secret(random.Random(9))
    body = b'{"id":"e1","eventType":"connection.deleted"}'
    headers = signature_headers(secret, "msg_1", now(), body)
    assert Webhook(secret).verify(body, headers) == {"id": "e1", "eventType": "connection.deleted"}


def test_verification_fails_with_another_secret_or_a_stale_timestamp() -> None:
    secret = new_secret(random.Random(9))
    body = b"{}"
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret(random.Random(10))).verify(
            body, signature_headers(secret, "m", now(), body)
        )
    stale = now() - timedelta(minutes=6)
    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(secret).verify(body, signature_headers(secret, "m", stale, body))


@given(
    seed=st.integers(min_value=0, max_value=2**32),
    message_id=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_", min_size=1, max_size=40),
    payload=st.dictionaries(st.text(max_size=10), st.text(max_size=20), max_size=5),
    flip=st.integers(min_value=0),
)
def test_any_signed_body_verifies_and_any_changed_byte_does_not(
    seed: int, message_id: str, payload: dict[str, str], flip: int
) -> None:
    secret = new_secret(random.Random(seed))
    body = json.dumps(payload).encode()
    headers = signature_headers(secret, message_id, now(), body)
    assert Webhook(secret).verify(body, headers) == payload
    index = flip % len(body)
    tampered = body[:index] + bytes([body[index] ^ 0x01]) + body[index + 1 :]
    with pytest.raises((WebhookVerificationError, ValueError)):
        Webhook(secret).verify(tampered, headers)
