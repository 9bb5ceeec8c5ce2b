"""``create_app(settings) -> Starlette``: the app owns everything on ``app.state.mock``.

There is no module-level state: two apps in one process share nothing, and a reset rebuilds
the world from the fixtures with the same seed, so a run can be replayed exactly.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Callable
from datetime import datetime

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.types import Receive, Scope, Send

from mockserver.clock import Clock
from mockserver.control import control_routes
from mockserver.control_guard import ControlGuard, exposure_problem
from mockserver.control_kit import error_response
from mockserver.faults import FaultBook, FaultMiddleware, RawConnection
from mockserver.faults.connection import SCOPE_KEY as CONNECTION_KEY
from mockserver.faults.ratelimit import RateLimiter
from mockserver.faults.throttle import RateLimitMiddleware
from mockserver.fixtures import Fixtures, load_fixtures
from mockserver.handlers import build_registry
from mockserver.journal import Journal, JournalEntry, JournalMiddleware
from mockserver.request_bounds import RequestBounds
from mockserver.settings import MAX_HEADER_BYTES, MAX_URL_BYTES, Settings
from mockserver.spec import Spec
from mockserver.store import ConnectionChange, World
from mockserver.surface import CodatSurface
from mockserver.ui import is_shell, ui_routes
from mockserver.webhooks import (
    CONNECTION_CREATED,
    CONNECTION_DELETED,
    WebhookHub,
    status_change_event,
)


class MockState:
    """The state one app owns: contract, seed data, clock, randomness, the world, the fault
    rules, the rate limiter and the request journal."""

    def __init__(
        self, settings: Settings, *, clock: Clock | None = None, spec: Spec | None = None
    ) -> None:
        self.settings = settings
        self.spec = spec or Spec.load(settings.spec_path)
        self.fixtures: Fixtures = load_fixtures(
            settings.fixtures, settings.fixtures_overlay, validate=self.spec.check
        )
        self.clock = clock or Clock()
        self.started_at: datetime = self.clock.now()
        self.world = self._new_world()
        self.faults = self._new_fault_book()
        self.rate_limiter = RateLimiter(settings.rate_limit, self.clock)
        # Webhooks draw from their own stream, so deliveries never shift the API's ids.
        self.webhooks = WebhookHub(self.clock, random.Random(f"{settings.seed}:webhooks"))
        self.startup_consumers = frozenset(
            self.webhooks.consumers.add(url).id for url in settings.webhook_urls
        )
        self.journal = Journal()

    def _new_world(self) -> World:
        # Correlation ids draw from their own stream so that error answers never shift the
        # sequence of resource ids a seeded run produces.
        self._correlation_rng = random.Random(f"{self.settings.seed}:correlation")
        return World(
            self.fixtures,
            clock=self.clock,
            rng=random.Random(self.settings.seed),
            sync_duration=self.settings.sync_duration,
            observer=self._connection_changed,
        )

    def _connection_changed(self, change: ConnectionChange) -> None:
        """A connection came, went or changed status: tell the webhook consumers."""
        if change.before is None:
            event: str | None = CONNECTION_CREATED
        elif change.after is None:
            event = CONNECTION_DELETED
        else:
            event = status_change_event(change.before, change.after)
        if event is not None:
            self.webhooks.emit_connection(
                event, change.company, change.connection, client_id=change.client_id
            )

    def reset(self) -> None:
        """Put every client's state back to the fixtures; the fault rules and rate limits back
        to the startup settings; the journal empty; webhook consumers other than the startup
        ones removed and pending deliveries dropped. The clock keeps its time."""
        self.world = self._new_world()
        self.faults = self._new_fault_book()
        self.rate_limiter.configure(self.settings.rate_limit, reset=True)
        self.journal.clear()
        self.webhooks.reset()
        for consumer in self.webhooks.consumers.all():
            if consumer.id not in self.startup_consumers:
                self.webhooks.remove_consumer(consumer.id)

    def _new_fault_book(self) -> FaultBook:
        """The startup rules (``--fault``, ``--faults``), with their ids from rule-1 on."""
        book = FaultBook(seed=self.settings.seed, operations=frozenset(self.spec.operations))
        book.add_all(list(self.settings.fault_rules))
        return book

    def correlation_id(self) -> str:
        """A fresh 32-hex-digit correlation id for an error body."""
        return f"{self._correlation_rng.getrandbits(128):032x}"


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    spec: Spec | None = None,
    on_request: Callable[[JournalEntry], None] | None = None,
) -> Starlette:
    """Build the mock: control API under ``/_mock``, the contract documents, the Codat API.

    ``on_request`` is called with each Codat exchange as the journal records it (the CLI's
    request log).
    """
    settings = settings or Settings()
    problem = exposure_problem(settings.host, settings.control_token)
    if problem is not None:
        raise ValueError(problem)
    state = MockState(settings, clock=clock, spec=spec)
    surface = CodatSurface(state, build_registry(state.spec))

    async def openapi_yaml(_: Request) -> Response:
        return Response(state.spec.yaml_text, media_type="application/yaml")

    async def openapi_json(_: Request) -> Response:
        return Response(state.spec.json_bytes, media_type="application/json")

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        state.webhooks.start()
        try:
            yield
        finally:
            # Joining the delivery thread may wait on one attempt in flight: not on the loop.
            await asyncio.to_thread(state.webhooks.stop)

    app = MockApp(
        lifespan=lifespan,
        routes=[
            Mount(
                "/_mock",
                routes=[*control_routes(state), *ui_routes(list(state.spec.operations))],
                middleware=[
                    Middleware(
                        ControlGuard,
                        token=settings.control_token,
                        allowed_host=settings.host,
                        respond=lambda err: error_response(err, state.correlation_id),
                        open_to_read=is_shell,
                    )
                ],
            ),
            Route("/openapi.yaml", openapi_yaml, methods=["GET"]),
            Route("/openapi.json", openapi_json, methods=["GET"]),
        ],
        # Outermost first: over-large headers and URLs are refused before anything reads
        # (or journals) them; the journal sees everything else the client saw (faults
        # included); faults come before rate limits, which come before the Codat surface.
        middleware=[
            Middleware(
                RequestBounds,
                max_header_bytes=MAX_HEADER_BYTES,
                max_url_bytes=MAX_URL_BYTES,
                respond=lambda err: error_response(err, state.correlation_id),
            ),
            Middleware(
                JournalMiddleware,
                journal_of=lambda: state.journal,
                clock_of=lambda: state.clock,
                skip_prefixes=("/_mock", "/openapi."),
                on_record=on_request,
            ),
            Middleware(
                FaultMiddleware,
                book_of=lambda: state.faults,
                router=surface.router,
                correlation_id=state.correlation_id,
            ),
            Middleware(RateLimitMiddleware, state=state),
        ],
    )
    # Everything else is the Codat surface: it routes from the contract and answers any path,
    # however odd, in Codat's error shape (a Mount would leave some to Starlette's text 404).
    app.router.default = surface
    app.state.mock = state
    return app


class MockApp(Starlette):
    """Starlette, plus one thing ASGI cannot express: the raw connection of each exchange,
    found before any middleware wraps ``send``, so that fault rules can drop it."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            connection = RawConnection.from_send(send)
            if connection is not None:
                scope[CONNECTION_KEY] = connection
        await super().__call__(scope, receive, send)
