"""The control API over real HTTP, with the SDK where the Codat side is involved: seeded fault
schedules and rate limits. (Every route's answers and refusals are tested in-process, in
tests/test_control.py.)"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from codat_sync_for_commerce.models import errors

from mockserver.auth import authorization_for
from mockserver.clock import Clock
from mockserver.faults.rules import FaultRule
from mockserver.server import MockServer
from mockserver.settings import Settings
from tests.chaos.test_sdk import (
    API_KEY,
    SEED,
    add_fault,
    control,
    journal,
    sdk_client,
)
from tests.conftest import T0

AUTH = {"Authorization": authorization_for(API_KEY)}
COIN: dict[str, Any] = {
    "operationId": "list-integrations",
    "status": 503,
    "probability": 0.5,
    "seed": 42,
}


def error_items(response: httpx.Response) -> list[dict[str, Any]]:
    """The validation errors of a Codat-shaped 400."""
    body = response.json()
    assert body["statusCode"] == response.status_code == 400
    items: list[dict[str, Any]] = body["validation"]["errors"]
    return items


# -- seeded schedules --------------------------------------------------------------------------


def statuses(ctl: httpx.Client, calls: int = 20) -> list[int]:
    """The statuses of ``calls`` plain list-integrations calls."""
    return [ctl.get("/config/integrations", headers=AUTH).status_code for _ in range(calls)]


def test_a_seeded_probability_rule_gives_the_same_sequence_every_run(ctl: httpx.Client) -> None:
    rule_id = add_fault(ctl, **COIN)
    first = statuses(ctl)
    assert set(first) == {200, 503}  # a coin, not a constant
    rules = ctl.get("/_mock/faults").json()["rules"]
    assert [(r["id"], r["matched"], r["fired"]) for r in rules] == [(rule_id, 20, first.count(503))]
    assert [e["faultId"] is not None for e in journal(ctl, 20)] == [s == 503 for s in first]

    # After a reset the same rule starts the same sequence again...
    ctl.post("/_mock/reset")
    add_fault(ctl, **COIN)
    assert statuses(ctl) == first

    # ...a fresh server that loads it at startup does too, and so again after its reset...
    settings = Settings(
        port=0, strict=True, seed=SEED, fault_rules=[FaultRule.model_validate(COIN)]
    )
    with MockServer(settings, clock=Clock(frozen_at=T0)) as other, control(other) as other_ctl:
        assert statuses(other_ctl) == first
        assert other_ctl.post("/_mock/reset").status_code == 200
        assert statuses(other_ctl) == first

    # ...and another seed is another sequence.
    ctl.post("/_mock/reset")
    add_fault(ctl, **{**COIN, "seed": 7})
    assert statuses(ctl) != first


def test_an_unseeded_rule_draws_from_the_servers_seed(ctl: httpx.Client) -> None:
    coin = {"id": "coin", "operationId": "list-integrations", "status": 500, "probability": 0.5}
    add_fault(ctl, **coin)
    first = statuses(ctl)
    assert set(first) == {200, 500}
    with (
        MockServer(Settings(port=0, strict=True, seed=SEED), clock=Clock(frozen_at=T0)) as other,
        control(other) as other_ctl,
    ):
        add_fault(other_ctl, **coin)
        assert statuses(other_ctl) == first
    with (
        MockServer(Settings(port=0, seed=SEED + 1), clock=Clock(frozen_at=T0)) as other,
        control(other) as other_ctl,
    ):
        add_fault(other_ctl, **coin)
        assert statuses(other_ctl) != first


def test_schedules_after_and_every(ctl: httpx.Client) -> None:
    add_fault(ctl, operationId="list-integrations", status=502, after=2, every=3)
    assert statuses(ctl, 11) == [200, 200, 200, 200, 502, 200, 200, 502, 200, 200, 502]


# -- rate limits -------------------------------------------------------------------------------


def test_rate_limits_count_down_refuse_and_reset_at_midnight(
    mock: MockServer, ctl: httpx.Client
) -> None:
    seen: list[httpx.Response] = []
    config = ctl.put("/_mock/rate-limit", json={"enabled": True, "dailyBase": 3}).json()
    assert config == {
        "enabled": True,
        "dailyBase": 3,
        "perCompanyConcurrency": 10,
        "perIpPerMinute": 1000,
    }
    assert ctl.get("/_mock/rate-limit").json() == config

    with sdk_client(mock, on_response=seen.append) as sdk:
        for _ in range(3):
            assert sdk.advanced_controls.list_companies() is not None
        # The control API is neither limited nor counted.
        assert ctl.get("/_mock/requests").status_code == 200
        with pytest.raises(errors.ErrorMessage) as raised:
            sdk.advanced_controls.list_companies()
        assert raised.value.data.status_code == 429

        assert [r.status_code for r in seen] == [200, 200, 200, 429]
        assert [r.headers["X-Rate-Limit-Limit"] for r in seen] == ["3"] * 4
        assert [r.headers["X-Rate-Limit-Remaining"] for r in seen] == ["2", "1", "0", "0"]
        assert {r.headers["X-Rate-Limit-Reset"] for r in seen} == {"2026-03-03T00:00:00Z"}
        assert ["Retry-After" in r.headers for r in seen] == [False, False, False, True]
        # T0 is 09:00 UTC: the quota comes back in 15 hours.
        assert seen[-1].headers["Retry-After"] == str(15 * 3600)

        moved = ctl.post("/_mock/clock", json={"advance": 15 * 3600}).json()
        assert moved == {"now": "2026-03-03T00:00:00Z", "frozen": True}
        assert sdk.advanced_controls.list_companies() is not None
    assert seen[-1].status_code == 200
    assert seen[-1].headers["X-Rate-Limit-Remaining"] == "2"
    assert seen[-1].headers["X-Rate-Limit-Reset"] == "2026-03-04T00:00:00Z"

    entries = journal(ctl, 5)
    assert [e["status"] for e in entries] == [200, 200, 200, 429, 200]
    assert entries[3]["faultAction"] == "rate-limit:daily quota"
    assert entries[3]["retryAfter"] == "54000"


def test_without_rate_limits_no_headers_are_sent(mock: MockServer) -> None:
    seen: list[httpx.Response] = []
    with sdk_client(mock, on_response=seen.append) as sdk:
        assert sdk.advanced_controls.list_companies() is not None
    assert not any(name.lower().startswith("x-rate-limit") for name in seen[0].headers)
