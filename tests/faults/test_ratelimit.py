from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver.clock import Clock
from mockserver.errors import TooManyRequests
from mockserver.faults.ratelimit import (
    Admission,
    RateLimitConfig,
    RateLimitConfigError,
    RateLimiter,
    parse_rate_limit_string,
)

# 09:00 UTC, so the daily window resets 15 hours (54,000 s) later.
T0 = datetime(2026, 3, 2, 9, 0, 0, tzinfo=timezone.utc)
TO_MIDNIGHT = 15 * 3600
NEXT_RESET = "2026-03-03T00:00:00Z"
CLIENT = "client-a"
IP = "10.0.0.1"


@pytest.fixture
def clock() -> Clock:
    return Clock(frozen_at=T0)


def limiter(clock: Clock, **limits: int) -> RateLimiter:
    return RateLimiter(RateLimitConfig(enabled=True, **limits), clock)


def call(
    rl: RateLimiter,
    *,
    client_id: str | None = CLIENT,
    ip: str | None = IP,
    active: int = 0,
) -> Admission:
    return rl.admit(client_id=client_id, ip=ip, active_companies=active)


def quota_headers(admission: Admission) -> tuple[str, str, str]:
    h = admission.headers
    return h["X-Rate-Limit-Limit"], h["X-Rate-Limit-Remaining"], h["X-Rate-Limit-Reset"]


# -- daily quota ---------------------------------------------------------------------------


def test_daily_quota_without_active_companies_is_the_base(clock: Clock) -> None:
    rl = limiter(clock, daily_base=2)
    first, second = call(rl), call(rl)
    assert first.allowed and second.allowed
    assert quota_headers(first) == ("2", "1", NEXT_RESET)
    assert quota_headers(second) == ("2", "0", NEXT_RESET)
    assert "Retry-After" not in second.headers

    third = call(rl)
    assert not third.allowed
    assert third.reason == "daily quota"
    assert third.retry_after == TO_MIDNIGHT
    assert third.headers["Retry-After"] == str(TO_MIDNIGHT)
    assert quota_headers(third) == ("2", "0", NEXT_RESET)


def test_each_active_company_adds_a_base_to_the_quota(clock: Clock) -> None:
    rl = limiter(clock, daily_base=2)
    remaining = [call(rl, active=1).headers["X-Rate-Limit-Remaining"] for _ in range(4)]
    assert remaining == ["3", "2", "1", "0"]
    assert call(rl, active=1).reason == "daily quota"
    assert call(rl, active=1).headers["X-Rate-Limit-Limit"] == "4"


def test_linking_a_company_raises_the_quota_at_once(clock: Clock) -> None:
    rl = limiter(clock, daily_base=2)
    call(rl)
    call(rl)
    assert not call(rl).allowed
    linked = call(rl, active=1)
    assert linked.allowed
    assert quota_headers(linked) == ("4", "1", NEXT_RESET)


def test_losing_companies_shrinks_the_quota(clock: Clock) -> None:
    rl = limiter(clock, daily_base=2)
    for _ in range(3):
        call(rl, active=1)
    shrunk = call(rl, active=0)
    assert shrunk.reason == "daily quota"
    assert quota_headers(shrunk) == ("2", "0", NEXT_RESET)  # 3 used of 2: none left


def test_refused_requests_use_no_quota(clock: Clock) -> None:
    rl = limiter(clock, daily_base=1)
    call(rl)
    for _ in range(5):
        assert not call(rl).allowed
    status = rl.status(CLIENT)
    assert status["clients"][CLIENT]["used"] == 1
    assert status["clients"][CLIENT]["rejected"]["daily quota"] == 5
    # the IP neither spent its allowance nor refused anything itself
    assert status["ips"][IP]["inWindow"] == 1
    assert status["ips"][IP]["rejected"] == 0


def test_daily_quota_resets_at_midnight_utc(clock: Clock) -> None:
    rl = limiter(clock, daily_base=1)
    call(rl)
    clock.advance(TO_MIDNIGHT - 2)
    late = call(rl)
    assert (late.reason, late.retry_after) == ("daily quota", 2)

    clock.advance(0.5)  # 1.5 s to go: Retry-After rounds up to 2
    assert call(rl).retry_after == 2
    clock.advance(1)  # 0.5 s to go: still a whole second
    assert call(rl).retry_after == 1

    clock.advance(0.5)
    fresh = call(rl)
    assert fresh.allowed
    assert quota_headers(fresh) == ("1", "0", "2026-03-04T00:00:00Z")


def test_clients_have_separate_quotas(clock: Clock) -> None:
    rl = limiter(clock, daily_base=1)
    assert call(rl, client_id="a").allowed
    assert not call(rl, client_id="a").allowed
    other = call(rl, client_id="b")
    assert other.allowed
    assert other.headers["X-Rate-Limit-Remaining"] == "0"


# -- concurrency ---------------------------------------------------------------------------


def test_concurrency_without_active_companies_allows_one_companys_worth(clock: Clock) -> None:
    rl = limiter(clock, per_company_concurrency=2)
    held = [call(rl), call(rl)]
    assert all(a.allowed for a in held)
    blocked = call(rl)
    assert (blocked.allowed, blocked.reason, blocked.retry_after) == (False, "concurrency", 1)
    assert blocked.headers["Retry-After"] == "1"
    # the quota headers still describe the day
    assert blocked.headers["X-Rate-Limit-Remaining"] == "998"

    rl.release(held[0])
    assert call(rl).allowed


def test_concurrency_scales_with_active_companies(clock: Clock) -> None:
    rl = limiter(clock, per_company_concurrency=2)
    held = [call(rl, active=2) for _ in range(4)]
    assert all(a.allowed for a in held)
    assert call(rl, active=2).reason == "concurrency"
    assert rl.status(CLIENT)["clients"][CLIENT]["inFlight"] == 4


def test_release_is_idempotent_and_ignores_slotless_admissions(clock: Clock) -> None:
    rl = limiter(clock, per_company_concurrency=2)
    first, _second = call(rl), call(rl)
    refused = call(rl)
    rl.release(first)
    rl.release(first)
    rl.release(refused)
    rl.release(Admission(allowed=True))
    assert call(rl).allowed  # the slot first held
    assert call(rl).reason == "concurrency"  # releasing twice freed nothing more


def test_concurrency_is_per_client(clock: Clock) -> None:
    rl = limiter(clock, per_company_concurrency=1)
    assert call(rl, client_id="a").allowed
    assert call(rl, client_id="a").reason == "concurrency"
    assert call(rl, client_id="b").allowed


# -- per IP --------------------------------------------------------------------------------


def test_per_ip_window_slides_and_retry_after_counts_to_the_oldest(clock: Clock) -> None:
    rl = limiter(clock, per_ip_per_minute=3)
    for _ in range(3):
        rl.release(call(rl))
        clock.advance(10)
    # admitted at +0, +10, +20; now +30: the first leaves the window at +60
    blocked = call(rl)
    assert (blocked.reason, blocked.retry_after) == ("per-IP", 30)
    assert blocked.headers["Retry-After"] == "30"
    # a per-IP refusal uses no quota: remaining is still 1000 - 3
    assert blocked.headers["X-Rate-Limit-Remaining"] == "997"

    clock.advance(29)
    assert call(rl).retry_after == 1
    clock.advance(1)
    assert call(rl).allowed  # +60: the request from +0 has left the window
    blocked = call(rl)
    assert (blocked.reason, blocked.retry_after) == ("per-IP", 10)


def test_per_ip_limit_counts_every_client_and_anonymous_callers(clock: Clock) -> None:
    rl = limiter(clock, per_ip_per_minute=3)
    assert call(rl, client_id="a").allowed
    assert call(rl, client_id="b").allowed
    assert call(rl, client_id=None).allowed
    assert call(rl, client_id="c").reason == "per-IP"
    assert call(rl, client_id="c", ip="10.0.0.2").allowed
    assert call(rl, client_id="c", ip=None).allowed  # no address known: no IP limit


def test_idle_addresses_are_swept_when_many_are_tracked(clock: Clock) -> None:
    rl = limiter(clock)
    for n in range(1024):
        call(rl, client_id=None, ip=f"10.1.{n // 256}.{n % 256}")
    clock.advance(30)
    call(rl, client_id=None, ip="10.9.9.9")
    assert len(rl.status()["ips"]) == 1025  # all still inside their minute
    clock.advance(31)
    call(rl, client_id=None, ip="10.9.9.8")
    assert set(rl.status()["ips"]) == {"10.9.9.9", "10.9.9.8"}


def test_per_ip_is_checked_before_the_daily_quota(clock: Clock) -> None:
    rl = limiter(clock, daily_base=1, per_ip_per_minute=1)
    call(rl)
    both = call(rl)
    assert (both.reason, both.retry_after) == ("per-IP", 60)


def test_anonymous_requests_count_only_against_the_ip(clock: Clock) -> None:
    rl = limiter(clock, daily_base=1, per_company_concurrency=1, per_ip_per_minute=2)
    admitted = call(rl, client_id=None)
    assert admitted.allowed
    assert admitted.headers == {}
    assert admitted.slot is None
    assert call(rl, client_id=None).allowed  # no daily quota, no concurrency slot
    refused = call(rl, client_id=None)
    assert refused.reason == "per-IP"
    assert refused.headers == {"Retry-After": "60"}
    status = rl.status()
    assert status["clients"] == {}
    assert status["ips"][IP] == {"inWindow": 2, "limit": 2, "windowSeconds": 60, "rejected": 1}


# -- switching, errors, status -------------------------------------------------------------


def test_disabled_limiter_admits_everything_without_headers(clock: Clock) -> None:
    rl = RateLimiter(
        RateLimitConfig(daily_base=1, per_company_concurrency=1, per_ip_per_minute=1), clock
    )
    admissions = [call(rl) for _ in range(10)]
    assert all(a.allowed and a.headers == {} and a.slot is None for a in admissions)
    assert rl.status()["clients"] == {}
    assert rl.status()["ips"] == {}


def test_refusal_becomes_a_429_with_the_headers(clock: Clock) -> None:
    rl = limiter(clock, daily_base=1)
    admitted = call(rl)
    with pytest.raises(ValueError):
        admitted.error()
    err = call(rl).error()
    assert isinstance(err, TooManyRequests)
    assert err.status == 429
    assert err.headers["Retry-After"] == str(TO_MIDNIGHT)
    assert err.headers["X-Rate-Limit-Limit"] == "1"


def test_configure_keeps_counts_unless_told_to_reset(clock: Clock) -> None:
    rl = limiter(clock, daily_base=5)
    for _ in range(3):
        rl.release(call(rl))
    rl.configure(RateLimitConfig(enabled=True, daily_base=3))
    assert rl.config.daily_base == 3
    assert call(rl).reason == "daily quota"
    rl.configure(RateLimitConfig(enabled=True, daily_base=3), reset=True)
    assert call(rl).headers["X-Rate-Limit-Remaining"] == "2"


def test_reset_forgets_counts_but_keeps_slots_in_flight(clock: Clock) -> None:
    rl = limiter(clock, daily_base=2, per_company_concurrency=1, per_ip_per_minute=2)
    held = call(rl)
    rl.reset()
    status = rl.status(CLIENT)
    assert status["clients"][CLIENT]["used"] == 0
    assert status["clients"][CLIENT]["inFlight"] == 1
    assert status["ips"] == {}
    assert call(rl).reason == "concurrency"
    rl.release(held)
    after = call(rl)
    assert after.allowed
    assert after.headers["X-Rate-Limit-Remaining"] == "1"


def test_status_reports_counts_and_windows(clock: Clock) -> None:
    rl = limiter(clock, daily_base=2, per_company_concurrency=3, per_ip_per_minute=10)
    call(rl, active=1)
    rl.release(call(rl, active=1))
    status = rl.status(CLIENT)
    assert status["enabled"] is True
    assert status["now"] == "2026-03-02T09:00:00Z"
    assert status["config"] == {
        "enabled": True,
        "dailyBase": 2,
        "perCompanyConcurrency": 3,
        "perIpPerMinute": 10,
    }
    assert status["clients"] == {
        CLIENT: {
            "day": "2026-03-02",
            "activeCompanies": 1,
            "dailyQuota": 4,
            "used": 2,
            "remaining": 2,
            "resetsAt": NEXT_RESET,
            "inFlight": 1,
            "concurrencyLimit": 3,
            "rejected": {"per-IP": 0, "daily quota": 0, "concurrency": 0},
        }
    }
    assert status["ips"][IP]["inWindow"] == 2
    # an unknown client reads as fresh; the next day reads as unused
    assert rl.status("nobody")["clients"]["nobody"]["used"] == 0
    clock.advance(TO_MIDNIGHT)
    later = rl.status()
    assert later["clients"][CLIENT]["used"] == 0
    assert later["clients"][CLIENT]["day"] == "2026-03-03"
    assert later["ips"][IP]["inWindow"] == 0


def test_clock_set_backwards_opens_fresh_windows(clock: Clock) -> None:
    rl = limiter(clock, daily_base=1, per_ip_per_minute=1)
    call(rl)
    clock.set(T0 - timedelta(days=1))
    again = call(rl)
    assert again.allowed
    assert again.headers["X-Rate-Limit-Reset"] == "2026-03-02T00:00:00Z"


def test_concurrent_callers_never_exceed_the_quota(clock: Clock) -> None:
    rl = limiter(clock, daily_base=100, per_company_concurrency=1000, per_ip_per_minute=10_000)
    results: list[bool] = []
    results_lock = threading.Lock()

    def worker() -> None:
        for _ in range(50):
            admission = call(rl)
            rl.release(admission)
            with results_lock:
                results.append(admission.allowed)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Counter(results) == {True: 100, False: 300}


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 40), st.sampled_from(["a", "b"]), st.sampled_from(["x", "y"])),
        max_size=80,
    ),
)
def test_limits_hold_for_any_arrival_pattern(steps: list[tuple[int, str, str]]) -> None:
    clock = Clock(frozen_at=datetime(2026, 3, 2, 23, 58, 0, tzinfo=timezone.utc))
    rl = RateLimiter(
        RateLimitConfig(
            enabled=True, daily_base=5, per_company_concurrency=50, per_ip_per_minute=4
        ),
        clock,
    )
    by_ip: dict[str, list[datetime]] = {}
    by_client_day: Counter[tuple[str, object]] = Counter()
    for gap, client_id, ip in steps:
        clock.advance(gap)
        admission = rl.admit(client_id=client_id, ip=ip, active_companies=0)
        rl.release(admission)
        now = clock.now()
        if admission.allowed:
            by_ip.setdefault(ip, []).append(now)
            by_client_day[(client_id, now.date())] += 1
            recent = [t for t in by_ip[ip] if t > now - timedelta(seconds=60)]
            assert len(recent) <= 4
        else:
            assert admission.retry_after is not None and admission.retry_after >= 1
    assert all(count <= 5 for count in by_client_day.values())


# -- configuration -------------------------------------------------------------------------


def test_config_json_round_trip() -> None:
    config = RateLimitConfig(
        enabled=True, daily_base=2, per_company_concurrency=3, per_ip_per_minute=4
    )
    data = config.to_json()
    assert data == {
        "enabled": True,
        "dailyBase": 2,
        "perCompanyConcurrency": 3,
        "perIpPerMinute": 4,
    }
    assert RateLimitConfig.from_json(data) == config


def test_config_defaults_are_codats_numbers() -> None:
    config = RateLimitConfig.from_json({"enabled": True})
    assert (config.daily_base, config.per_company_concurrency, config.per_ip_per_minute) == (
        1000,
        10,
        1000,
    )
    assert config.daily_quota(100) == 101_000
    assert config.concurrency_limit(0) == 10
    assert config.concurrency_limit(3) == 30


def test_from_json_keeps_the_base_for_missing_keys() -> None:
    base = RateLimitConfig(enabled=True, daily_base=7)
    updated = RateLimitConfig.from_json({"perIpPerMinute": 9}, base=base)
    assert updated == RateLimitConfig(enabled=True, daily_base=7, per_ip_per_minute=9)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"dailyBase": 0}, "dailyBase: must be at least 1"),
        ({"perIpPerMinute": "5"}, "perIpPerMinute: must be an integer"),
        ({"perCompanyConcurrency": True}, "perCompanyConcurrency: must be an integer"),
        ({"enabled": "yes"}, "enabled: must be true or false"),
        ({"dailyBase": 1, "burst": 3}, "unknown key(s) burst"),
        ([1, 2], "a rate-limit configuration is a JSON object"),
    ],
)
def test_from_json_rejects_bad_input(data: object, message: str) -> None:
    with pytest.raises(RateLimitConfigError) as info:
        RateLimitConfig.from_json(data)
    assert message in str(info.value)


def test_cli_string_enables_with_the_given_numbers() -> None:
    assert parse_rate_limit_string("") == RateLimitConfig(enabled=True)
    assert parse_rate_limit_string("dailyBase=2, perIpPerMinute=5") == RateLimitConfig(
        enabled=True, daily_base=2, per_ip_per_minute=5
    )
    assert parse_rate_limit_string("enabled=false").enabled is False
    for bad in ("dailyBase", "dailyBase=two", "enabled=maybe", "speed=3"):
        with pytest.raises(RateLimitConfigError):
            parse_rate_limit_string(bad)
