"""Rate-limit emulation: Codat's daily quota, per-company concurrency and per-IP ceiling.

Codat's published model (``docs.codat.io/using-the-api/rate-limits``):

* a client may make ``1,000 x (1 + active connected companies)`` requests a day, and the
  quota resets at 00:00 UTC;
* a client may have 10 requests in flight per active connected company;
* one IP address may make at most 1,000 requests a minute (the DoS ceiling);
* every response carries ``X-Rate-Limit-Limit`` (the quota for the current period),
  ``X-Rate-Limit-Remaining`` (what is left of it) and ``X-Rate-Limit-Reset`` (when the quota
  resets); a request past a limit gets a 429 with ``Retry-After``.

The mock follows that model with every number configurable, so a test reaches a limit in a
handful of calls. Choices the documentation leaves open, fixed here:

* The daily window is the fixed UTC calendar day of the mock clock (Codat resets at midnight
  UTC, not on a rolling 24 hours). ``X-Rate-Limit-Reset`` is the next midnight as a Codat
  date-time (``2026-03-03T00:00:00Z``), since the docs call it the date the quota resets.
* The quota is computed from the active-company count the caller passes with each request,
  so linking a company raises the quota at once rather than at the next reset.
* With no active company a client still gets one company's worth of concurrency
  (``per_company_concurrency``): otherwise a new client could never make its first call.
* The per-IP window slides: a request is admitted when fewer than ``per_ip_per_minute``
  admitted requests from that IP fall within the last 60 seconds. ``Retry-After`` is the
  time until the oldest of them leaves the window.
* Concurrency has no window; its ``Retry-After`` is 1 second, the shortest honest hint.
* Only admitted requests count. A 429 uses no quota, no IP allowance and no slot.
* Unauthenticated requests (no client) count only against the per-IP limit and carry no
  ``X-Rate-Limit-*`` headers, as there is no client quota to describe.
* Limits are checked per-IP first (the edge turns floods away before anything else), then
  the daily quota, then concurrency; the first one exceeded is the reason given.

Every window is measured on the injected :class:`~mockserver.clock.Clock`, so tests advance
the clock instead of sleeping.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from mockserver.clock import UTC, Clock, isoformat
from mockserver.errors import CodatMockError, TooManyRequests

LIMIT_HEADER = "X-Rate-Limit-Limit"
REMAINING_HEADER = "X-Rate-Limit-Remaining"
RESET_HEADER = "X-Rate-Limit-Reset"
RETRY_AFTER_HEADER = "Retry-After"

REASON_DAILY = "daily quota"
REASON_CONCURRENCY = "concurrency"
REASON_PER_IP = "per-IP"
REASONS = (REASON_PER_IP, REASON_DAILY, REASON_CONCURRENCY)

IP_WINDOW = timedelta(seconds=60)
# Concurrency frees up when some other request finishes, which cannot be predicted; one second
# is the smallest whole-second hint Retry-After can carry.
CONCURRENCY_RETRY_AFTER = 1
# Past this many tracked IPs, idle ones are swept so a scan of many addresses stays bounded.
_IP_SWEEP_THRESHOLD = 1024

# Python field name -> JSON key, in the order the JSON shows them.
_JSON_KEYS = {
    "enabled": "enabled",
    "daily_base": "dailyBase",
    "per_company_concurrency": "perCompanyConcurrency",
    "per_ip_per_minute": "perIpPerMinute",
}


class RateLimitConfigError(CodatMockError, ValueError):
    """A rate-limit configuration that cannot be used; the message names the field."""


@dataclass(slots=True, frozen=True)
class RateLimitConfig:
    """The emulated limits. Off by default; Codat's real numbers when switched on.

    JSON form (camelCase): ``{"enabled", "dailyBase", "perCompanyConcurrency",
    "perIpPerMinute"}``.
    """

    enabled: bool = False
    # The daily quota is daily_base * (1 + active connected companies).
    daily_base: int = 1000
    # Requests in flight per active company (one company's worth when there is none).
    per_company_concurrency: int = 10
    # Admitted requests per IP address within any 60 seconds.
    per_ip_per_minute: int = 1000

    def __post_init__(self) -> None:
        if not isinstance(self.enabled, bool):
            raise RateLimitConfigError("enabled: must be true or false")
        for name in ("daily_base", "per_company_concurrency", "per_ip_per_minute"):
            value = getattr(self, name)
            # bool is an int subclass; `dailyBase: true` is a mistake, not 1.
            if isinstance(value, bool) or not isinstance(value, int):
                raise RateLimitConfigError(f"{_JSON_KEYS[name]}: must be an integer")
            if value < 1:
                raise RateLimitConfigError(f"{_JSON_KEYS[name]}: must be at least 1")

    def daily_quota(self, active_companies: int) -> int:
        """Requests a client may make per UTC day with ``active_companies`` linked companies."""
        return self.daily_base * (1 + max(0, active_companies))

    def concurrency_limit(self, active_companies: int) -> int:
        """Requests a client may have in flight at once."""
        return self.per_company_concurrency * max(1, active_companies)

    def to_json(self) -> dict[str, Any]:
        """The configuration with camelCase keys."""
        return {key: getattr(self, name) for name, key in _JSON_KEYS.items()}

    @classmethod
    def from_json(cls, data: Any, *, base: RateLimitConfig | None = None) -> RateLimitConfig:
        """A configuration from camelCase JSON; keys left out keep ``base``'s values.

        ``base`` defaults to the built-in defaults, so ``{"enabled": true}`` means Codat's
        real numbers. Unknown keys and wrong types raise :class:`RateLimitConfigError`.
        """
        if not isinstance(data, Mapping):
            raise RateLimitConfigError("a rate-limit configuration is a JSON object")
        by_key = {key: name for name, key in _JSON_KEYS.items()}
        unknown = sorted(str(key) for key in data if key not in by_key)
        if unknown:
            raise RateLimitConfigError(
                f"unknown key(s) {', '.join(unknown)}; expected {', '.join(by_key)}"
            )
        changes = {by_key[key]: value for key, value in data.items()}
        return replace(base if base is not None else cls(), **changes)


def parse_rate_limit_string(text: str) -> RateLimitConfig:
    """An enabled configuration from the CLI form ``key=value,...`` (empty: the defaults).

    Keys are the JSON ones, e.g. ``dailyBase=2,perCompanyConcurrency=1,perIpPerMinute=5``;
    ``enabled=false`` switches the emulation off.
    """
    data: dict[str, Any] = {"enabled": True}
    for pair in (p.strip() for p in text.split(",")):
        if not pair:
            continue
        key, sep, value = (part.strip() for part in pair.partition("="))
        if not sep or not key:
            raise RateLimitConfigError(f"{text!r}: expected key=value, got {pair!r}")
        if key == "enabled":
            if value.lower() not in ("true", "false"):
                raise RateLimitConfigError(f"{text!r}: enabled must be true or false")
            data[key] = value.lower() == "true"
            continue
        try:
            data[key] = int(value)
        except ValueError:
            raise RateLimitConfigError(f"{text!r}: {key} must be an integer") from None
    try:
        return RateLimitConfig.from_json(data)
    except RateLimitConfigError as exc:
        raise RateLimitConfigError(f"{text!r}: {exc}") from None


@dataclass(slots=True, frozen=True)
class Admission:
    """The limiter's answer for one request.

    ``headers`` holds everything to add to the response: the ``X-Rate-Limit-*`` trio for an
    authenticated client while the emulation is on, plus ``Retry-After`` on a refusal.
    Pass the admission back to :meth:`RateLimiter.release` when the response is done.
    """

    allowed: bool
    headers: dict[str, str] = field(default_factory=dict)
    retry_after: int | None = None
    reason: str | None = None
    client_id: str | None = None
    # The concurrency slot this request holds, if it took one.
    slot: int | None = None

    def error(self) -> TooManyRequests:
        """The 429 to answer a refused request with, its headers attached."""
        if self.allowed:
            raise ValueError("an admitted request has no rate-limit error")
        return TooManyRequests(headers=dict(self.headers))


@dataclass(slots=True)
class _ClientUsage:
    """One client's counters: the current UTC day and what it has used of it."""

    day: date
    used: int = 0
    active_companies: int = 0
    in_flight: set[int] = field(default_factory=set)
    rejected: dict[str, int] = field(default_factory=lambda: dict.fromkeys(REASONS, 0))

    def roll_to(self, today: date) -> None:
        # Any change of day (including a clock set backwards) opens a fresh window.
        if self.day != today:
            self.day = today
            self.used = 0


@dataclass(slots=True)
class _IpWindow:
    """The instants of an IP's admitted requests in the last minute, oldest first."""

    admitted: deque[datetime] = field(default_factory=deque)
    rejected: int = 0

    def prune(self, now: datetime) -> None:
        start = now - IP_WINDOW
        while self.admitted and self.admitted[0] <= start:
            self.admitted.popleft()
        # A clock set backwards leaves instants in its future: they belong to no window now.
        while self.admitted and self.admitted[-1] > now:
            self.admitted.pop()


class RateLimiter:
    """Counts requests against the configured limits, on the mock clock. Thread-safe."""

    def __init__(self, config: RateLimitConfig, clock: Clock) -> None:
        self._config = config
        self._clock = clock
        self._lock = threading.Lock()
        self._clients: dict[str, _ClientUsage] = {}
        self._ips: dict[str, _IpWindow] = {}
        self._next_slot = 0

    @property
    def config(self) -> RateLimitConfig:
        """The limits in force."""
        with self._lock:
            return self._config

    def configure(self, config: RateLimitConfig, *, reset: bool = False) -> None:
        """Apply new limits. Counters are kept unless ``reset``, so usage so far is measured
        against the new numbers (tightening a limit mid-test bites at once)."""
        with self._lock:
            self._config = config
            if reset:
                self._forget_counts()

    def reset(self) -> None:
        """Forget every count and window. Requests still in flight keep their slots, since
        their :meth:`release` is still to come."""
        with self._lock:
            self._forget_counts()

    def admit(self, *, client_id: str | None, ip: str | None, active_companies: int) -> Admission:
        """Decide one request. Admitted requests are counted against the daily quota and the
        IP's minute, and take a concurrency slot (free it with :meth:`release`)."""
        with self._lock:
            config = self._config
            if not config.enabled:
                return Admission(allowed=True)
            now = self._clock.now()
            usage = self._usage(client_id, now, active_companies) if client_id else None
            window = self._ip_window(ip, now) if ip else None

            refusal = self._refusal(config, now, usage, window)
            if refusal is not None:
                reason, retry_after = refusal
                if usage is not None:
                    usage.rejected[reason] += 1
                if window is not None and reason == REASON_PER_IP:
                    window.rejected += 1
                headers = self._quota_headers(config, now, usage)
                headers[RETRY_AFTER_HEADER] = str(retry_after)
                return Admission(
                    allowed=False,
                    headers=headers,
                    retry_after=retry_after,
                    reason=reason,
                    client_id=client_id,
                )

            slot: int | None = None
            if window is not None:
                window.admitted.append(now)
            if usage is not None:
                usage.used += 1
                self._next_slot += 1
                slot = self._next_slot
                usage.in_flight.add(slot)
            return Admission(
                allowed=True,
                headers=self._quota_headers(config, now, usage),
                client_id=client_id,
                slot=slot,
            )

    def release(self, admission: Admission) -> None:
        """Free the concurrency slot ``admission`` holds. Safe to call twice, or for a refused
        or unlimited admission (both hold no slot)."""
        if admission.slot is None or admission.client_id is None:
            return
        with self._lock:
            usage = self._clients.get(admission.client_id)
            if usage is not None:
                usage.in_flight.discard(admission.slot)

    def status(self, client_id: str | None = None) -> dict[str, Any]:
        """Counts and windows for the control API: one client's, or every client's (``None``).

        The quota shown uses the active-company count of the client's latest request.
        """
        with self._lock:
            config = self._config
            now = self._clock.now()
            if client_id is None:
                chosen = dict(self._clients)
            else:
                known = self._clients.get(client_id)
                chosen = {client_id: known} if known is not None else {}
            clients = {cid: self._client_status(config, now, u) for cid, u in chosen.items()}
            if client_id is not None and client_id not in clients:
                fresh = _ClientUsage(day=now.date())
                clients[client_id] = self._client_status(config, now, fresh)
            ips: dict[str, Any] = {}
            for ip, window in self._ips.items():
                window.prune(now)
                ips[ip] = {
                    "inWindow": len(window.admitted),
                    "limit": config.per_ip_per_minute,
                    "windowSeconds": int(IP_WINDOW.total_seconds()),
                    "rejected": window.rejected,
                }
            return {
                "enabled": config.enabled,
                "config": config.to_json(),
                "now": isoformat(now),
                "clients": clients,
                "ips": ips,
            }

    # -- internals (called with the lock held) --------------------------------------------

    def _forget_counts(self) -> None:
        in_flight = {cid: u.in_flight for cid, u in self._clients.items() if u.in_flight}
        today = self._clock.now().date()
        self._clients = {cid: _ClientUsage(day=today, in_flight=s) for cid, s in in_flight.items()}
        self._ips = {}

    def _usage(self, client_id: str, now: datetime, active_companies: int) -> _ClientUsage:
        usage = self._clients.get(client_id)
        if usage is None:
            usage = self._clients[client_id] = _ClientUsage(day=now.date())
        usage.roll_to(now.date())
        usage.active_companies = max(0, active_companies)
        return usage

    def _ip_window(self, ip: str, now: datetime) -> _IpWindow:
        if ip not in self._ips and len(self._ips) >= _IP_SWEEP_THRESHOLD:
            self._sweep_ips(now)
        window = self._ips.get(ip)
        if window is None:
            window = self._ips[ip] = _IpWindow()
        window.prune(now)
        return window

    def _sweep_ips(self, now: datetime) -> None:
        for ip in list(self._ips):
            window = self._ips[ip]
            window.prune(now)
            if not window.admitted:
                del self._ips[ip]

    def _refusal(
        self,
        config: RateLimitConfig,
        now: datetime,
        usage: _ClientUsage | None,
        window: _IpWindow | None,
    ) -> tuple[str, int] | None:
        """The first limit this request would break, with its Retry-After; None if none."""
        if window is not None and len(window.admitted) >= config.per_ip_per_minute:
            # The window frees up when its oldest admitted request is a minute old.
            frees_at = window.admitted[0] + IP_WINDOW
            return REASON_PER_IP, _whole_seconds(frees_at - now)
        if usage is None:
            return None
        if usage.used >= config.daily_quota(usage.active_companies):
            return REASON_DAILY, _whole_seconds(_next_midnight(now) - now)
        if len(usage.in_flight) >= config.concurrency_limit(usage.active_companies):
            return REASON_CONCURRENCY, CONCURRENCY_RETRY_AFTER
        return None

    @staticmethod
    def _quota_headers(
        config: RateLimitConfig, now: datetime, usage: _ClientUsage | None
    ) -> dict[str, str]:
        if usage is None:
            return {}
        quota = config.daily_quota(usage.active_companies)
        return {
            LIMIT_HEADER: str(quota),
            REMAINING_HEADER: str(max(0, quota - usage.used)),
            RESET_HEADER: isoformat(_next_midnight(now)),
        }

    @staticmethod
    def _client_status(
        config: RateLimitConfig, now: datetime, usage: _ClientUsage
    ) -> dict[str, Any]:
        usage.roll_to(now.date())
        quota = config.daily_quota(usage.active_companies)
        return {
            "day": usage.day.isoformat(),
            "activeCompanies": usage.active_companies,
            "dailyQuota": quota,
            "used": usage.used,
            "remaining": max(0, quota - usage.used),
            "resetsAt": isoformat(_next_midnight(now)),
            "inFlight": len(usage.in_flight),
            "concurrencyLimit": config.concurrency_limit(usage.active_companies),
            "rejected": dict(usage.rejected),
        }


def _next_midnight(now: datetime) -> datetime:
    """The next 00:00 UTC strictly after ``now``: when the daily quota resets."""
    day = now.astimezone(UTC).date() + timedelta(days=1)
    return datetime.combine(day, time(0), tzinfo=UTC)


def _whole_seconds(delta: timedelta) -> int:
    """A wait as Retry-After states it: whole seconds, rounded up, at least 1."""
    return max(1, math.ceil(delta.total_seconds()))
