"""The few lines ``codat-mock serve`` prints at startup: where it serves, and how it is set."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from pathlib import Path

from mockserver.settings import Settings


def state_file(settings: Settings) -> Path | None:
    """The state file the settings name, if this version of Settings has one."""
    for field in dataclasses.fields(settings):
        value = getattr(settings, field.name)
        if field.name.startswith("state") and isinstance(value, Path):
            return value
    return None


def banner(
    settings: Settings,
    url: str,
    *,
    version: str,
    request_log: str,
    dashboard: bool = False,
    more: Iterable[str] = (),
) -> str:
    """A few lines saying what the server serves and how it is configured."""
    overlay = str(settings.fixtures_overlay) if settings.fixtures_overlay else "none"
    rules = len(settings.fault_rules)
    limits = settings.rate_limit
    rate = (
        f"on (dailyBase {limits.daily_base}, perCompanyConcurrency "
        f"{limits.per_company_concurrency}, perIpPerMinute {limits.per_ip_per_minute})"
        if limits.enabled
        else "off"
    )
    state = state_file(settings)
    loaded = getattr(settings, "load", None)  # a snapshot to start from (--load), if any
    lines = [
        f"codat-mock {version}: Codat Sync for Commerce v1.1 at {url}",
        f"  seed {settings.seed}; strict {'on' if settings.strict else 'off'}; "
        f"fixtures overlay: {overlay}",
        f"  fault rules: {rules} active; rate limiting: {rate}",
        f"  state: {state if state is not None else 'in memory'}"
        + (f"; started from {loaded}" if isinstance(loaded, Path) else ""),
        f"  control API: {url}/_mock (its OpenAPI document: {url}/_mock/openapi.json)",
        f"  contract: {url}/openapi.yaml",
    ]
    if dashboard:
        lines.append(f"  dashboard: {url}/_mock/ui")
    lines.extend(f"  {line}" for line in more)
    lines.append(f"  request log: {request_log}")
    return "\n".join(lines) + "\n"


def has_route(routes: Iterable[object], path: str, prefix: str = "") -> bool:
    """Whether the app's routes (mounts followed) include ``path``, e.g. ``/_mock/ui``."""
    for route in routes:
        full = prefix + str(getattr(route, "path", ""))
        if full.rstrip("/") == path:
            return True
        inner = getattr(route, "routes", None)
        if inner and path.startswith(full) and has_route(inner, path, full):
            return True
    return False
