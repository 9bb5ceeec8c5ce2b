"""Identifiers and other random values, all drawn from an injected ``random.Random``.

Codat's ids are version-4 UUIDs. The mock draws their 128 bits from the app's seeded RNG
rather than from ``uuid.uuid4()`` (which reads the OS entropy pool), so two runs with the same
seed hand out the same ids in the same order.
"""

from __future__ import annotations

import random
import uuid

#: Namespace for ids the mock derives from names (integration ids missing from fixtures).
_MOCK_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://codat-mock.invalid/")


def new_id(rng: random.Random) -> str:
    """A fresh UUID in the version-4 shape, drawn from ``rng``."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def new_otp(rng: random.Random) -> str:
    """A six-digit one-time passcode (leading zeros kept), drawn from ``rng``."""
    return f"{rng.randrange(1_000_000):06d}"


def stable_id(*parts: str) -> str:
    """A UUID derived from ``parts``: the same parts always give the same id.

    Used when a fixture leaves out an id the contract requires, so the gap is filled the
    same way on every run without touching the RNG.
    """
    return str(uuid.uuid5(_MOCK_NAMESPACE, "/".join(parts)))
