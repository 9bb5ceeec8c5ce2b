"""How an app's state survives: restored from the state file at startup, written back after
every change, before the answer that made it leaves.

The store (and each other component) stays the one in-memory truth. :class:`Durable` only
asks each what moved since it last looked (the world's change marks, the others' revision
counters and positions) and writes exactly that, in one transaction.
"""

from __future__ import annotations

import gc
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mockserver.clock import Clock
from mockserver.faults.book import FaultBook
from mockserver.faults.ratelimit import RateLimitConfig, RateLimiter
from mockserver.persistence.statefile import Saved, StateFile, StateFileError
from mockserver.store.world import World
from mockserver.webhooks import WebhookHub

log = logging.getLogger("codat_mock")


class Durable:
    """Keeps one app's components and its state file in step."""

    def __init__(
        self,
        file: StateFile,
        *,
        world: World,
        clock: Clock,
        faults: FaultBook,
        rate_limiter: RateLimiter,
        webhooks: WebhookHub,
    ) -> None:
        self.file = file
        self._parts = _Parts(world, clock, faults, rate_limiter, webhooks)
        self._lock = threading.Lock()
        # What each component looked like when last written; a change writes it again.
        self._written: dict[str, Any] = {}

    def start(self) -> None:
        """Restore the components from the file, or (for an empty file) write them all."""
        # Hundreds of thousands of new objects, none of them garbage: without the cyclic
        # collector's passes over an ever larger heap, a restore takes half the time.
        collecting = gc.isenabled()
        gc.disable()
        try:
            saved = self.file.read()
            if saved.meta:
                self._restore(saved)
            else:
                self._parts.world.mark_everything()
        finally:
            if collecting:
                gc.enable()
        self.flush()

    def flush(self) -> None:
        """Write whatever changed since the last flush; committed when this returns."""
        parts = self._parts
        with self._lock:
            meta: dict[str, Any] = {}
            for key, mark, export in (
                ("clock", parts.clock.position(), parts.clock.position),
                ("faults", (id(parts.faults), parts.faults.revision), parts.faults.export),
                ("rateLimit", parts.rate_limiter.config, self._rate_limit),
                ("webhooks", self._webhook_mark(), parts.webhooks.export),
            ):
                if self._written.get(key, _UNSET) != mark:
                    meta[key] = export()
                    self._written[key] = mark
            rows = parts.world.take_changes()
            if rows is not None and rows.meta is not None:
                world = dict(rows.meta)
                if "rngStart" in world:  # bytes: a row of their own
                    meta["rngStart"] = world.pop("rngStart")
                meta["world"] = world
            if rows is None and not meta:
                return
            try:
                self.file.write(rows, meta)
            except BaseException:
                # Nothing of this flush is in the file: the next one writes everything.
                self._written.clear()
                parts.world.mark_everything()
                raise

    def flush_quietly(self) -> None:
        """:meth:`flush` for a background thread: a failure is logged, not raised (the next
        request's flush tries again and answers the failure)."""
        try:
            self.flush()
        except Exception:
            log.exception("cannot write the state file %s", self.file.path)

    def _webhook_mark(self) -> tuple[int, int]:
        hub = self._parts.webhooks
        return (hub.revision, hub.consumers.revision)

    def _rate_limit(self) -> dict[str, Any]:
        return self._parts.rate_limiter.config.to_json()

    def _restore(self, saved: Saved) -> None:
        parts = self._parts
        meta = saved.meta
        try:
            parts.world.restore_stored(
                tenants_of(saved), {**meta["world"], "rngStart": meta["rngStart"]}
            )
            parts.clock.restore(meta["clock"])
            parts.faults.restore(meta["faults"])
            parts.rate_limiter.configure(RateLimitConfig.from_json(meta["rateLimit"]))
            parts.webhooks.restore(meta["webhooks"])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise StateFileError(f"{self.file.path}: a record cannot be read: {exc!r}") from None
        parts.world.discard_changes()  # what was just read is in the file already
        self._written = {
            "clock": parts.clock.position(),
            "faults": (id(parts.faults), parts.faults.revision),
            "rateLimit": parts.rate_limiter.config,
            "webhooks": self._webhook_mark(),
        }


_UNSET = object()


@dataclass(slots=True, frozen=True)
class _Parts:
    world: World
    clock: Clock
    faults: FaultBook
    rate_limiter: RateLimiter
    webhooks: WebhookHub


def open_durable(
    path: Path,
    *,
    new_only: bool,
    world: World,
    clock: Clock,
    faults: FaultBook,
    rate_limiter: RateLimiter,
    webhooks: WebhookHub,
) -> Durable:
    """Open the state file at ``path`` and bring the components and the file in step: the
    components restored from a file that holds a world, or written to an empty one.

    ``new_only`` (the components were loaded from a snapshot) refuses a file that holds a
    world already: one of the two would have to be silently dropped.
    """
    file = StateFile.open(path)
    try:
        if new_only and not file.fresh:
            raise StateFileError(
                f"{path}: the file holds a world already; --load only starts a new state file "
                "(remove one of the two)"
            )
        durable = Durable(
            file,
            world=world,
            clock=clock,
            faults=faults,
            rate_limiter=rate_limiter,
            webhooks=webhooks,
        )
        durable.start()
    except BaseException:
        file.close()
        raise
    webhooks.on_change = durable.flush_quietly
    return durable


def tenants_of(saved: Saved) -> list[tuple[str, dict[str, Any], list[dict[str, Any]]]]:
    """The file's tenants in order of first use, each with its settings and companies."""
    tenants: dict[str, tuple[str, dict[str, Any], list[dict[str, Any]]]] = {
        client_id: (client_id, settings, []) for client_id, settings in saved.tenants
    }
    for client_id, company in saved.companies:
        tenants.setdefault(client_id, (client_id, {}, []))[2].append(company)
    return list(tenants.values())
