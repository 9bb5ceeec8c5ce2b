"""The pytest plugin (registered through the ``pytest11`` entry point as ``codat_mock``).

Fixtures:

* ``codat_mock``: a live mock on 127.0.0.1 and a free port, started once per session in a
  thread and reset before each test. It has ``.url``, ``.api_key``, ``.sdk(**kwargs)``,
  ``.faults.add(...)``, ``.requests(operation_id=None)``, ``.clock.advance(seconds)`` and
  ``.report()``.
* ``codat_mock_app``: a fresh ASGI app, for in-process tests through ``httpx.ASGITransport``.

Marker ``@pytest.mark.codat_faults({...}, ...)`` applies fault rules for one test.

The server runs in strict mode: a response that would break the contract becomes a loud 500,
so a test can never pass on a mock that drifted from Codat's API.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from mockserver.server import MockServer

DEFAULT_API_KEY = "codat-mock-api-key"
MARKER = "codat_faults"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(*rules): fault rules (dicts as POST /_mock/faults takes them) applied to "
        "the codat_mock server for one test",
    )


class Faults:
    """The fault rules of a running mock."""

    def __init__(self, server: MockServer) -> None:
        self._server = server

    def add(self, rule: Mapping[str, Any] | None = None, /, **fields: Any) -> dict[str, Any]:
        """Add a rule (a dict, keyword fields, or both) and return it as stored, with its id."""
        from mockserver.faults import rule_from

        data = {**(rule or {}), **fields}
        return self._server.components.faults.add(rule_from(data)).to_json()

    def list(self) -> list[dict[str, Any]]:
        return [rule.to_json() for rule in self._server.components.faults.rules()]

    def remove(self, rule_id: str) -> None:
        self._server.components.faults.remove(rule_id)

    def clear(self) -> None:
        self._server.components.faults.clear()


class MockClock:
    """The mock's clock, as a test moves it."""

    def __init__(self, server: MockServer) -> None:
        self._server = server

    def now(self) -> datetime:
        return self._server.components.clock.now()

    def advance(self, seconds: float) -> datetime:
        return self._server.components.clock.advance(seconds)

    def set(self, instant: datetime) -> datetime:
        return self._server.components.clock.set(instant)


class CodatMock:
    """What the ``codat_mock`` fixture gives a test."""

    def __init__(self, server: MockServer, api_key: str = DEFAULT_API_KEY) -> None:
        self.server = server
        self.api_key = api_key
        self.faults = Faults(server)
        self.clock = MockClock(server)
        # The SDK closes its HTTP clients when the SDK object is collected, even mid-call, so
        # `codat_mock.sdk().companies...` would break: keep every SDK alive for the test.
        self._sdks: list[Any] = []

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def authorization(self) -> str:
        """The ``Authorization`` header value for :attr:`api_key`."""
        from mockserver.auth import authorization_for

        return authorization_for(self.api_key)

    def sdk(self, **kwargs: Any) -> Any:
        """The official SDK, already pointed at this mock with this mock's credentials.

        Keyword arguments go to ``CodatSyncCommerce`` (``retry_config``, ``timeout_ms``,
        ``client``...). Needs ``codat-sync-for-commerce`` installed.
        """
        try:
            from codat_sync_for_commerce import CodatSyncCommerce
            from codat_sync_for_commerce.models import shared
        except ImportError as exc:  # pragma: no cover - depends on the user's environment
            raise RuntimeError(
                "codat_mock.sdk() needs the official SDK: pip install codat-sync-for-commerce"
            ) from exc
        kwargs.setdefault("security", shared.Security(auth_header=self.authorization))
        kwargs.setdefault("server_url", self.url)
        sdk = CodatSyncCommerce(**kwargs)
        self._sdks.append(sdk)
        return sdk

    def close(self) -> None:
        """Let go of the SDKs this test made (their clients close when collected)."""
        self._sdks.clear()

    def requests(self, operation_id: str | None = None) -> list[dict[str, Any]]:
        """The journal's entries as dicts, oldest first."""
        return self.server.requests(operation_id)

    def report(self) -> dict[str, Any]:
        """The chaos verdict over this test's requests."""
        return self.server.report()

    def reset(self) -> None:
        """State back to the fixtures; faults, journal and rate-limit counters cleared."""
        self.server.components.reset()


@pytest.fixture(scope="session")
def codat_mock_server() -> Iterator[MockServer]:
    """The session's mock server (strict mode, loopback, a free port)."""
    from mockserver.server import MockServer
    from mockserver.settings import Settings

    with MockServer(Settings(port=0, strict=True)) as server:
        yield server


@pytest.fixture
def codat_mock(
    codat_mock_server: MockServer, request: pytest.FixtureRequest
) -> Iterator[CodatMock]:
    """The running mock, reset for this test, with the test's ``codat_faults`` applied."""
    mock = CodatMock(codat_mock_server)
    mock.reset()
    for marker in request.node.iter_markers(MARKER):
        for rule in marker.args:
            mock.faults.add(rule)
    yield mock
    mock.close()


@pytest.fixture
def codat_mock_app() -> Starlette:
    """A fresh mock as an ASGI app (strict mode), for ``httpx.ASGITransport``."""
    from mockserver.app import create_app
    from mockserver.settings import Settings

    return create_app(Settings(strict=True))
