"""Identifiers and other random values, all drawn from an injected ``random.Random``.

Codat's ids are version-4 UUIDs. The mock draws their 128 bits from the app's seeded RNG
rather than from ``uuid.uuid4()`` (which reads the OS entropy pool), so two runs with the same
seed hand out the same ids in the same order.
"""

from __future__ import annotations

import random
import uuid
from array import array
from collections.abc import Iterable
from typing import Any

#: Namespace for ids the mock derives from names (integration ids missing from fixtures).
_MOCK_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://codat-mock.invalid/")


def new_id(rng: random.Random) -> str:
    """A fresh UUID in the version-4 shape, drawn from ``rng``."""
    return uuid4_text(rng.getrandbits(128))


class IdSource:
    """The world's id generator: seeded draws that skip every id the world has ever held.

    A reset or an imported snapshot must not make the seeded sequence hand out an id that is
    already taken (by any tenant): the first create after importing a company would overwrite
    it. Skipping taken ids keeps both promises: ids never collide, and the same seed with the
    same calls (imports included) still gives the same ids.

    Every draw is one ``getrandbits(128)`` (a one-time passcode too), so the generator's
    position is a single count from its start: a state file writes that count with each
    change, and a restart replays it (a fraction of a second for a million draws).
    """

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self._start = rng.getstate()
        #: Draws since the start (or the last rewind).
        self.draws = 0
        self._taken: set[str] = set()

    def _draw(self) -> int:
        self.draws += 1
        return self.rng.getrandbits(128)

    def new_id(self) -> str:
        """A fresh id, never one handed out or claimed before."""
        while True:
            candidate = uuid4_text(self._draw())
            if candidate not in self._taken:
                self._taken.add(candidate)
                return candidate

    def otp(self) -> str:
        """A six-digit one-time passcode (leading zeros kept)."""
        return f"{self._draw() % 1_000_000:06d}"

    def claim(self, ids: Iterable[str]) -> None:
        """Mark ``ids`` as taken (ids imported from a snapshot or a file)."""
        self._taken.update(ids)

    def forget(self) -> None:
        """Forget every id taken (a full reset: no record holds one any more)."""
        self._taken.clear()

    def rewind(self) -> None:
        """Back to the first draw, with no id taken (a full reset)."""
        self.rng.setstate(self._start)
        self.draws = 0
        self._taken.clear()

    def start_bytes(self) -> bytes:
        """The generator's starting point (its seed's state) as bytes, for a state file."""
        _, internal, _ = self._start
        return array("I", internal).tobytes()

    def resume(self, start: bytes, draws: int) -> None:
        """Stand ``draws`` draws past ``start`` (from :meth:`start_bytes`)."""
        self._start = (3, tuple(array("I", start)), None)
        self.rng.setstate(self._start)
        getrandbits = self.rng.getrandbits
        for _ in range(draws):
            getrandbits(128)
        self.draws = draws

    def taken(self, an_id: str) -> bool:
        """Whether ``an_id`` has been handed out or claimed."""
        return an_id in self._taken


# ``uuid.UUID(int=n, version=4)`` sets these bits: the version nibble and the variant.
_V4_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_V4_SET = (0x4000 << 64) | (0x8000 << 48)


def uuid4_text(bits: int) -> str:
    """``str(uuid.UUID(int=bits, version=4))`` for 128 random ``bits``, without building a
    UUID object (an id is drawn on every create)."""
    h = "%032x" % ((bits & _V4_CLEAR) | _V4_SET)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


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
