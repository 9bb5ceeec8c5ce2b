"""Run ``codat-mock serve`` with the collector watched: on exit, print each generation's
collections and the longest pause to stderr. ``bench/run.py`` starts the mock through it.

Usage: ``python bench/gc_watch.py serve --port 4010`` (any ``codat-mock`` arguments).

Each pause is measured twice: in wall time, and in the CPU time of the collecting thread.
On a busy machine the first also counts time the thread was not scheduled; the second is
the collector's own work.
"""

from __future__ import annotations

import atexit
import gc
import sys
import time
from typing import Any

from mockserver.cli import main

_started: list[float] = [0.0, 0.0]
# Count only what happens once the startup heap is frozen (``serve`` does so just before it
# listens); a server that never freezes is watched from the start.
_from_freeze = "serve" in sys.argv[1:2]
# Per generation: wall milliseconds and CPU milliseconds of each collection.
_pauses: dict[int, list[tuple[float, float]]] = {0: [], 1: [], 2: []}


def _watch(phase: str, info: dict[str, Any]) -> None:
    if _from_freeze and not gc.get_freeze_count():
        return  # still starting up
    if phase == "start":
        _started[0] = time.perf_counter()
        _started[1] = time.thread_time()
    else:
        wall = (time.perf_counter() - _started[0]) * 1000.0
        cpu = (time.thread_time() - _started[1]) * 1000.0
        _pauses[int(info["generation"])].append((wall, cpu))


def _report() -> None:
    for generation, pauses in _pauses.items():
        wall = max((p[0] for p in pauses), default=0.0)
        cpu = max((p[1] for p in pauses), default=0.0)
        print(
            f"gc-watch: generation {generation}: {len(pauses)} collections, longest "
            f"{wall:.2f} ms wall / {cpu:.2f} ms CPU, total {sum(p[1] for p in pauses):.1f} ms CPU",
            file=sys.stderr,
            flush=True,
        )


if __name__ == "__main__":
    gc.callbacks.append(_watch)
    atexit.register(_report)
    sys.exit(main(sys.argv[1:]))
