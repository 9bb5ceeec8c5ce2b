"""``create_app(settings) -> Starlette``: the app owns everything on ``app.state.mock``.

There is no module-level state: two apps in one process share nothing, and a reset rebuilds
the world from the fixtures with the same seed, so a run can be replayed exactly.
"""

from __future__ import annotations

import random
from datetime import datetime

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from mockserver.clock import Clock
from mockserver.control import control_routes
from mockserver.fixtures import Fixtures, load_fixtures
from mockserver.handlers import build_registry
from mockserver.settings import Settings
from mockserver.spec import Spec
from mockserver.store import World
from mockserver.surface import CodatSurface


class MockState:
    """The state one app owns: contract, seed data, clock, randomness and the world."""

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

    def _new_world(self) -> World:
        # Correlation ids draw from their own stream so that error answers never shift the
        # sequence of resource ids a seeded run produces.
        self._correlation_rng = random.Random(f"{self.settings.seed}:correlation")
        return World(
            self.fixtures,
            clock=self.clock,
            rng=random.Random(self.settings.seed),
            sync_duration=self.settings.sync_duration,
        )

    def reset(self) -> None:
        """Put every client's state back to the fixtures (the clock keeps its time)."""
        self.world = self._new_world()

    def correlation_id(self) -> str:
        """A fresh 32-hex-digit correlation id for an error body."""
        return f"{self._correlation_rng.getrandbits(128):032x}"


def create_app(
    settings: Settings | None = None, *, clock: Clock | None = None, spec: Spec | None = None
) -> Starlette:
    """Build the mock: control API under ``/_mock``, the contract documents, the Codat API."""
    state = MockState(settings or Settings(), clock=clock, spec=spec)
    surface = CodatSurface(state, build_registry(state.spec))

    async def openapi_yaml(_: Request) -> Response:
        return Response(state.spec.yaml_text, media_type="application/yaml")

    async def openapi_json(_: Request) -> Response:
        return Response(state.spec.json_bytes, media_type="application/json")

    app = Starlette(
        routes=[
            Mount("/_mock", routes=control_routes(state)),
            Route("/openapi.yaml", openapi_yaml, methods=["GET"]),
            Route("/openapi.json", openapi_json, methods=["GET"]),
            Mount("", app=surface),
        ]
    )
    app.state.mock = state
    return app
