"""The control API over real HTTP, with the SDK where the Codat side is involved: the fault
rules' life cycle, seeded schedules, rate limits, and the routes that move the world."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
import schemathesis
from codat_sync_for_commerce.models import errors, shared

from mockserver.auth import authorization_for
from mockserver.clock import Clock
from mockserver.faults.rules import FaultRule
from mockserver.server import MockServer
from mockserver.settings import Settings
from tests.chaos.test_sdk import (
    API_KEY,
    RATE_LIMITS_OFF,
    SEED,
    T0_TEXT,
    add_fault,
    company_names,
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


def test_bad_rate_limit_settings_are_refused(ctl: httpx.Client) -> None:
    response = ctl.put("/_mock/rate-limit", json={"dailyBase": 0})
    assert "dailyBase" in error_items(response)[0]["message"]
    response = ctl.put("/_mock/rate-limit", json={"daily": 5})
    assert "daily" in error_items(response)[0]["message"]
    assert ctl.get("/_mock/rate-limit").json()["dailyBase"] == 1000


# -- the fault rules' life cycle ---------------------------------------------------------------


def test_fault_rules_are_added_listed_and_removed(ctl: httpx.Client) -> None:
    stored = ctl.post("/_mock/faults", json={"operationId": "list-companies", "status": 500})
    assert stored.status_code == 200
    first = stored.json()
    assert re.fullmatch(r"rule-\d+", first["id"])
    assert first == {
        "id": first["id"],
        "operationId": "list-companies",
        "status": 500,
        "when": "before",
        "matched": 0,
        "fired": 0,
        "retired": False,
    }
    several = ctl.post(
        "/_mock/faults",
        json=[{"id": "mine", "status": 502, "times": 1}, {"drop": "reset", "method": "post"}],
    ).json()["rules"]
    assert several[0]["id"] == "mine"
    assert several[1]["method"] == "POST"
    last = several[1]["id"]
    assert last not in (first["id"], "mine")
    listed = ctl.get("/_mock/faults").json()["rules"]
    assert [r["id"] for r in listed] == [first["id"], "mine", last]

    removed = ctl.delete("/_mock/faults/mine")
    assert removed.status_code == 200
    assert removed.json()["id"] == "mine"
    assert [r["id"] for r in ctl.get("/_mock/faults").json()["rules"]] == [first["id"], last]
    missing = ctl.delete("/_mock/faults/mine")
    assert missing.status_code == 404
    assert "mine" in missing.json()["error"]

    assert ctl.delete("/_mock/faults").json() == {"rules": []}
    assert ctl.get("/_mock/faults").json() == {"rules": []}


@pytest.mark.parametrize(
    ("rule", "named"),
    [
        ({"status": 999}, "status"),
        ({"stauts": 500}, "stauts"),
        ({"drop": "explode"}, "drop"),
        ({"status": 500, "times": 0}, "times"),
        ({"status": 500, "probability": 1.5}, "probability"),
        ({"status": 500, "when": "during"}, "when"),
        ({"latency": {"min": 5}}, "latency"),
        ({"retryAfter": 1, "latencyMs": 5}, "retryAfter"),
        ({"status": 500, "drop": "reset"}, "drop"),
        ({"operationId": "list-companies"}, "action"),
    ],
)
def test_invalid_rules_are_refused_naming_the_field(
    ctl: httpx.Client, rule: dict[str, Any], named: str
) -> None:
    response = ctl.post("/_mock/faults", json=rule)
    assert response.status_code == 400
    (item,) = error_items(response)
    assert named in item["message"]
    assert ctl.get("/_mock/faults").json() == {"rules": []}


def test_a_duplicate_rule_id_is_a_conflict(ctl: httpx.Client) -> None:
    add_fault(ctl, id="once", status=500)
    response = ctl.post("/_mock/faults", json={"id": "once", "status": 502})
    assert response.status_code == 409
    assert response.json()["statusCode"] == 409
    assert [r["status"] for r in ctl.get("/_mock/faults").json()["rules"]] == [500]


def test_a_refused_list_of_rules_adds_none_of_them(ctl: httpx.Client) -> None:
    response = ctl.post("/_mock/faults", json=[{"id": "x", "status": 500}, {"id": "x"}])
    assert response.status_code == 400  # the second rule has no action: refused up front
    response = ctl.post(
        "/_mock/faults", json=[{"id": "x", "status": 500}, {"id": "x", "status": 502}]
    )
    assert response.status_code == 409
    assert ctl.get("/_mock/faults").json() == {"rules": []}


def test_the_control_api_is_never_faulted_nor_journaled(ctl: httpx.Client) -> None:
    rule_id = add_fault(ctl, operationId="*", status=500)
    add_fault(ctl, path="/_mock/*", drop="reset")
    for path in (
        "/_mock/health",
        "/_mock/faults",
        "/_mock/requests",
        "/_mock/report",
        "/_mock/state",
        "/_mock/clock",
        "/_mock/rate-limit",
        "/_mock/openapi.json",
    ):
        assert ctl.get(path).status_code == 200, path
    assert ctl.get("/_mock/requests").json()["requests"] == []
    assert ctl.get("/_mock/report").json()["totals"]["requests"] == 0
    # The Codat surface is faulted all the same.
    assert ctl.get("/companies", headers=AUTH).status_code == 500
    (entry,) = journal(ctl, 1)
    assert (entry["path"], entry["status"], entry["faultId"]) == ("/companies", 500, rule_id)


def test_startup_rules_keep_their_ids_across_a_reset() -> None:
    settings = Settings(port=0, seed=SEED, fault_rules=[FaultRule.model_validate(COIN)])
    with MockServer(settings, clock=Clock(frozen_at=T0)) as other, control(other) as other_ctl:
        before = [r["id"] for r in other_ctl.get("/_mock/faults").json()["rules"]]
        assert before == ["rule-1"]
        assert other_ctl.post("/_mock/reset").status_code == 200
        assert [r["id"] for r in other_ctl.get("/_mock/faults").json()["rules"]] == before


def test_reset_puts_the_rate_limits_back_to_the_startup_settings(ctl: httpx.Client) -> None:
    assert ctl.get("/_mock/rate-limit").json() == RATE_LIMITS_OFF
    ctl.put("/_mock/rate-limit", json={"enabled": True, "dailyBase": 3})
    ctl.post("/_mock/reset")
    assert ctl.get("/_mock/rate-limit").json() == RATE_LIMITS_OFF


def test_the_journal_filters_and_clears(ctl: httpx.Client) -> None:
    add_fault(ctl, operationId="list-companies", status=503, times=1)
    ctl.get("/companies", headers=AUTH)
    ctl.post("/_mock/clock", json={"advance": 60})
    ctl.get("/companies", headers=AUTH)
    ctl.get("/config/integrations", headers=AUTH)
    journal(ctl, 3)
    assert [e["status"] for e in journal(ctl, 2, operationId="list-companies")] == [503, 200]
    assert [e["operationId"] for e in journal(ctl, 1, status=503)] == ["list-companies"]
    later = journal(ctl, 2, since="2026-03-02T09:01:00Z")
    assert [e["mockTime"] for e in later] == ["2026-03-02T09:01:00Z"] * 2
    assert error_items(ctl.get("/_mock/requests", params={"status": "bad"}))[0]["itemId"] == (
        "status"
    )
    assert ctl.delete("/_mock/requests").json() == {"requests": []}
    assert ctl.get("/_mock/requests").json()["requests"] == []


# -- moving the world --------------------------------------------------------------------------


def test_reset_clears_faults_journal_and_state(mock: MockServer, ctl: httpx.Client) -> None:
    with sdk_client(mock) as sdk:
        assert sdk.advanced_controls.create_company(request={"name": "Temp"}) is not None
    add_fault(ctl, operationId="list-companies", status=500)
    journal(ctl, 1)
    assert company_names(mock) == ["Temp"]

    assert ctl.post("/_mock/reset").json() == {"status": "reset"}
    assert ctl.get("/_mock/faults").json() == {"rules": []}
    assert ctl.get("/_mock/requests").json()["requests"] == []
    assert company_names(mock) == []
    with sdk_client(mock) as sdk:
        listed = sdk.advanced_controls.list_companies()
    assert listed is not None
    assert listed.total_results == 0


def test_state_round_trips_through_a_snapshot(mock: MockServer, ctl: httpx.Client) -> None:
    with sdk_client(mock) as sdk:
        kept = sdk.advanced_controls.create_company(request={"name": "Kept"})
        assert kept is not None
        snapshot = ctl.get("/_mock/state").json()
        ctl.post("/_mock/reset")
        assert company_names(mock) == []

        loaded = ctl.put("/_mock/state", json=snapshot)
        assert loaded.status_code == 200
        assert loaded.json() == snapshot
        assert ctl.get("/_mock/state").json() == snapshot
        listed = sdk.advanced_controls.list_companies()
    assert listed is not None
    assert [(c.id, c.name) for c in listed.results or []] == [(kept.id, "Kept")]


def test_a_forced_sync_outcome_reaches_the_sdk(mock: MockServer, ctl: httpx.Client) -> None:
    with sdk_client(mock) as sdk:
        company = sdk.advanced_controls.create_company(request={"name": "Syncing"})
        assert company is not None
        summary = sdk.sync.request(request={"company_id": company.id})
        assert summary is not None
        sync_id = summary.commerce_sync_id
        assert sync_id is not None

        forced = ctl.post(f"/_mock/syncs/{sync_id}/outcome", json={"syncStatusCode": 5130})
        assert forced.status_code == 200
        assert (forced.json()["syncId"], forced.json()["syncStatusCode"]) == (sync_id, 5130)

        latest = sdk.sync.get_latest_sync(request={"company_id": company.id})
    assert latest is not None
    assert (latest.sync_id, latest.sync_status_code, latest.sync_status) == (
        sync_id,
        5130,
        "PushError",
    )

    undocumented = ctl.post(f"/_mock/syncs/{sync_id}/outcome", json={"syncStatusCode": 1234})
    assert undocumented.status_code == 400
    unknown = ctl.post(
        "/_mock/syncs/00000000-0000-0000-0000-000000000000/outcome", json={"syncStatusCode": 5130}
    )
    assert unknown.status_code == 404
    assert error_items(ctl.post(f"/_mock/syncs/{sync_id}/outcome", json={}))[0]["itemId"] == (
        "syncStatusCode"
    )


def test_deauthorizing_a_connection_shows_in_the_sdk(mock: MockServer, ctl: httpx.Client) -> None:
    with sdk_client(mock) as sdk:
        company = sdk.advanced_controls.create_company(request={"name": "Revoked"})
        assert company is not None
        integrations = sdk.integrations.list()
        assert integrations is not None
        platform = next(i.key for i in integrations.results or [] if i.enabled)
        connection = sdk.connections.create(
            request={"company_id": company.id, "request_body": {"platform_key": platform}}
        )
        assert connection is not None

        path = f"/_mock/companies/{company.id}/connections/{connection.id}/deauthorize"
        answered = ctl.post(path)
        assert answered.status_code == 200
        assert (answered.json()["id"], answered.json()["status"]) == (
            connection.id,
            "Deauthorized",
        )
        listed = sdk.connections.list(request={"company_id": company.id})
    assert listed is not None
    assert [(c.id, c.status) for c in listed.results or []] == [
        (connection.id, shared.DataConnectionStatus.DEAUTHORIZED)
    ]
    missing = ctl.post(
        f"/_mock/companies/{company.id}/connections/00000000-0000-0000-0000-000000000000"
        "/deauthorize"
    )
    assert missing.status_code == 404


def test_the_clock_moves_sets_and_returns_to_real_time(ctl: httpx.Client) -> None:
    assert ctl.get("/_mock/clock").json() == {"now": T0_TEXT, "frozen": True}
    assert ctl.post("/_mock/clock", json={"advance": 90}).json()["now"] == "2026-03-02T09:01:30Z"
    assert ctl.post("/_mock/clock", json={"set": "2026-05-01T00:00:00Z"}).json() == {
        "now": "2026-05-01T00:00:00Z",
        "frozen": True,
    }
    assert ctl.post("/_mock/clock", json={"realTime": True}).json()["frozen"] is False
    for body, field in (({"advance": -1}, "advance"), ({"set": "soon"}, "set"), ({}, "body")):
        assert error_items(ctl.post("/_mock/clock", json=body))[0]["itemId"] == field


# -- the control API's own contract -------------------------------------------------------------

CONTROL_ROUTES = {
    ("get", "/_mock/health"),
    ("get", "/_mock/openapi.json"),
    ("get", "/_mock/whoami"),
    ("get", "/_mock/clock"),
    ("post", "/_mock/clock"),
    ("get", "/_mock/faults"),
    ("post", "/_mock/faults"),
    ("delete", "/_mock/faults"),
    ("delete", "/_mock/faults/{ruleId}"),
    ("get", "/_mock/requests"),
    ("delete", "/_mock/requests"),
    ("get", "/_mock/report"),
    ("post", "/_mock/reset"),
    ("get", "/_mock/state"),
    ("put", "/_mock/state"),
    ("post", "/_mock/syncs/{syncId}/outcome"),
    ("post", "/_mock/companies/{companyId}/connections/{connectionId}/deauthorize"),
    ("get", "/_mock/rate-limit"),
    ("put", "/_mock/rate-limit"),
    ("delete", "/_mock/companies/{companyId}/connections/{connectionId}"),
    ("get", "/_mock/webhooks"),
    ("post", "/_mock/webhooks"),
    ("delete", "/_mock/webhooks/{consumerId}"),
    ("get", "/_mock/webhooks/deliveries"),
    ("delete", "/_mock/webhooks/deliveries"),
    ("get", "/_mock/webhooks/messages"),
    ("get", "/_mock/webhooks/faults"),
    ("post", "/_mock/webhooks/faults"),
    ("delete", "/_mock/webhooks/faults"),
    ("delete", "/_mock/webhooks/faults/{ruleId}"),
    ("get", "/_mock/world"),
    ("get", "/_mock/requests/{seq}"),
    ("get", "/_mock/rate-limit/status"),
    ("get", "/_mock/webhooks/quiet"),
    ("put", "/_mock/webhooks/quiet/{clientId}"),
    ("delete", "/_mock/webhooks/quiet/{clientId}"),
}
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def test_the_control_openapi_document_lists_every_control_route(ctl: httpx.Client) -> None:
    response = ctl.get("/_mock/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    listed = {
        (method, path)
        for path, item in document["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }
    assert listed == CONTROL_ROUTES
    # Every operation has an id of its own.
    ids = [
        operation["operationId"]
        for item in document["paths"].values()
        for method, operation in item.items()
        if method in HTTP_METHODS
    ]
    assert len(ids) == len(set(ids)) == len(CONTROL_ROUTES)


def test_the_control_openapi_document_is_valid_openapi(ctl: httpx.Client) -> None:
    document = ctl.get("/_mock/openapi.json").json()
    schemathesis.openapi.from_dict(document).validate()
