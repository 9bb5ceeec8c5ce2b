"""The pytest plugin (registered through the ``pytest11`` entry point as ``codat_mock``).

A thin adapter: the behaviour lives in :class:`mockserver.MockServer`.

* ``codat_mock``: the session's :class:`~mockserver.MockServer` (strict mode, 127.0.0.1, a
  free port), reset before each test, with the test's ``codat_faults`` rules added. It has
  ``.url``, ``.api_key``, ``.sdk(**kwargs)``, ``.faults``, ``.clock``, ``.requests()``,
  ``.report()`` and ``.reset()``.
* ``codat_mock_server``: that server, started once per session. Override this fixture (in a
  ``conftest.py``) to start it with other settings or a manual clock.
* ``codat_mock_app``: a fresh ASGI app, for in-process tests through ``httpx.ASGITransport``.

Marker ``@pytest.mark.codat_faults({...}, ...)`` applies fault rules for one test.

Strict mode turns a response that would break the contract into a loud 500, so a test can
never pass on a mock that drifted from Codat's API.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from mockserver.server import MockServer

MARKER = "codat_faults"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(*rules): fault rules (dicts as POST /_mock/faults takes them) applied to "
        "the codat_mock server for one test",
    )


@pytest.fixture(scope="session")
def codat_mock_server() -> Iterator[MockServer]:
    """The session's mock server (strict mode, loopback, a free port)."""
    from mockserver import MockServer, Settings

    with MockServer(Settings(port=0, strict=True)) as server:
        yield server


@pytest.fixture
def codat_mock(codat_mock_server: MockServer, request: pytest.FixtureRequest) -> MockServer:
    """The running mock, reset for this test, with the test's ``codat_faults`` applied."""
    codat_mock_server.reset()
    for marker in request.node.iter_markers(MARKER):
        for rule in marker.args:
            codat_mock_server.faults.add(rule)
    return codat_mock_server


@pytest.fixture
def codat_mock_app() -> Starlette:
    """A fresh mock as an ASGI app (strict mode), for ``httpx.ASGITransport``.

    Give the client ``base_url="http://localhost"``: the control API (``/_mock``) answers
    loopback host names only."""
    from mockserver import Settings, create_app

    return create_app(Settings(strict=True))
