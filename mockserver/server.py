"""``MockServer``: the mock on a free loopback port, in a background thread, and the Python
API over it.

    with MockServer() as mock:
        sdk = mock.sdk()  # the official SDK, pointed at the mock, with short retries
        mock.faults.add(operationId="create-company", status=503, times=1)
        mock.clock.advance(60)
        [entry] = mock.requests("create-company")

The server is ready when ``start()`` returns; ``stop()`` shuts it down and joins the thread.
"""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType
from typing import TYPE_CHECKING, Any

import uvicorn

from mockserver.app import Components, create_app
from mockserver.auth import authorization_for
from mockserver.binding import listen
from mockserver.control_guard import control_headers
from mockserver.errors import CodatMockError
from mockserver.handles import Faults, MockClock
from mockserver.journal import JournalEntry
from mockserver.report import build_report
from mockserver.settings import DEFAULT_HOST, Settings
from mockserver.wire import uvicorn_config

if TYPE_CHECKING:
    from codat_sync_for_commerce import CodatSyncCommerce
    from starlette.applications import Starlette

    from mockserver.clock import Clock

#: The API key :meth:`MockServer.sdk` authenticates with unless told otherwise.
DEFAULT_API_KEY = "codat-mock-api-key"
#: The SDK's own default retries a 5XX or 429 for up to an hour, so a fault that never retires
#: would hang a test: :meth:`MockServer.sdk` retries quickly instead, for 5 s in all
#: (intervals in ms: initial, maximum, growth, total elapsed).
SDK_BACKOFF = (10, 200, 1.5, 5_000)
#: And gives up on one request after this many milliseconds (a ``hang`` fault).
SDK_TIMEOUT_MS = 10_000


class StartupError(CodatMockError, RuntimeError):
    """The server did not come up."""


class MockServer:
    """A running mock server (uvicorn in a daemon thread) on 127.0.0.1 and a free port."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        clock: Clock | None = None,
        api_key: str = DEFAULT_API_KEY,
        startup_timeout: float = 30.0,
    ) -> None:
        self.settings = settings or Settings(port=0)
        self.app: Starlette = create_app(self.settings, clock=clock)
        #: The key :meth:`sdk` and :attr:`authorization` use (each key is its own tenant).
        self.api_key = api_key
        parts = self.components
        #: The fault rules, as ``/_mock/faults`` manages them.
        self.faults = Faults(parts.faults)
        #: The mock clock, as ``/_mock/clock`` moves it.
        self.clock = MockClock(parts.clock, parts.webhooks)
        # The SDK closes its HTTP clients when the SDK object is collected, even mid-call, so
        # `mock.sdk().companies...` would break: keep each SDK alive until the next reset.
        self._sdks: list[CodatSyncCommerce] = []
        self._timeout = startup_timeout
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    @property
    def components(self) -> Components:
        """What the app owns: the world, clock, fault book, journal, webhooks..."""
        components: Components = self.app.state.mock
        return components

    @property
    def port(self) -> int:
        if self._socket is None:
            raise RuntimeError("the server is not running")
        return int(self._socket.getsockname()[1])

    @property
    def url(self) -> str:
        """The base URL to point a client at."""
        return f"http://{self.settings.host}:{self.port}"

    @property
    def control_headers(self) -> dict[str, str]:
        """The headers a call to this mock's ``/_mock`` routes needs: its control token, if
        it was given one."""
        return control_headers(self.settings.control_token)

    @property
    def authorization(self) -> str:
        """The ``Authorization`` header value for :attr:`api_key`."""
        return authorization_for(self.api_key)

    def requests(self, operation_id: str | None = None) -> list[JournalEntry]:
        """The journal's entries (of one operation, or all), oldest first."""
        return self.components.journal.entries(operation_id=operation_id)

    def report(self, window_seconds: float = 60.0) -> dict[str, Any]:
        """The chaos verdict over the journal (see :func:`mockserver.report.build_report`)."""
        return build_report(self.components.journal.entries(), window_seconds=window_seconds)

    def reset(self) -> None:
        """Every client's state back to the fixtures; fault rules and rate limits back to the
        startup settings; the journal empty (as ``POST /_mock/reset``). The clock keeps its
        time."""
        self.components.reset()
        self._sdks.clear()

    def sdk(self, *, api_key: str | None = None, **kwargs: Any) -> CodatSyncCommerce:
        """The official SDK, pointed at this mock with ``api_key`` (default :attr:`api_key`).

        It retries quickly (10 ms to 200 ms apart, 5 s in all) and gives up on a request after
        10 s, so a fault without ``times`` fails a test instead of hanging it; pass
        ``retry_config`` or ``timeout_ms`` (or any other ``CodatSyncCommerce`` argument) to
        choose otherwise. Needs ``codat-sync-for-commerce`` installed.
        """
        try:
            from codat_sync_for_commerce import CodatSyncCommerce
            from codat_sync_for_commerce.models import shared
            from codat_sync_for_commerce.utils import BackoffStrategy, RetryConfig
        except ImportError as exc:  # pragma: no cover - depends on the user's environment
            raise CodatMockError(
                "MockServer.sdk() needs the official SDK: pip install codat-sync-for-commerce"
            ) from exc
        key = self.api_key if api_key is None else api_key
        kwargs.setdefault("security", shared.Security(auth_header=authorization_for(key)))
        kwargs.setdefault("server_url", self.url)
        kwargs.setdefault(
            "retry_config", RetryConfig("backoff", BackoffStrategy(*SDK_BACKOFF), True)
        )
        kwargs.setdefault("timeout_ms", SDK_TIMEOUT_MS)
        sdk = CodatSyncCommerce(**kwargs)
        self._sdks.append(sdk)
        return sdk

    def start(self) -> MockServer:
        # Bind before starting uvicorn so the port is known (and taken) up front.
        sock = listen(self.settings.host or DEFAULT_HOST, self.settings.port)
        self._socket = sock
        config = uvicorn_config(
            self.app, log_level="warning", lifespan="on", timeout_graceful_shutdown=2
        )
        server = uvicorn.Server(config)
        self._server = server
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="codat-mock", daemon=True
        )
        self._thread.start()
        # uvicorn offers no readiness callback; poll its flag, bounded by the timeout.
        deadline = time.monotonic() + self._timeout
        pause = threading.Event()
        while not server.started and self._thread.is_alive() and time.monotonic() < deadline:
            pause.wait(0.005)
        if not server.started:
            self.stop()
            raise StartupError("codat-mock did not start")
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(self._timeout)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None

    def __enter__(self) -> MockServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
