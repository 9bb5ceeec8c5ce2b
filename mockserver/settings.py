"""How one mock server is configured (from the CLI, the Python API or the pytest plugin)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mockserver.faults.ratelimit import RateLimitConfig
from mockserver.faults.rules import FaultRule
from mockserver.render import DEFAULT_SHAPE, ShapeName

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4010
#: Codat request bodies; more is a 413.
MAX_BODY_BYTES = 1024 * 1024
#: Control API (``/_mock``) bodies, and the one larger kind, snapshots (``PUT /_mock/state``).
MAX_CONTROL_BODY_BYTES = 1024 * 1024
MAX_SNAPSHOT_BYTES = 32 * 1024 * 1024
#: A request's headers, every name and value together; more is a 431.
MAX_HEADER_BYTES = 32 * 1024
#: A request's path and query string together; more is a 414.
MAX_URL_BYTES = 16 * 1024


@dataclass(slots=True)
class Settings:
    """Everything that shapes one app. Defaults give the server ``codat-mock serve`` starts."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    #: The seed data folder; ``None`` means the project's own ``fixtures/``.
    fixtures: Path | None = None
    #: A user's folder whose files overlay the seed data.
    fixtures_overlay: Path | None = None
    #: The contract; ``None`` means the project's own ``openapi.yaml``.
    spec_path: Path | None = None
    #: Seeds every random choice (ids, OTPs), so a run can be replayed exactly.
    seed: int = 0
    #: Validate every response against the contract; a violation becomes a loud 500.
    strict: bool = False
    #: How answers are shaped where the contract leaves a choice: ``codat`` (as Codat sends
    #: them), ``nulls`` (explicit nulls) or ``extra`` (unnamed additional properties).
    responses: ShapeName = DEFAULT_SHAPE
    #: Seconds a requested sync stays in progress on the mock clock before it completes.
    sync_duration: float = 30.0
    #: Requests with a larger body are refused with 413.
    max_body_bytes: int = MAX_BODY_BYTES
    #: Fault rules in force from startup (and again after each reset).
    fault_rules: list[FaultRule] = field(default_factory=list)
    #: Webhook consumers registered at startup (``--webhook``), kept across resets.
    webhook_urls: list[str] = field(default_factory=list)
    #: Rate-limit emulation (off unless enabled).
    rate_limit: RateLimitConfig = field(default_factory=RateLimitConfig)
    #: With a token, every /_mock route but /_mock/health needs it in X-Codat-Mock-Token;
    #: without one, only loopback host names reach the control API.
    control_token: str | None = field(default=None, repr=False)
    #: The SQLite file the state is kept in (``--state``); ``None`` keeps it in memory only.
    state: Path | None = None
    #: A ``GET /_mock/state`` snapshot to start from (``--load``).
    load: Path | None = None
