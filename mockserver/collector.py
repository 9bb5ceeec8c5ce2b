"""``Collector``: the garbage-collection policy of a long-running server.

CPython 3.11's full (generation-2) collection walks every object the collector tracks, about
300 ns each: with 100,000 companies in the store a full collection stopped the server for over
100 ms, more often the faster the store grew. Yet what it walks (the startup heap, the store)
never becomes garbage in a cycle: companies, connections and journal entries go by reference
counting, and so does everything a request makes (the app breaks the one cycle a request
made, see ``MockApp``).

So, once installed, the collector freezes (``gc.freeze()``, which moves whole lists at once)
what survives each full collection, and runs a full collection after every second collection
of generation 1: each walks only what survived since the previous one, so its pause is
bounded by recent growth (a few ms while POSTs grow the store as fast as they can), not by
the store's size. Young collections come more often too (see :data:`THRESHOLDS`).

The price: a frozen object that later becomes garbage *in a cycle* is kept (one freed by
reference counting is freed, frozen or not). ``python bench/gc_leak.py`` drives a mix of every
kind of request (reads, writes, syncs, 400s, 401s, 404s, faults that answer or drop, a
connection per request) through ``serve``'s app and counts what only an audit would collect:
0 objects per 100,000 requests, over 171 full collections (the mix makes no garbage in
cycles at all; 429s from the rate limiter make none either). So
no audit runs under load; an :meth:`Collector.audit` (unfreeze, collect, freeze: 13 ms on
the startup heap) runs where a pause is acceptable and worthwhile: after a reset of the whole
mock (``POST /_mock/reset``), once the frozen heap has grown by a quarter since the last
audit (counting it takes 1.5 ms; what the reset freed by reference counting is gone by
then). A reset of one client's data does not audit.

``create_app()`` alone installs nothing: the policy is the process's, not the app's (tests run
many apps in one process). ``serve`` installs it, and so can a library user::

    collector = Collector()
    app = create_app(settings, on_reset=collector.after_reset)
    collector.install()  # once the app is built: its heap is frozen with the rest
    ...  # serve
    collector.uninstall()
"""

from __future__ import annotations

import gc
from typing import Any

#: ``gc.set_threshold`` while installed (CPython's default: 700, 10, 10). Young collections
#: as often as CPython's (the journal's rows are nothing for them to walk, see
#: :mod:`mockserver.journal_ring`); the middle generation after every 5 of them and a full
#: collection after every second of those, so that a full one walks at most what ten young
#: collections let through: about 7,000 objects, 2 ms, while POSTs grow the store.
THRESHOLDS = (700, 5, 1)
#: An audit on reset only pays off once the frozen heap has grown by this share since the
#: last audit (counting walks the frozen heap: a tenth of what an audit costs).
AUDIT_GROWTH = 0.25


class Collector:
    """The process's garbage-collection policy: :meth:`install` it, :meth:`uninstall` it.

    Installed, it collects and freezes the heap (startup's objects live as long as the
    process), then freezes the survivors of every full collection.
    """

    def __init__(
        self,
        *,
        thresholds: tuple[int, int, int] = THRESHOLDS,
        audit_growth: float = AUDIT_GROWTH,
    ) -> None:
        self._policy_thresholds = thresholds
        self._audit_growth = audit_growth
        self._thresholds = gc.get_threshold()
        self._installed = False
        self._auditing = False
        self._found_frozen = False
        #: How many objects were frozen right after the last audit.
        self._audited_size = 0
        #: Audits run so far, and the objects they found unreachable in all.
        self.audits = 0
        self.collected = 0

    @property
    def installed(self) -> bool:
        """Whether the policy is in force in this process."""
        return self._installed

    def install(self) -> None:
        """Collect and freeze the heap, then freeze the survivors of each full collection."""
        if self._installed:
            raise RuntimeError("this Collector is installed already")
        self._found_frozen = gc.get_freeze_count() > 0
        self._thresholds = gc.get_threshold()
        self.audit()
        gc.callbacks.append(self._on_collection)
        gc.set_threshold(*self._policy_thresholds)
        self._installed = True

    def uninstall(self) -> None:
        """Stop freezing, restore the thresholds; unfreeze the heap unless it was frozen
        before :meth:`install`."""
        if not self._installed:
            return
        gc.callbacks.remove(self._on_collection)
        gc.set_threshold(*self._thresholds)
        self._installed = False
        if not self._found_frozen:
            gc.unfreeze()

    def audit(self) -> int:
        """Unfreeze, collect everything, freeze again; return how many objects the
        collection found unreachable (the frozen cycles' garbage among them)."""
        self._auditing = True
        try:
            gc.unfreeze()
            found = gc.collect()
            gc.freeze()
        finally:
            self._auditing = False
        self._audited_size = gc.get_freeze_count()
        self.audits += 1
        self.collected += found
        return found

    def after_reset(self) -> None:
        """A reset has just dropped the mock's state: audit if the frozen heap has grown
        since the last audit (what a reset freed by reference counting has left it)."""
        if gc.get_freeze_count() > self._audited_size * (1 + self._audit_growth):
            self.audit()

    def _on_collection(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "stop" and info["generation"] == 2 and not self._auditing:
            gc.freeze()  # O(1): splices the collector's lists onto the permanent one
