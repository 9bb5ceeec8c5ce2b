"""Tests of the control API's hold on the world: reset, state export and import, forced sync
outcomes, deauthorized connections and the views the dashboard reads; through the in-process
app."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from starlette.testclient import TestClient

from mockserver.auth import authorization_for, client_id_for
from mockserver.clock import Clock
from mockserver.faults.rules import parse_fault_string
from mockserver.settings import Settings
from mockserver.spec import Spec
from mockserver.store.limits import MAX_MESSAGE
from tests.conftest import API_KEY, T0
from tests.control_support import DEFAULT_LIMITS, invalid, journal, synced_company
from tests.handlers.support import (
    UNKNOWN_ID,
    create_company,
    create_connection,
    expect_error,
    link_connection,
    ok,
)

# -- the world ---------------------------------------------------------------------------------


def test_reset_restores_fixtures_and_clears_faults_and_journal(
    client: TestClient, clock: Clock
) -> None:
    create_company(client)
    ok(client.post("/_mock/faults", json={"operationId": "get-sync-status", "status": 503}))
    ok(client.post("/_mock/clock", json={"advance": 30}))
    ok(client.put("/_mock/rate-limit", json={"enabled": True, "dailyBase": 3}))
    assert ok(client.post("/_mock/reset")) == {"status": "reset"}
    assert ok(client.get("/_mock/faults")) == {"rules": []}
    assert journal(client) == []
    assert ok(client.get("/companies"))["totalResults"] == 0
    assert clock.now() == T0 + timedelta(seconds=30)  # the clock keeps its time
    # Rate limits go back to the startup settings (off).
    assert ok(client.get("/_mock/rate-limit")) == DEFAULT_LIMITS


def startup_client(spec: Spec, clock: Clock) -> TestClient:
    from mockserver.app import create_app

    settings = Settings(seed=7, fault_rules=[parse_fault_string("list-integrations:500")])
    app = create_app(settings, clock=clock, spec=spec)
    return TestClient(app, headers={"Authorization": authorization_for(API_KEY)})


def test_reset_brings_back_the_startup_rules(spec: Spec, clock: Clock) -> None:
    with startup_client(spec, clock) as client:
        ok(client.post("/_mock/faults", json={"status": 503}))
        ok(client.post("/_mock/reset"))
        rules = ok(client.get("/_mock/faults"))["rules"]
        assert [(rule["operationId"], rule["status"]) for rule in rules] == [
            ("list-integrations", 500)
        ]


def test_reset_keeps_the_startup_rules_ids(spec: Spec, clock: Clock) -> None:
    with startup_client(spec, clock) as client:
        before = [rule["id"] for rule in ok(client.get("/_mock/faults"))["rules"]]
        ok(client.post("/_mock/faults", json={"status": 503}))
        ok(client.post("/_mock/reset"))
        after = [rule["id"] for rule in ok(client.get("/_mock/faults"))["rules"]]
        assert after == before == ["rule-1"]


def test_state_export_and_import(client: TestClient) -> None:
    company = create_company(client, "Kept Ltd")
    snapshot = ok(client.get("/_mock/state"))
    assert snapshot["version"] == 1
    assert [t["clientId"] for t in snapshot["tenants"]] == [client_id_for(API_KEY)]
    create_company(client, "Dropped Ltd")
    assert ok(client.put("/_mock/state", json=snapshot)) == snapshot
    assert [c["id"] for c in ok(client.get("/companies"))["results"]] == [company["id"]]


BAD_SNAPSHOTS: list[tuple[dict[str, Any], str, str]] = [
    ({"version": 99, "tenants": []}, "version", "must be 1"),
    ({"tenants": []}, "version", "must be 1"),
    ({"version": 1}, "tenants", "is required"),
    ({"version": 1, "tenants": 5}, "tenants", "must be a list"),
    ({"version": 1, "tenants": [{"companies": []}]}, "tenants[0].clientId", "is required"),
]


def test_a_bad_snapshot_is_400_naming_the_field_and_changes_nothing(client: TestClient) -> None:
    create_company(client, "Still Here")
    before = ok(client.get("/_mock/state"))
    for body, field, message in BAD_SNAPSHOTS:
        response = client.put("/_mock/state", json=body)
        assert response.status_code == 400, body
        assert response.json()["error"] == f"The snapshot cannot be restored: {field}: {message}"
        assert response.json()["validation"]["errors"] == [
            {"itemId": field, "message": message, "validatorName": "snapshot"}
        ]
        assert ok(client.get("/_mock/state")) == before


def test_a_snapshot_must_be_a_json_object(client: TestClient) -> None:
    invalid(client.put("/_mock/state", json=[]), "body", "JSON object")


def test_force_a_sync_outcome(client: TestClient) -> None:
    company_id, sync_id = synced_company(client)
    forced = ok(
        client.post(f"/_mock/syncs/{sync_id.upper()}/outcome", json={"syncStatusCode": 5130})
    )
    assert (forced["syncId"], forced["syncStatusCode"], forced["syncStatus"]) == (
        sync_id,
        5130,
        "PushError",
    )
    assert forced["errorMessage"] == "The data could not be written to the accounting software."
    latest = ok(client.get(f"/companies/{company_id}/sync/commerce/syncs/latest/status"))
    assert latest["syncStatusCode"] == 5130


def test_a_forced_outcome_carries_its_message(client: TestClient) -> None:
    _, sync_id = synced_company(client)
    forced = ok(
        client.post(
            f"/_mock/syncs/{sync_id}/outcome",
            json={"syncStatusCode": 4040, "message": "Token revoked"},
        )
    )
    assert (forced["syncStatus"], forced["errorMessage"]) == ("AuthError", "Token revoked")


def test_force_the_outcome_of_an_unknown_sync_is_404(client: TestClient) -> None:
    synced_company(client)
    response = client.post(f"/_mock/syncs/{UNKNOWN_ID}/outcome", json={"syncStatusCode": 5130})
    expect_error(response, 404, f"No sync was found with ID {UNKNOWN_ID}")


def test_a_bad_sync_outcome_is_400_and_changes_nothing(client: TestClient) -> None:
    company_id, sync_id = synced_company(client)
    status = f"/companies/{company_id}/sync/commerce/syncs/latest/status"
    before = ok(client.get(status))
    for body, field in (
        ({}, "syncStatusCode"),
        ({"syncStatusCode": "5130"}, "syncStatusCode"),
        ({"syncStatusCode": True}, "syncStatusCode"),
        ({"syncStatusCode": 5130.0}, "syncStatusCode"),
        ({"syncStatusCode": 5130, "message": 7}, "message"),
    ):
        invalid(client.post(f"/_mock/syncs/{sync_id}/outcome", json=body), field, "")
        assert ok(client.get(status)) == before, body


def test_an_undocumented_sync_status_code_is_400(client: TestClient) -> None:
    _, sync_id = synced_company(client)
    response = client.post(f"/_mock/syncs/{sync_id}/outcome", json={"syncStatusCode": 1234})
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "1234 is not a sync status code."
    assert "5130" in body["validation"]["errors"][0]["message"]


def test_an_undocumented_sync_status_code_names_the_request_field(client: TestClient) -> None:
    _, sync_id = synced_company(client)
    response = client.post(f"/_mock/syncs/{sync_id}/outcome", json={"syncStatusCode": 1234})
    assert response.json()["validation"]["errors"][0]["itemId"] == "syncStatusCode"


def test_deauthorize_a_connection(client: TestClient) -> None:
    company = create_company(client)
    connection = create_connection(client, company["id"])
    link_connection(client, company["id"], connection["id"])
    path = f"/_mock/companies/{company['id']}/connections/{connection['id'].upper()}/deauthorize"
    shown = ok(client.post(path))
    assert (shown["id"], shown["status"]) == (connection["id"], "Deauthorized")
    listed = ok(client.get(f"/companies/{company['id']}/connections"))["results"]
    assert [c["status"] for c in listed] == ["Deauthorized"]


def test_deauthorize_an_unknown_connection_is_404(client: TestClient) -> None:
    company = create_company(client)
    for company_id in (company["id"], UNKNOWN_ID):
        response = client.post(
            f"/_mock/companies/{company_id}/connections/{UNKNOWN_ID}/deauthorize"
        )
        expect_error(response, 404, f"Data connection {UNKNOWN_ID} not found")


# -- the views the dashboard reads ---------------------------------------------------------------


def test_the_world_shows_each_sync_as_of_the_clock_with_its_timing(
    client: TestClient, clock: Clock, other_auth: dict[str, str]
) -> None:
    company_id, sync_id = synced_company(client)
    connection = create_connection(client, company_id)
    create_company(client, "Other's", headers=other_auth)

    world = ok(client.get("/_mock/world"))
    assert world["now"] == "2026-03-02T09:00:00Z"
    mine, theirs = world["tenants"]
    assert mine["clientId"] == client_id_for(API_KEY)
    assert [c["name"] for c in theirs["companies"]] == ["Other's"]
    (company,) = mine["companies"]
    assert company["id"] == company_id
    assert [(c["id"], c["status"]) for c in company["dataConnections"]] == [
        (connection["id"], "PendingAuth")
    ]
    configuration = ok(client.get(f"/config/companies/{company_id}/sync/commerce"))
    assert company["configuration"] == configuration
    (sync,) = company["syncs"]
    assert (sync["syncId"], sync["syncStatusCode"], sync["forced"]) == (sync_id, 1000, False)
    assert (sync["requestedAt"], sync["completesAt"]) == (
        "2026-03-02T09:00:00Z",
        "2026-03-02T09:00:30Z",
    )
    assert sync["durationSeconds"] == 30.0

    clock.advance(60)
    (sync,) = ok(client.get("/_mock/world"))["tenants"][0]["companies"][0]["syncs"]
    assert (sync["syncStatusCode"], sync["syncUtc"]) == (2000, "2026-03-02T09:00:30Z")


def test_the_world_shows_the_newest_companies_first_up_to_a_bound(client: TestClient) -> None:
    for name in ("First", "Second", "Third"):
        create_company(client, name)
    (tenant,) = ok(client.get("/_mock/world"))["tenants"]
    assert tenant["companyCount"] == 3
    assert [c["name"] for c in tenant["companies"]] == ["Third", "Second", "First"]
    (tenant,) = ok(client.get("/_mock/world", params={"companies": 2}))["tenants"]
    assert (tenant["companyCount"], [c["name"] for c in tenant["companies"]]) == (
        3,
        ["Third", "Second"],
    )
    for bad in ("-1", "1001", "x", "²"):
        response = client.get("/_mock/world", params={"companies": bad})
        invalid(response, "companies", "companies takes 0 to 1000")


def test_an_over_long_outcome_message_is_400_naming_it_and_changes_nothing(
    client: TestClient,
) -> None:
    company_id, sync_id = synced_company(client)
    status = f"/companies/{company_id}/sync/commerce/syncs/latest/status"
    before = ok(client.get(status))
    response = client.post(
        f"/_mock/syncs/{sync_id}/outcome",
        json={"syncStatusCode": 5130, "message": "m" * (MAX_MESSAGE + 1)},
    )
    assert response.status_code == 400
    [item] = response.json()["validation"]["errors"]
    assert (item["itemId"], item["message"]) == (
        "message",
        f"At most {MAX_MESSAGE} characters ({MAX_MESSAGE + 1} given).",
    )
    assert ok(client.get(status)) == before
