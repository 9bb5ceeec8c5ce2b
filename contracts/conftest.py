"""Options and fixtures shared by the contract suites.

    pytest contracts                                # against an in-process mock
    pytest contracts --base-url http://127.0.0.1:4010 --api-key KEY
    codat-mock contract [--base-url URL] [--api-key KEY] [--allow-writes] [--examples N]

Client and retry suites need the mock's control API (to see what a client sent and to
inject faults), so they run against a mock only; the server suite runs against any server
that speaks the contract, the live Codat API included (read-only unless --allow-writes).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from mockserver.auth import authorization_for
from mockserver.control_guard import TOKEN_ENV, control_headers

DEFAULT_EXAMPLES = 25


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("codat-mock contracts")
    group.addoption(
        "--base-url", default=None, help="the server under test (default: an in-process codat-mock)"
    )
    group.addoption(
        "--api-key",
        default=None,
        help="API key to send (default: $CODAT_API_KEY, else a made-up key)",
    )
    group.addoption(
        "--allow-writes",
        action="store_true",
        help="let the server suite call operations that change state on a "
        "server that is not a codat-mock",
    )
    group.addoption(
        "--control-token",
        default=os.environ.get(TOKEN_ENV),
        help=f"the mock's control token, if it has one (default: ${TOKEN_ENV})",
    )
    group.addoption(
        "--examples",
        type=int,
        default=DEFAULT_EXAMPLES,
        help=f"generated examples per operation (default {DEFAULT_EXAMPLES})",
    )


@dataclass(slots=True, frozen=True)
class Target:
    """The server a suite runs against."""

    url: str
    api_key: str
    #: Whether it is a codat-mock (it answers GET /_mock/health).
    is_mock: bool
    allow_writes: bool
    examples: int
    #: The mock's control token, sent on every /_mock call when set.
    control_token: str | None = None

    @property
    def authorization(self) -> str:
        return authorization_for(self.api_key)

    @property
    def control_headers(self) -> dict[str, str]:
        """The headers a call to the mock's control API carries."""
        return control_headers(self.control_token)


def _is_mock(url: str) -> bool:
    try:
        response = httpx.get(f"{url.rstrip('/')}/_mock/health", timeout=5, trust_env=False)
    except httpx.HTTPError:
        return False
    return response.status_code == 200 and response.json() == {"status": "ok"}


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    """The server under test: the --base-url one, or a codat-mock started for the session."""
    config = request.config
    api_key = config.getoption("--api-key") or os.environ.get("CODAT_API_KEY") or "contract-key"
    examples = int(config.getoption("--examples"))
    base_url = config.getoption("--base-url")
    token = config.getoption("--control-token") or None
    if base_url:
        url = base_url.rstrip("/")
        yield Target(
            url, api_key, _is_mock(url), bool(config.getoption("--allow-writes")), examples, token
        )
        return
    # No server named: the plugin's own session mock (codat_mock_server), as a user gets it.
    server = request.getfixturevalue("codat_mock_server")
    yield Target(server.url, api_key, True, True, examples, server.settings.control_token)


@pytest.fixture
def mock_target(target: Target) -> Target:
    """The target, which must be a codat-mock (suites that need its control API)."""
    if not target.is_mock:
        pytest.skip("needs a codat-mock (its control API); the target is another server")
    with httpx.Client(
        base_url=target.url, headers=target.control_headers, trust_env=False
    ) as control:
        control.post("/_mock/reset").raise_for_status()
    return target
