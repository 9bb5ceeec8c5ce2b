"""``create_app(settings) -> Starlette``: the app owns its :class:`Components`.

There is no module-level state: two apps in one process share nothing. Each layer is handed
the one component it uses; a reset puts every component back to its startup state in place
(as moto resets a backend), so nobody ever holds a stale one.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import random
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Lifespan, Receive, Scope, Send

from mockserver.clock import Clock
from mockserver.control import control_routes
from mockserver.control_guard import ControlGuard, exposure_problem
from mockserver.errors import BadRequest, SettingsError
from mockserver.faults import FaultBook, FaultMiddleware
from mockserver.faults.ratelimit import RateLimiter
from mockserver.faults.throttle import RateLimitMiddleware
from mockserver.fixtures import Fixtures, files_signature, load_fixtures
from mockserver.handlers import build_registry
from mockserver.http_errors import CorrelationIds, error_response
from mockserver.journal import Journal, JournalEntry, JournalMiddleware
from mockserver.persistence import Durable, DurableMiddleware, open_durable
from mockserver.persistence.snapshots import load_snapshot_file
from mockserver.render import ERROR_SCHEMA, WEBHOOK_SCHEMA, Shaper
from mockserver.request_bounds import RequestBounds
from mockserver.resolve import Resolver
from mockserver.routing import Router
from mockserver.settings import MAX_HEADER_BYTES, MAX_URL_BYTES, Settings
from mockserver.spec import Spec
from mockserver.store import World
from mockserver.store.changes import Changes
from mockserver.surface import CodatSurface
from mockserver.ui import is_shell, ui_routes
from mockserver.webhooks import WebhookHub, connection_events


@dataclass(frozen=True, slots=True)
class Components:
    """What one app owns, built once from its settings; :meth:`reset` works in place."""

    settings: Settings
    spec: Spec
    fixtures: Fixtures
    clock: Clock
    world: World
    faults: FaultBook
    rate_limiter: RateLimiter
    webhooks: WebhookHub
    journal: Journal
    correlation: CorrelationIds
    #: Puts answers into response shapes other than the default (``--responses``, rules).
    shaper: Shaper
    #: The webhook consumers registered at startup (``--webhook``): a reset keeps them.
    startup_consumers: frozenset[str]
    #: The state file behind ``--state``; ``None`` in memory.
    durable: Durable | None = None

    @classmethod
    def build(
        cls, settings: Settings, *, clock: Clock | None = None, spec: Spec | None = None
    ) -> Components:
        spec = spec or Spec.load(settings.spec_path)
        shaper = Shaper(spec)
        fixtures = _fixtures(spec, settings.fixtures, settings.fixtures_overlay)
        clock = clock or Clock()
        # Webhooks draw from their own stream, so deliveries never shift the API's ids.
        webhooks = WebhookHub(
            clock,
            random.Random(f"{settings.seed}:webhooks"),
            render=shaper.renderer(settings.responses, WEBHOOK_SCHEMA),
        )
        startup_consumers = frozenset(
            _startup_consumer(webhooks, url) for url in settings.webhook_urls
        )
        world = World(
            fixtures,
            clock=clock,
            rng=random.Random(settings.seed),
            sync_duration=settings.sync_duration,
            observer=connection_events(webhooks),
            # Change marks exist only for a durable copy: in memory, the store marks nothing.
            changes=Changes() if settings.state is not None else None,
        )
        faults = FaultBook(
            seed=settings.seed,
            operations=frozenset(spec.operations),
            startup=settings.fault_rules,
        )
        rate_limiter = RateLimiter(settings.rate_limit, clock)
        if settings.load is not None:
            load_snapshot_file(world, settings.load)
        durable = None
        if settings.state is not None:
            durable = open_durable(
                settings.state,
                new_only=settings.load is not None,
                world=world,
                clock=clock,
                faults=faults,
                rate_limiter=rate_limiter,
                webhooks=webhooks,
            )
        return cls(
            settings=settings,
            spec=spec,
            fixtures=fixtures,
            clock=clock,
            world=world,
            faults=faults,
            rate_limiter=rate_limiter,
            webhooks=webhooks,
            journal=Journal(),
            correlation=CorrelationIds(settings.seed),
            shaper=shaper,
            startup_consumers=startup_consumers,
            durable=durable,
        )

    def reset(self) -> None:
        """Put every client's state back to the fixtures; the fault rules and rate limits back
        to the startup settings; the journal empty; webhook consumers other than the startup
        ones removed and pending deliveries dropped. The clock keeps its time."""
        self.world.reset()
        self.correlation.reset()
        self.faults.reset()
        self.rate_limiter.configure(self.settings.rate_limit, reset=True)
        self.journal.clear()
        self.webhooks.reset()
        for consumer in self.webhooks.consumers.all():
            if consumer.id not in self.startup_consumers:
                self.webhooks.remove_consumer(consumer.id)


def _fixtures(spec: Spec, directory: Path | None, overlay: Path | None) -> Fixtures:
    """The seed data, checked against ``spec``: read once per version of the files (the
    store only ever copies out of it, so apps can share it)."""
    return _cached_fixtures(spec, directory, overlay, files_signature(directory, overlay))


@functools.lru_cache(maxsize=8)
def _cached_fixtures(
    spec: Spec, directory: Path | None, overlay: Path | None, _signature: tuple[object, ...]
) -> Fixtures:
    # Seed data enters in the default response shape, so answers built from it are too.
    return Shaper(spec).settle(load_fixtures(directory, overlay, validate=spec.check))


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    spec: Spec | None = None,
    on_request: Callable[[JournalEntry], None] | None = None,
    on_reset: Callable[[], None] | None = None,
) -> Starlette:
    """Build the mock: control API under ``/_mock``, the contract documents, the Codat API.

    ``on_request`` is called with each Codat exchange as the journal records it (the CLI's
    request log); ``on_reset`` after each reset of the whole mock (``serve`` audits the
    garbage collector's frozen heap then).
    """
    settings = settings or Settings()
    problem = exposure_problem(settings.host, settings.control_token)
    if problem is not None:
        raise SettingsError(problem)
    parts = Components.build(settings, clock=clock, spec=spec)
    resolver = Resolver(Router(parts.spec.operations.values()))
    surface = CodatSurface(
        spec=parts.spec,
        registry=build_registry(parts.spec),
        world=parts.world,
        resolver=resolver,
        correlation=parts.correlation,
        strict=parts.settings.strict,
        max_body_bytes=parts.settings.max_body_bytes,
        shaper=parts.shaper,
        shape=parts.settings.responses,
    )
    # Errors answered before the surface (fault rules, rate limits) in the server's shape.
    render_error = parts.shaper.renderer(parts.settings.responses, ERROR_SCHEMA)

    async def openapi_yaml(_: Request) -> Response:
        return Response(parts.spec.yaml_text, media_type="application/yaml")

    async def openapi_json(_: Request) -> Response:
        return Response(parts.spec.json_bytes, media_type="application/json")

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        parts.webhooks.start()
        try:
            yield
        finally:
            # Joining the delivery thread may wait on one attempt in flight: not on the loop.
            await asyncio.to_thread(parts.webhooks.stop)
            if parts.durable is not None:
                parts.durable.flush_quietly()  # a failure is logged; the file is closed anyway
                parts.durable.file.close()

    app = MockApp(
        resolver,
        bounds=functools.partial(
            RequestBounds,
            max_header_bytes=MAX_HEADER_BYTES,
            max_url_bytes=MAX_URL_BYTES,
            respond=lambda err: error_response(err, parts.correlation()),
        ),
        lifespan=lifespan,
        routes=[
            Mount(
                "/_mock",
                routes=[
                    *control_routes(
                        clock=parts.clock,
                        world=parts.world,
                        faults=parts.faults,
                        journal=parts.journal,
                        rate_limiter=parts.rate_limiter,
                        webhooks=parts.webhooks,
                        correlation_id=parts.correlation,
                        reset=parts.reset if on_reset is None else _then(parts.reset, on_reset),
                    ),
                    *ui_routes(list(parts.spec.operations)),
                ],
                middleware=[
                    Middleware(
                        ControlGuard,
                        token=settings.control_token,
                        allowed_host=settings.host,
                        respond=lambda err: error_response(err, parts.correlation()),
                        open_to_read=is_shell,
                    )
                ],
            ),
            Route("/openapi.yaml", openapi_yaml, methods=["GET"]),
            Route("/openapi.json", openapi_json, methods=["GET"]),
        ],
        # Behind the front layer (MockApp bounds every request, then resolves each Codat
        # request once), outermost first: the journal sees everything the client saw (faults
        # included); faults come before rate limits, which come before the Codat surface.
        # Each layer passes by what is not a Codat request.
        middleware=[
            *_durable_layer(parts),
            Middleware(
                JournalMiddleware,
                journal=parts.journal,
                clock=parts.clock,
                on_record=on_request,
            ),
            Middleware(
                FaultMiddleware,
                book=parts.faults,
                correlation_id=parts.correlation,
                render_error=render_error,
            ),
            Middleware(
                RateLimitMiddleware,
                limiter=parts.rate_limiter,
                world=parts.world,
                correlation_id=parts.correlation,
                render_error=render_error,
            ),
        ],
    )
    # Everything else is the Codat surface: it routes from the contract and answers any path,
    # however odd, in Codat's error shape (a Mount would leave some to Starlette's text 404).
    app.router.default = surface
    app.state.mock = parts
    return app


class MockApp(Starlette):
    """Starlette behind the front layer: ``bounds`` refuses over-large headers and URLs
    first, so nothing else reads them (the control API's included); then each Codat request
    is resolved once (headers, operation, caller) before any middleware runs, together with
    the one thing ASGI cannot express: the raw connection, found before any middleware wraps
    ``send``, so that fault rules can drop it."""

    def __init__(
        self,
        resolver: Resolver,
        *,
        bounds: Callable[[ASGIApp], ASGIApp],
        routes: Sequence[BaseRoute],
        middleware: Sequence[Middleware],
        lifespan: Lifespan[Starlette],
    ) -> None:
        super().__init__(routes=routes, middleware=middleware, lifespan=lifespan)
        self.resolver = resolver
        self.codat_stack: ASGIApp = self.router.default
        self.front = bounds(self._within_bounds)

    def build_middleware_stack(self) -> ASGIApp:
        # A Codat request never matches a route (those are /_mock and /openapi.*): it always
        # reaches the router's default, the surface, which answers every error itself. Its
        # stack is the same layers around the surface directly, without Starlette's error
        # and exception layers and route matching, which would only cost it time: a bug in
        # a layer still gets a plain 500 (and a logged traceback) from the server itself.
        codat: ASGIApp = self.router.default
        for cls, args, kwargs in reversed(self.user_middleware):
            codat = cls(codat, *args, **kwargs)
        self.codat_stack = codat
        return super().build_middleware_stack()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.front(scope, receive, send)

    async def _within_bounds(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.resolver.is_codat(scope):
            await super().__call__(scope, receive, send)
            return
        exchange = self.resolver.resolve(scope, send)
        scope["app"] = self
        if self.middleware_stack is None:
            self.middleware_stack = self.build_middleware_stack()
        try:
            await self.codat_stack(scope, receive, send)
        finally:
            # The raw connection holds the server's request cycle, which holds this scope:
            # break that cycle, so that the request's objects go by reference counting, not
            # at the garbage collector's next pass (mockserver/collector.py says why).
            exchange.connection = None


def _durable_layer(parts: Components) -> list[Middleware]:
    """With ``--state``, the outermost layer: every change is in the file before its answer
    leaves (the control API's included). In memory, nothing at all."""
    if parts.durable is None:
        return []
    return [Middleware(DurableMiddleware, durable=parts.durable, correlation_id=parts.correlation)]


def _then(first: Callable[[], None], then: Callable[[], None]) -> Callable[[], None]:
    def both() -> None:
        first()
        then()

    return both


def _startup_consumer(webhooks: WebhookHub, url: str) -> str:
    """Register a ``--webhook`` consumer; a refused URL stops startup, saying why."""
    try:
        return webhooks.consumers.add(url).id
    except BadRequest as err:
        reasons = "; ".join(item.message for item in err.validation) or err.message
        raise SettingsError(f"--webhook {url}: {reasons}") from None
