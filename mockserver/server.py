"""``MockServer``: the mock on a free loopback port, in a background thread.

    with MockServer() as mock:
        sdk = CodatSyncCommerce(security=..., server_url=mock.url)

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
from mockserver.binding import listen
from mockserver.control_guard import control_headers
from mockserver.report import build_report
from mockserver.settings import DEFAULT_HOST, Settings

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from mockserver.clock import Clock


class MockServer:
    """A running mock server (uvicorn in a daemon thread) on 127.0.0.1 and a free port."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        clock: Clock | None = None,
        startup_timeout: float = 30.0,
    ) -> None:
        self.settings = settings or Settings(port=0)
        self.app: Starlette = create_app(self.settings, clock=clock)
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

    def requests(self, operation_id: str | None = None) -> list[dict[str, Any]]:
        """The journal's entries (as the control API shows them), oldest first."""
        entries = self.components.journal.entries(operation_id=operation_id)
        return [entry.to_json() for entry in entries]

    def report(self, window_seconds: float = 60.0) -> dict[str, Any]:
        """The chaos verdict over the journal (see :func:`mockserver.report.build_report`)."""
        return build_report(self.components.journal.entries(), window_seconds=window_seconds)

    def start(self) -> MockServer:
        # Bind before starting uvicorn so the port is known (and taken) up front.
        sock = listen(self.settings.host or DEFAULT_HOST, self.settings.port)
        self._socket = sock
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=2,
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
            raise RuntimeError("codat-mock did not start")
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
