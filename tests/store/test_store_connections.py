from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from mockserver.clock import Clock
from mockserver.errors import BadRequest, NotFound
from mockserver.store import Tenant, World

ContractCheck = Callable[[str, Any], None]


def test_create_connection(
    world: World, tenant: Tenant, company_id: str, contract: ContractCheck
) -> None:
    connection = tenant.create_connection(company_id, "gbol")
    integration = world.catalog.integration("gbol")
    assert uuid.UUID(connection["id"]).version == 4
    assert connection["status"] == "PendingAuth"
    assert connection["integrationKey"] == "gbol"
    assert connection["integrationId"] == integration["integrationId"]
    assert connection["sourceId"] == integration["sourceId"]
    assert connection["sourceType"] == "Accounting"
    assert connection["platformName"] == "Xero"
    assert connection["linkUrl"] == (
        f"https://link-api.codat.io/companies/{company_id}/connections/{connection['id']}/start"
    )
    assert connection["created"] == "2026-03-02T09:00:00Z"
    assert "lastSync" not in connection
    assert connection["dataConnectionErrors"] == []
    assert "connectionInfo" not in connection
    contract("Connection", connection)


def test_connection_to_a_bare_integration_is_still_valid(
    tenant: Tenant, company_id: str, contract: ContractCheck
) -> None:
    connection = tenant.create_connection(company_id, "bare")
    assert connection["sourceType"] == "Unknown"
    contract("Connection", connection)


def test_connections_show_on_the_company(tenant: Tenant, company_id: str) -> None:
    first = tenant.create_connection(company_id, "fztf")
    second = tenant.create_connection(company_id, "gbol")
    assert tenant.company(company_id)["dataConnections"] == [first, second]
    assert tenant.list_connections(company_id) == [first, second]
    assert tenant.connection(company_id, second["id"]) == second


def test_unknown_platform_is_not_found(tenant: Tenant, company_id: str) -> None:
    with pytest.raises(NotFound, match="zzzz"):
        tenant.create_connection(company_id, "zzzz")
    assert tenant.list_connections(company_id) == []


def test_disabled_integration_is_refused(tenant: Tenant, company_id: str) -> None:
    with pytest.raises(BadRequest, match="not enabled"):
        tenant.create_connection(company_id, "offl")
    assert tenant.list_connections(company_id) == []


def test_unknown_company_comes_before_the_platform(tenant: Tenant) -> None:
    with pytest.raises(NotFound, match="No company was found"):
        tenant.create_connection("00000000-0000-4000-8000-000000000000", "zzzz")


def test_unknown_connection_has_codats_message(tenant: Tenant, company_id: str) -> None:
    missing = "a22dd66b-564a-4832-9b37-7b3ce4aeb7de"
    calls: list[Callable[[], object]] = [
        lambda: tenant.connection(company_id, missing),
        lambda: tenant.update_connection(company_id, missing, "Unlinked"),
        lambda: tenant.update_connection_authorization(company_id, missing, {}),
        lambda: tenant.deauthorize_connection(company_id, missing),
        lambda: tenant.delete_connection(company_id, missing),
    ]
    for call in calls:
        with pytest.raises(NotFound) as caught:
            call()
        assert caught.value.message == f"Data connection {missing} not found"


def test_a_connection_belongs_to_its_company(tenant: Tenant, company_id: str) -> None:
    other_company = tenant.create_company("Other")["id"]
    connection = tenant.create_connection(company_id, "gbol")
    with pytest.raises(NotFound, match="Data connection"):
        tenant.connection(other_company, connection["id"])


def test_another_tenant_cannot_reach_a_connection(
    tenant: Tenant, other: Tenant, company_id: str
) -> None:
    connection = tenant.create_connection(company_id, "gbol")
    with pytest.raises(NotFound, match="No company was found"):
        other.update_connection_authorization(company_id, connection["id"], {"a": "b"})
    assert tenant.connection(company_id, connection["id"])["status"] == "PendingAuth"


def _linked(tenant: Tenant, company_id: str) -> str:
    connection = tenant.create_connection(company_id, "gbol")
    tenant.update_connection_authorization(company_id, connection["id"], {"token": "secret"})
    return str(connection["id"])


def test_update_with_no_status_changes_nothing(tenant: Tenant, company_id: str) -> None:
    connection_id = _linked(tenant, company_id)
    before = tenant.connection(company_id, connection_id)
    assert tenant.update_connection(company_id, connection_id, None) == before


def test_linked_can_be_unlinked(tenant: Tenant, company_id: str, contract: ContractCheck) -> None:
    connection_id = _linked(tenant, company_id)
    updated = tenant.update_connection(company_id, connection_id, "Unlinked")
    assert updated["status"] == "Unlinked"
    assert tenant.connection(company_id, connection_id)["status"] == "Unlinked"
    contract("Connection", updated)


@pytest.mark.parametrize("target", ["Linked", "PendingAuth", "Deauthorized", "Unlinked"])
def test_other_changes_from_pending_auth_are_refused(
    tenant: Tenant, company_id: str, target: str
) -> None:
    connection = tenant.create_connection(company_id, "gbol")
    with pytest.raises(BadRequest, match="only a Linked connection can be set to Unlinked"):
        tenant.update_connection(company_id, connection["id"], target)
    assert tenant.connection(company_id, connection["id"])["status"] == "PendingAuth"


@pytest.mark.parametrize("target", ["Linked", "PendingAuth", "Deauthorized"])
def test_a_linked_connection_can_only_be_unlinked(
    tenant: Tenant, company_id: str, target: str
) -> None:
    connection_id = _linked(tenant, company_id)
    with pytest.raises(BadRequest):
        tenant.update_connection(company_id, connection_id, target)
    assert tenant.connection(company_id, connection_id)["status"] == "Linked"


def test_unlinking_twice_is_refused(tenant: Tenant, company_id: str) -> None:
    connection_id = _linked(tenant, company_id)
    tenant.update_connection(company_id, connection_id, "Unlinked")
    with pytest.raises(BadRequest):
        tenant.update_connection(company_id, connection_id, "Unlinked")


def test_an_unknown_status_is_refused(tenant: Tenant, company_id: str) -> None:
    connection_id = _linked(tenant, company_id)
    with pytest.raises(BadRequest) as caught:
        tenant.update_connection(company_id, connection_id, "Broken")
    assert caught.value.validation[0].item_id == "status"


@pytest.mark.parametrize("start", ["PendingAuth", "Linked", "Unlinked", "Deauthorized"])
def test_authorization_links_from_any_status(
    tenant: Tenant, company_id: str, start: str, contract: ContractCheck
) -> None:
    connection_id = tenant.create_connection(company_id, "gbol")["id"]
    if start != "PendingAuth":
        tenant.update_connection_authorization(company_id, connection_id, {"a": "1"})
    if start == "Unlinked":
        tenant.update_connection(company_id, connection_id, "Unlinked")
    if start == "Deauthorized":
        tenant.deauthorize_connection(company_id, connection_id)
    assert tenant.connection(company_id, connection_id)["status"] == start
    linked = tenant.update_connection_authorization(company_id, connection_id, {"b": "2"})
    assert linked["status"] == "Linked"
    contract("Connection", linked)


def test_authorization_values_are_never_shown_or_kept(
    world: World, tenant: Tenant, company_id: str
) -> None:
    connection_id = tenant.create_connection(company_id, "gbol")["id"]
    shown = tenant.update_connection_authorization(
        company_id, connection_id, {"apiKey": "s3cr3t-value", "shopDomain": "bramble.example"}
    )
    assert shown["connectionInfo"] == {"apiKey": "********", "shopDomain": "********"}
    everything = json.dumps([tenant.company(company_id), world.snapshot()])
    assert "s3cr3t-value" not in everything
    assert "bramble.example" not in everything


def test_new_authorization_replaces_the_old_keys(tenant: Tenant, company_id: str) -> None:
    connection_id = tenant.create_connection(company_id, "gbol")["id"]
    tenant.update_connection_authorization(company_id, connection_id, {"old": "1"})
    shown = tenant.update_connection_authorization(company_id, connection_id, {"new": "2"})
    assert shown["connectionInfo"] == {"new": "********"}


def test_authorization_values_must_be_strings(tenant: Tenant, company_id: str) -> None:
    connection_id = tenant.create_connection(company_id, "gbol")["id"]
    bad: dict[str, object] = {"ok": "fine", "port": 443}
    with pytest.raises(BadRequest) as caught:
        tenant.update_connection_authorization(company_id, connection_id, bad)  # type: ignore[arg-type]
    assert [item.item_id for item in caught.value.validation] == ["port"]
    assert tenant.connection(company_id, connection_id)["status"] == "PendingAuth"


def test_deauthorize(tenant: Tenant, company_id: str, contract: ContractCheck) -> None:
    connection_id = _linked(tenant, company_id)
    shown = tenant.deauthorize_connection(company_id, connection_id)
    assert shown["status"] == "Deauthorized"
    assert tenant.connection(company_id, connection_id)["status"] == "Deauthorized"
    contract("Connection", shown)


def test_delete_returns_the_connection_and_removes_it(tenant: Tenant, company_id: str) -> None:
    keep = tenant.create_connection(company_id, "fztf")
    connection_id = _linked(tenant, company_id)
    before = tenant.connection(company_id, connection_id)
    assert tenant.delete_connection(company_id, connection_id) == before
    with pytest.raises(NotFound):
        tenant.connection(company_id, connection_id)
    assert tenant.company(company_id)["dataConnections"] == [keep]


def test_connection_last_sync_follows_successful_syncs(
    tenant: Tenant, linked_company_id: str, clock: Clock
) -> None:
    tenant.request_sync(linked_company_id)
    assert all("lastSync" not in c for c in tenant.list_connections(linked_company_id))
    clock.advance(30)
    assert {c["lastSync"] for c in tenant.list_connections(linked_company_id)} == {
        "2026-03-02T09:00:30Z"
    }
    # A connection made after that sync has not taken part in any sync yet.
    late = tenant.create_connection(linked_company_id, "zsth")
    assert "lastSync" not in late
