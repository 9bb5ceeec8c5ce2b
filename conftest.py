"""Settings shared by every test directory (``tests/`` and ``contracts/``).

Hypothesis' defaults are tuned for a warm developer machine. CI runs on a fresh clone with no
``.hypothesis/`` cache, where the first draw of a text strategy also builds Hypothesis' Unicode
tables, and a 2-core runner shares its time with the servers the tests start. A deadline or a
"generation is slow" health check then fails a test with no counterexample behind it. The
``codat-mock`` profile judges tests only by their assertions, and derandomizes them so that a
run is the same on every machine.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "codat-mock",
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
# HYPOTHESIS_PROFILE=default restores Hypothesis' own randomized search for local bug hunts.
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "codat-mock"))
