"""Options and fixtures shared by the contract suites.

    pytest contracts                                # against an in-process mock
    pytest contracts --base-url http://127.0.0.1:4010 --api-key KEY
    codat-mock contract [--base-url URL] [--api-key KEY] [--allow-writes] [--examples N]

Client and retry suites need the mock's control API (to see what a client sent and to
inject faults), so they run against a mock only; the server suite runs against any server
that speaks the contract, the live Codat API included (read-only unless --allow-writes).

Against a codat-mock someone else is running, the suites leave it as they found it: they work
in a tenant of their own (a fresh API key, unless --api-key names one), reset only that
tenant's data, keep its webhook events from every consumer, and remove the fault rules they
add. The client suite moves the mock's clock, which a shared mock cannot allow, so it runs
against a mock of its own in that case.
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from mockserver.auth import authorization_for
from mockserver.control_guard import TOKEN_ENV, control_headers

DEFAULT_EXAMPLES = 25
#: The control token of the mock the suites start for themselves.
IN_PROCESS_TOKEN = "contract-suites"


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
    group.addoption(
        "--operation",
        action="append",
        default=[],
        metavar="OPERATION_ID",
        help="run the server suite on this operation only (repeatable; default all)",
    )
    group.addoption(
        "--progress",
        action="store_true",
        help="say which operation the server suite is on, as it starts each one",
    )
    group.addoption(
        "--summary-file",
        default=None,
        help="write cases and failures per suite and operation to this JSON file",
    )


def pytest_configure(config: pytest.Config) -> None:
    operations = config.getoption("--operation", None)
    if operations:
        from mockserver.spec import Spec

        unknown = sorted(set(operations) - set(Spec.load().operations))
        if unknown:
            raise pytest.UsageError(f"--operation: no such operation: {', '.join(unknown)}")


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
    #: The server suite's operations (empty: all of them).
    operations: tuple[str, ...] = ()
    #: Whether the suites started this server themselves (so they may reset all of it).
    own: bool = False

    @property
    def authorization(self) -> str:
        return authorization_for(self.api_key)

    @property
    def control_headers(self) -> dict[str, str]:
        """The headers a call to the mock's control API carries."""
        return control_headers(self.control_token)


def _is_mock(url: str) -> bool:
    from contracts.command import Unreachable, probe

    try:
        return probe(url)
    except Unreachable:
        return False


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    """The server under test: the --base-url one, or a codat-mock started for the session."""
    config = request.config
    given_key = config.getoption("--api-key")
    examples = int(config.getoption("--examples"))
    operations = tuple(config.getoption("--operation"))
    base_url = config.getoption("--base-url")
    token = config.getoption("--control-token") or None
    if base_url:
        url = base_url.rstrip("/")
        is_mock = _is_mock(url)
        if is_mock:
            # A tenant of the run's own: nothing it does can touch another client's data.
            api_key = given_key or f"contract-{uuid.uuid4().hex[:12]}"
        else:
            api_key = given_key or os.environ.get("CODAT_API_KEY") or "contract-key"
        yield Target(
            url,
            api_key,
            is_mock=is_mock,
            allow_writes=bool(config.getoption("--allow-writes")),
            examples=examples,
            control_token=token,
            operations=operations,
        )
        return
    # No server named: the plugin's own session mock (codat_mock_server), as a user gets it.
    server = request.getfixturevalue("codat_mock_server")
    yield Target(
        server.url,
        given_key or "contract-key",
        is_mock=True,
        allow_writes=True,
        examples=examples,
        control_token=server.settings.control_token,
        operations=operations,
        own=True,
    )


@contextlib.contextmanager
def _own_mock(token: str | None) -> Iterator[str]:
    from mockserver.server import MockServer
    from mockserver.settings import Settings

    # The mock started here always has a control token, so every suite proves that it passes
    # the token on (a user's guarded mock would otherwise be the first to find out).
    token = token or IN_PROCESS_TOKEN
    with MockServer(Settings(port=0, strict=True, control_token=token)) as server:
        yield server.url


@dataclass(slots=True, frozen=True)
class Tenant:
    """The run's own client on a codat-mock, and the control API to look after it."""

    target: Target
    client_id: str
    control: httpx.Client

    def reset(self) -> None:
        """This tenant's data back to the fixtures; nothing else on the server changes."""
        self.control.post("/_mock/reset", json={"clientId": self.client_id}).raise_for_status()


@pytest.fixture(scope="session")
def tenant(target: Target) -> Iterator[Tenant]:
    """The run's tenant on the target mock, quiet (its events reach no webhook consumer)
    while the run lasts, and its data dropped when the run ends."""
    if not target.is_mock:
        pytest.skip("needs a codat-mock (its control API); the target is another server")
    with httpx.Client(
        base_url=target.url, headers=target.control_headers, trust_env=False, timeout=30
    ) as control:
        whoami = control.get("/_mock/whoami", headers={"Authorization": target.authorization})
        client_id = str(whoami.raise_for_status().json()["clientId"])
        control.put(f"/_mock/webhooks/quiet/{client_id}").raise_for_status()
        tenant = Tenant(target, client_id, control)
        try:
            yield tenant
        finally:
            tenant.reset()
            control.delete(f"/_mock/webhooks/quiet/{client_id}")


@pytest.fixture
def mock_target(tenant: Tenant) -> Target:
    """The target, which must be a codat-mock (suites that need its control API), with the
    run's tenant reset."""
    tenant.reset()
    return tenant.target


@pytest.fixture(scope="session")
def own_mock_target(target: Target) -> Iterator[Target]:
    """A codat-mock the suite may change as a whole (reset, clock): the target when the run
    started it, else a mock of the suite's own, if the target is a codat-mock at all."""
    if target.own:
        yield target
        return
    if not target.is_mock:
        pytest.skip("needs a codat-mock (its control API); the target is another server")
    with _own_mock(target.control_token) as url:
        yield Target(
            url,
            target.api_key,
            is_mock=True,
            allow_writes=True,
            examples=target.examples,
            control_token=target.control_token,
            operations=target.operations,
            own=True,
        )


@dataclass(slots=True)
class Summary:
    """Cases run and failures per (suite, operation), for ``codat-mock contract``'s table."""

    cases: Counter[tuple[str, str]] = field(default_factory=Counter)
    failures: Counter[tuple[str, str]] = field(default_factory=Counter)

    def record(self, suite: str, operation: str, *, cases: int = 1, failed: bool = False) -> None:
        self.cases[(suite, operation)] += cases
        if failed:
            self.failures[(suite, operation)] += 1

    def to_json(self) -> list[dict[str, object]]:
        return [
            {"suite": suite, "operation": op, "cases": n, "failures": self.failures[(suite, op)]}
            for (suite, op), n in sorted(self.cases.items())
        ]


_SUMMARY = pytest.StashKey[Summary]()


@pytest.fixture(scope="session")
def summary(request: pytest.FixtureRequest) -> Summary:
    """Where the suites count what they ran (written to --summary-file at the end)."""
    return request.config.stash.setdefault(_SUMMARY, Summary())


@pytest.fixture(scope="session")
def progress(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """Print a progress line past pytest's output capture (with --progress; else nothing)."""
    manager = request.config.pluginmanager
    reporter = manager.get_plugin("terminalreporter")
    capture = manager.get_plugin("capturemanager")
    if not request.config.getoption("--progress") or reporter is None or capture is None:
        return lambda _: None

    def say(line: str) -> None:
        with capture.global_and_fixture_disabled():
            reporter.write_line(line)

    return say


def pytest_sessionfinish(session: pytest.Session) -> None:
    path = session.config.getoption("--summary-file", None)
    if path:
        found = session.config.stash.get(_SUMMARY, Summary())
        Path(path).write_text(json.dumps(found.to_json()), encoding="utf-8")
