"""Identifiers and other random values, all drawn from an injected ``random.Random``.

Codat's ids are version-4 UUIDs. The mock draws their 128 bits from the app's seeded RNG
rather than from ``uuid.uuid4()`` (which reads the OS entropy pool), so two runs with the same
seed hand out the same ids in the same order.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterable
from typing import Any

#: Namespace for ids the mock derives from names (integration ids missing from fixtures).
_MOCK_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://codat-mock.invalid/")


def new_id(rng: random.Random) -> str:
    """A fresh UUID in the version-4 shape, drawn from ``rng``."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


class IdSource:
    """The world's id generator: seeded draws that skip every id the world has ever held.

    A reset or an imported snapshot must not make the seeded sequence hand out an id that is
    already taken (by any tenant): the first create after importing a company would overwrite
    it. Skipping taken ids keeps both promises: ids never collide, and the same seed with the
    same calls (imports included) still gives the same ids.
    """

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self._taken: set[str] = set()

    def new_id(self) -> str:
        """A fresh id, never one handed out or claimed before."""
        while True:
            candidate = new_id(self.rng)
            if candidate not in self._taken:
                self._taken.add(candidate)
                return candidate

    def claim(self, ids: Iterable[str]) -> None:
        """Mark ``ids`` as taken (ids imported from a snapshot or a file)."""
        self._taken.update(ids)

    def forget(self) -> None:
        """Forget every id taken (a full reset: no record holds one any more)."""
        self._taken.clear()

    def taken(self, an_id: str) -> bool:
        """Whether ``an_id`` has been handed out or claimed."""
        return an_id in self._taken


def rng_state(rng: random.Random) -> list[Any]:
    """``rng``'s position, JSON-able (a durable copy keeps it, so a restart draws on)."""
    version, internal, gauss = rng.getstate()
    return [version, list(internal), gauss]


def set_rng_state(rng: random.Random, state: list[Any]) -> None:
    """Put ``rng`` where :func:`rng_state` found it."""
    version, internal, gauss = state
    rng.setstate((version, tuple(internal), gauss))


def new_otp(rng: random.Random) -> str:
    """A six-digit one-time passcode (leading zeros kept), drawn from ``rng``."""
    return f"{rng.randrange(1_000_000):06d}"


def stable_id(*parts: str) -> str:
    """A UUID derived from ``parts``: the same parts always give the same id.

    Used when a fixture leaves out an id the contract requires, so the gap is filled the
    same way on every run without touching the RNG.
    """
    return str(uuid.uuid5(_MOCK_NAMESPACE, "/".join(parts)))
