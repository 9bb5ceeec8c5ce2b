"""Standard Webhooks signing, as Codat (through Svix) signs every delivery.

Each attempt carries three headers:

* ``webhook-id``: the message id, the same on every retry of one message (receivers use it to
  spot duplicates);
* ``webhook-timestamp``: the attempt's time in whole Unix seconds;
* ``webhook-signature``: ``v1,`` and the base64 HMAC-SHA256 of ``"{id}.{timestamp}.{body}"``,
  keyed with the bytes a ``whsec_`` secret encodes.

The HMAC itself comes from the ``standardwebhooks`` library, so the mock signs exactly the way
a receiver using that library verifies.
"""

from __future__ import annotations

import base64
import binascii
import random
import string
from datetime import datetime, timezone

from standardwebhooks import Webhook

from mockserver.errors import CodatMockError

SECRET_PREFIX = "whsec_"
#: Svix makes 24-byte secrets; the Standard Webhooks spec allows 24 to 64 bytes.
SECRET_BYTES = 24
MIN_SECRET_BYTES = 24
MAX_SECRET_BYTES = 64

MESSAGE_ID_PREFIX = "msg_"
# Svix message ids are KSUIDs: 27 base62 characters after the prefix.
_MESSAGE_ID_LENGTH = 27
_BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase


class SecretError(CodatMockError, ValueError):
    """A webhook secret that is not ``whsec_`` plus base64 of 24 to 64 bytes."""


def new_secret(rng: random.Random) -> str:
    """A fresh ``whsec_`` secret: base64 of 24 bytes drawn from ``rng``."""
    raw = rng.getrandbits(SECRET_BYTES * 8).to_bytes(SECRET_BYTES, "big")
    return SECRET_PREFIX + base64.b64encode(raw).decode("ascii")


def secret_bytes(secret: str) -> bytes:
    """The key a ``whsec_`` secret encodes; :class:`SecretError` says what is wrong with it."""
    if not secret.startswith(SECRET_PREFIX):
        raise SecretError(f"a webhook secret starts with {SECRET_PREFIX!r}")
    encoded = secret[len(SECRET_PREFIX) :]
    try:
        # Unpadded base64 is common in the wild; standardwebhooks accepts it, so do we.
        raw = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise SecretError("a webhook secret is base64 after the 'whsec_' prefix") from None
    if not MIN_SECRET_BYTES <= len(raw) <= MAX_SECRET_BYTES:
        raise SecretError(
            f"a webhook secret encodes {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} bytes "
            f"({len(raw)} given)"
        )
    return raw


def new_message_id(rng: random.Random) -> str:
    """A Svix-style message id (``msg_`` and 27 base62 characters) drawn from ``rng``."""
    return MESSAGE_ID_PREFIX + "".join(rng.choice(_BASE62) for _ in range(_MESSAGE_ID_LENGTH))


def signature_headers(
    secret: str, message_id: str, timestamp: datetime, body: bytes
) -> dict[str, str]:
    """The three Standard Webhooks headers for one attempt to send ``body``.

    ``timestamp`` is truncated to whole seconds: the header and the signed string must carry
    the same number.
    """
    seconds = int(timestamp.timestamp())
    signed_at = datetime.fromtimestamp(seconds, tz=timezone.utc)
    signature = Webhook(secret).sign(message_id, signed_at, body.decode("utf-8"))
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(seconds),
        "webhook-signature": signature,
    }
