from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from mockserver.errors import BadRequest, NotFound
from mockserver.fixtures import Fixtures
from mockserver.store import Tenant

ContractCheck = Callable[[str, Any], None]

# -- texts ------------------------------------------------------------------------------------


def test_default_texts(tenant: Tenant, fixtures: Fixtures, contract: ContractCheck) -> None:
    assert tenant.texts("en-us") == fixtures.texts["en-us"]
    assert tenant.texts("fr-fr") == fixtures.texts["fr-fr"]
    contract("LocalizationInfo", tenant.texts("en-us"))


def test_a_locale_without_defaults_is_empty(tenant: Tenant) -> None:
    assert tenant.texts("de-de") == {}


def test_set_a_text(tenant: Tenant, fixtures: Fixtures, contract: ContractCheck) -> None:
    result = tenant.update_texts("en-us", {"title": {"text": "Hello"}})
    assert result["title"] == {"text": "Hello", "required": True}
    assert result["footer"] == fixtures.texts["en-us"]["footer"]
    assert tenant.texts("en-us") == result
    # Other locales are untouched.
    assert tenant.texts("fr-fr") == fixtures.texts["fr-fr"]
    contract("LocalizationInfo", result)


def test_keys_not_mentioned_keep_earlier_changes(tenant: Tenant) -> None:
    tenant.update_texts("en-us", {"title": {"text": "Hello"}})
    result = tenant.update_texts("en-us", {"footer": {"text": "Bye"}})
    assert result["title"]["text"] == "Hello"
    assert result["footer"]["text"] == "Bye"


def test_null_resets_a_key_to_its_default(tenant: Tenant, fixtures: Fixtures) -> None:
    tenant.update_texts("en-us", {"title": {"text": "Hello"}, "footer": {"text": "Bye"}})
    result = tenant.update_texts("en-us", {"title": None})
    assert result["title"] == fixtures.texts["en-us"]["title"]
    assert result["footer"]["text"] == "Bye"


def test_resetting_an_unchanged_key_is_harmless(tenant: Tenant, fixtures: Fixtures) -> None:
    assert tenant.update_texts("en-us", {"footer": None}) == fixtures.texts["en-us"]


def test_an_optional_text_may_be_emptied(tenant: Tenant) -> None:
    assert tenant.update_texts("en-us", {"footer": {"text": ""}})["footer"]["text"] == ""


def test_a_null_text_also_resets_to_the_default(tenant: Tenant, fixtures: Fixtures) -> None:
    # The SDK cannot send a null for a whole key; it sends {"text": null}, which the contract
    # describes as "use the default".
    tenant.update_texts("en-us", {"footer": {"text": "Bye"}, "title": {"text": "Hi"}})
    result = tenant.update_texts("en-us", {"footer": {"text": None}, "title": {"text": None}})
    assert result["footer"] == fixtures.texts["en-us"]["footer"]
    assert result["title"] == fixtures.texts["en-us"]["title"]


def test_an_unknown_key_is_refused_by_name_and_nothing_changes(
    tenant: Tenant, fixtures: Fixtures
) -> None:
    with pytest.raises(BadRequest) as caught:
        tenant.update_texts("en-us", {"title": {"text": "Hi"}, "no-such-key": {"text": "x"}})
    assert "no-such-key" in caught.value.message
    assert [item.item_id for item in caught.value.validation] == ["no-such-key"]
    assert tenant.texts("en-us") == fixtures.texts["en-us"]


def test_a_key_of_another_locale_is_unknown(tenant: Tenant) -> None:
    with pytest.raises(BadRequest, match="footer"):
        tenant.update_texts("fr-fr", {"footer": {"text": "Propulsé par Codat"}})


@pytest.mark.parametrize("text", ["", "   "])
def test_a_required_text_cannot_be_emptied(tenant: Tenant, fixtures: Fixtures, text: str) -> None:
    with pytest.raises(BadRequest, match="required") as caught:
        tenant.update_texts("en-us", {"title": {"text": text}})
    assert caught.value.validation[0].item_id == "title"
    assert tenant.texts("en-us") == fixtures.texts["en-us"]


@pytest.mark.parametrize("value", ["plain string", 3, ["list"], {"text": 5}])
def test_malformed_values_are_refused(tenant: Tenant, value: Any) -> None:
    with pytest.raises(BadRequest) as caught:
        tenant.update_texts("en-us", {"footer": value})
    assert caught.value.validation[0].item_id == "footer"


def test_every_problem_is_listed(tenant: Tenant) -> None:
    with pytest.raises(BadRequest) as caught:
        tenant.update_texts("en-us", {"nope": None, "title": {"text": ""}, "footer": 1})
    assert sorted(item.item_id or "" for item in caught.value.validation) == [
        "footer",
        "nope",
        "title",
    ]


def test_a_value_without_text_changes_nothing(tenant: Tenant, fixtures: Fixtures) -> None:
    # ``required`` is not the client's to change.
    result = tenant.update_texts("en-us", {"footer": {"required": True}})
    assert result == fixtures.texts["en-us"]


def test_texts_are_per_tenant(tenant: Tenant, other: Tenant, fixtures: Fixtures) -> None:
    tenant.update_texts("en-us", {"title": {"text": "Mine"}})
    assert other.texts("en-us") == fixtures.texts["en-us"]


def test_the_fixture_texts_are_never_changed(tenant: Tenant, fixtures: Fixtures) -> None:
    before = copy.deepcopy(fixtures.texts)
    shown = tenant.update_texts("en-us", {"title": {"text": "Hello"}})
    shown["footer"]["text"] = "edited by the caller"
    tenant.texts("en-us")["title"]["text"] = "edited by the caller"
    assert fixtures.texts == before
    assert tenant.texts("en-us")["footer"] == before["en-us"]["footer"]
    assert tenant.texts("en-us")["title"]["text"] == "Hello"


# -- visible accounts -------------------------------------------------------------------------


def test_default_visible_accounts(tenant: Tenant, contract: ContractCheck) -> None:
    visible = tenant.visible_accounts("gbol")
    assert visible == {"visibleAccounts": ["sales", "fees"]}
    contract("VisibleAccounts", visible)


def test_a_platform_without_defaults_shows_none(tenant: Tenant) -> None:
    assert tenant.visible_accounts("qhyg") == {"visibleAccounts": []}


def test_unknown_platform(tenant: Tenant) -> None:
    with pytest.raises(NotFound, match="zzzz"):
        tenant.visible_accounts("zzzz")
    with pytest.raises(NotFound, match="zzzz"):
        tenant.update_visible_accounts("zzzz", ["x"])


def test_update_and_reset_visible_accounts(tenant: Tenant, contract: ContractCheck) -> None:
    updated = tenant.update_visible_accounts("gbol", ["payments"])
    assert updated == {"visibleAccounts": ["payments"]}
    assert tenant.visible_accounts("gbol") == updated
    contract("VisibleAccounts", updated)
    assert tenant.update_visible_accounts("gbol", []) == {"visibleAccounts": []}
    assert tenant.update_visible_accounts("gbol", None) == {"visibleAccounts": ["sales", "fees"]}


def test_visible_account_names_must_be_strings(tenant: Tenant) -> None:
    with pytest.raises(BadRequest) as caught:
        tenant.update_visible_accounts("gbol", ["ok", 7])  # type: ignore[list-item]
    assert caught.value.validation[0].item_id == "visibleAccounts[1]"
    assert tenant.visible_accounts("gbol") == {"visibleAccounts": ["sales", "fees"]}


def test_visible_accounts_are_per_tenant_and_copies(
    tenant: Tenant, other: Tenant, fixtures: Fixtures
) -> None:
    mine = ["a", "b"]
    tenant.update_visible_accounts("gbol", mine)
    mine.append("c")
    tenant.visible_accounts("gbol")["visibleAccounts"].append("d")
    assert tenant.visible_accounts("gbol") == {"visibleAccounts": ["a", "b"]}
    assert other.visible_accounts("gbol") == {"visibleAccounts": ["sales", "fees"]}
    assert fixtures.visible_accounts["gbol"] == ["sales", "fees"]
