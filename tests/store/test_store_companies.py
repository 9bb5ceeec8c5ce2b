from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockserver.clock import Clock
from mockserver.errors import BadRequest, NotFound
from mockserver.store import Tenant
from mockserver.store.companies import clean_name

ContractCheck = Callable[[str, Any], None]


def test_create_company(tenant: Tenant, contract: ContractCheck) -> None:
    company = tenant.create_company("Bramble & Oak", "A bakery", {"region": "uk"})
    assert uuid.UUID(company["id"]).version == 4
    assert company["name"] == "Bramble & Oak"
    assert company["description"] == "A bakery"
    assert company["redirect"] == f"https://link.codat.io/company/{company['id']}"
    assert company["created"] == "2026-03-02T09:00:00Z"
    assert "lastSync" not in company
    assert "createdByUserName" not in company
    assert company["products"] == ["sync-for-commerce"]
    assert company["tags"] == {"region": "uk"}
    assert company["dataConnections"] == []
    contract("Company", company)


def test_description_and_tags_default_to_empty(tenant: Tenant, contract: ContractCheck) -> None:
    company = tenant.create_company("Plain")
    assert "description" not in company
    assert company["tags"] == {}
    contract("Company", company)


def test_forbidden_characters_are_removed_from_the_name(tenant: Tenant) -> None:
    # Codat's documented example.
    assert tenant.create_company("Example Company (Codat[1])")["name"] == "Example Company Codat1"


def test_allowed_symbols_are_kept() -> None:
    assert clean_name("A-B 'C', D&E @F.G?H!") == "A-B 'C', D&E @F.G?H!"


@pytest.mark.parametrize("name", ["", "   ", "()[]{}", "\u00e9\u00e8"])
def test_a_name_with_nothing_left_is_refused(tenant: Tenant, name: str) -> None:
    with pytest.raises(BadRequest) as caught:
        tenant.create_company(name)
    assert [item.item_id for item in caught.value.validation] == ["name"]
    assert tenant.list_companies() == []


@given(st.text(min_size=1, max_size=40))
def test_a_cleaned_name_only_holds_allowed_characters(name: str) -> None:
    try:
        cleaned = clean_name(name)
    except BadRequest:
        return
    allowed = set("-',&@.?!")
    assert all((c.isascii() and c.isalnum()) or c.isspace() or c in allowed for c in cleaned)
    assert cleaned.strip()


def test_ten_tags_are_allowed(tenant: Tenant) -> None:
    tags = {f"k{i}": "v" for i in range(10)}
    assert tenant.create_company("Tagged", tags=tags)["tags"] == tags


def test_eleven_tags_are_refused(tenant: Tenant) -> None:
    with pytest.raises(BadRequest, match="at most 10 tags"):
        tenant.create_company("Tagged", tags={f"k{i}": "v" for i in range(11)})
    assert tenant.list_companies() == []


@pytest.mark.parametrize(
    ("tags", "item"),
    [
        ({"": "v"}, "tags."),
        ({"k" * 28: "v"}, "tags." + "k" * 28),
        ({"key": "v" * 101}, "tags.key"),
    ],
)
def test_tag_limits(tenant: Tenant, tags: dict[str, str], item: str) -> None:
    with pytest.raises(BadRequest) as caught:
        tenant.create_company("Tagged", tags=tags)
    assert [v.item_id for v in caught.value.validation] == [item]


def test_tag_limits_at_the_edge_are_fine(tenant: Tenant) -> None:
    tags = {"k" * 27: "v" * 100}
    assert tenant.create_company("Tagged", tags=tags)["tags"] == tags


def test_list_companies_oldest_first(tenant: Tenant, contract: ContractCheck) -> None:
    first = tenant.create_company("First")
    second = tenant.create_company("Second")
    listed = tenant.list_companies()
    assert [c["id"] for c in listed] == [first["id"], second["id"]]
    for company in listed:
        contract("Company", company)


def test_get_company(tenant: Tenant) -> None:
    created = tenant.create_company("Get me")
    assert tenant.company(created["id"]) == created


def test_unknown_company_is_not_found_with_codats_message(tenant: Tenant) -> None:
    missing = "846ed55c-974b-4392-a1f1-87b6fdbf3c5e"
    with pytest.raises(NotFound) as caught:
        tenant.company(missing)
    assert caught.value.message == f"No company was found with ID {missing}"
    assert caught.value.error_service == "ClientsApi"


def test_another_tenants_company_looks_exactly_like_an_unknown_one(
    tenant: Tenant, other: Tenant
) -> None:
    company_id = tenant.create_company("Mine")["id"]
    with pytest.raises(NotFound) as theirs:
        other.company(company_id)
    assert theirs.value.message == f"No company was found with ID {company_id}"
    assert other.list_companies() == []
    with pytest.raises(NotFound):
        other.list_connections(company_id)
    with pytest.raises(NotFound):
        other.create_connection(company_id, "gbol")
    with pytest.raises(NotFound):
        other.request_sync(company_id)
    with pytest.raises(NotFound):
        other.configuration(company_id)
    assert len(tenant.list_companies()) == 1


def test_changing_a_returned_company_changes_nothing_stored(tenant: Tenant) -> None:
    company = tenant.create_company("Stable", tags={"a": "b"})
    company["tags"]["a"] = "changed"
    company["name"] = "changed"
    company["dataConnections"].append({"id": "x"})
    again = tenant.company(company["id"])
    assert again["tags"] == {"a": "b"}
    assert again["name"] == "Stable"
    assert again["dataConnections"] == []


def test_created_follows_the_clock(tenant: Tenant, clock: Clock) -> None:
    clock.advance(90)
    assert tenant.create_company("Later")["created"] == "2026-03-02T09:01:30Z"
