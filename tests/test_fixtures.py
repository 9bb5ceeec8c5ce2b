"""Tests of the seed data as shipped (the project's fixtures/ folder) and its loader's
contract checks (mockserver/fixtures.py): what the real fixtures hold, the ``validate``
callback, and the real fixtures validated against openapi.yaml."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest

from mockserver.fixtures import FIXTURE_NAMES, Fixtures, default_directory, load_fixtures
from tests.fixtures_support import load_error, read_yaml

REPO = Path(__file__).resolve().parent.parent
OPENAPI = REPO / "openapi.yaml"


@pytest.fixture(scope="module")
def real() -> Fixtures:
    return load_fixtures()


# --- The real fixtures ------------------------------------------------------------------


def test_default_directory_is_the_repository_fixtures_folder() -> None:
    # In a checkout, mockserver/data/fixtures links to the project's fixtures/ folder.
    assert default_directory().resolve() == (REPO / "fixtures").resolve()
    assert {p.stem for p in default_directory().iterdir()} == set(FIXTURE_NAMES)


def test_real_integrations_cover_both_sides_with_unique_four_letter_keys(real: Fixtures) -> None:
    keys = [i["key"] for i in real.integrations]
    assert len(keys) == len(set(keys))
    assert all(re.fullmatch(r"[a-z]{4}", key) for key in keys)
    by_type = {
        t: [i for i in real.integrations if i["sourceType"] == t]
        for t in ("Commerce", "Accounting")
    }
    assert len(by_type["Commerce"]) >= 5
    assert len(by_type["Accounting"]) >= 5
    assert len(by_type["Commerce"]) + len(by_type["Accounting"]) == len(keys)
    # A few well-known keys from Codat's documentation.
    names = {i["key"]: i["name"] for i in real.integrations}
    assert names["gbol"] == "Xero"
    assert names["qhyg"] == "QuickBooks Online"
    assert names["fztf"] == "Shopify"
    for id_field in ("sourceId", "integrationId"):
        ids = [i[id_field] for i in real.integrations]
        assert len(set(ids)) == len(ids)
        assert all(str(uuid.UUID(value)) == value for value in ids)
    assert all("datatypeFeatures" not in i for i in real.integrations)
    assert all(i["logoUrl"].startswith("https://static.codat.io/") for i in real.integrations)


def test_real_branding_and_visible_accounts_cover_every_integration(real: Fixtures) -> None:
    integrations = {i["key"]: i for i in real.integrations}
    assert set(real.branding) == set(integrations)
    for key, branding in real.branding.items():
        assert branding["sourceId"] == integrations[key]["sourceId"]
        for part, variant in (
            ("logo", "full"),
            ("logo", "square"),
            ("button", "default"),
            ("button", "hover"),
        ):
            image = branding[part][variant]["image"]
            assert image["src"].startswith("https://")
            assert image["alt"]
    accounting = {k for k, i in integrations.items() if i["sourceType"] == "Accounting"}
    assert accounting <= set(real.visible_accounts) <= set(integrations)
    for names in real.visible_accounts.values():
        assert names and len(names) == len(set(names))
        assert "sales-accounts-sales" in names


def test_real_visible_account_lists_are_independent(real: Fixtures) -> None:
    # The YAML file shares one list through an anchor; the loader must copy it per platform.
    lists = list(real.visible_accounts.values())
    assert len({id(names) for names in lists}) == len(lists)


def test_real_texts_exist_in_both_locales_with_the_same_keys(real: Fixtures) -> None:
    assert set(real.texts) == {"en-us", "fr-fr"}
    english, french = real.texts["en-us"], real.texts["fr-fr"]
    assert set(english) == set(french)
    assert len(english) >= 20
    assert english["configure-misc-nextButton"]["text"] == "Next"
    assert french["configure-misc-nextButton"]["text"] == "Suivant"
    translated = [k for k, v in english.items() if v["text"] and v["text"] != french[k]["text"]]
    assert len(translated) > len(english) // 2
    for locale in (english, french):
        for entry in locale.values():
            assert set(entry) == {"text", "required"}
            assert entry["text"] is None or isinstance(entry["text"], str)
            assert isinstance(entry["required"], bool)


def test_real_configuration_is_a_fresh_unconfigured_default(real: Fixtures) -> None:
    config = real.configuration
    assert "companyId" not in config
    assert config["enable"] is False and config["configured"] is False
    assert config["schedule"]["selectedFrequency"] == "Daily"
    assert config["schedule"]["frequencyOptions"] == ["Daily", "Monthly"]
    assert isinstance(config["schedule"]["startDate"], str)
    assert config["configuration"]["countryCode"] == "GB"
    assert config["configuration"]["mapSettings"] == {"outputFormat": "JournalEntry"}
    sales = config["configuration"]["sales"]
    chosen = sales["accounts"]["sales-accounts-sales"]
    options = {o["id"]: o for o in chosen["accountOptions"]}
    assert options[chosen["selectedAccountId"]]["nominalCode"] == "4000"


def test_each_load_returns_fresh_objects() -> None:
    first = load_fixtures()
    first.integrations[0]["name"] = "changed"
    first.configuration["schedule"]["syncHour"] = 99
    second = load_fixtures()
    assert second.integrations[0]["name"] != "changed"
    assert second.configuration["schedule"]["syncHour"] != 99


# --- The contract callback --------------------------------------------------------------


def test_validate_sees_every_object_and_its_problems_are_reported() -> None:
    real = load_fixtures()
    seen: dict[str, int] = {}

    def check(schema: str, value: Any) -> list[str]:
        seen[schema] = seen.get(schema, 0) + 1
        if schema == "Branding" and value["sourceId"] == real.branding["gbol"]["sourceId"]:
            return ["logo.full: something the contract dislikes"]
        if schema == "VisibleAccounts":
            assert set(value) == {"visibleAccounts"}
        return []

    message = load_error(validate=check)
    assert "branding.yaml: branding.gbol: logo.full: something the contract dislikes" in message
    assert len(message.splitlines()) == 1
    locale_entries = sum(len(texts) for texts in real.texts.values())
    assert seen == {
        "Integration": len(real.integrations),
        "Branding": len(real.branding),
        "Configuration": 1,
        "Localization": locale_entries,
        "VisibleAccounts": len(real.visible_accounts),
    }


def test_validate_problems_on_integrations_name_the_entry() -> None:
    def check(schema: str, value: Any) -> list[str]:
        return ["/name: too plain"] if schema == "Integration" and value["key"] == "gbol" else []

    real = load_fixtures()
    index = [i["key"] for i in real.integrations].index("gbol")
    message = load_error(validate=check)
    assert message == f"{_display_of('integrations.yaml')}: integrations[{index}]: /name: too plain"


def _display_of(name: str) -> str:
    path = (default_directory() / name).resolve()
    try:
        return str(path.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


# --- Against the contract ---------------------------------------------------------------


def test_fixtures_are_valid_under_the_contract(real: Fixtures) -> None:
    if not OPENAPI.exists():
        pytest.skip("openapi.yaml is not written yet")
    import jsonschema_rs

    components = read_yaml(OPENAPI)["components"]

    def validator(name: str) -> Any:
        root = {"$ref": f"#/components/schemas/{name}", "components": components}
        return jsonschema_rs.Draft202012Validator(root, validate_formats=True)

    def problems(name: str, value: Any) -> list[str]:
        return [f"{e.instance_path}: {e.message}" for e in validator(name).iter_errors(value)]

    found: dict[str, list[str]] = {}
    for item in real.integrations:
        found[f"integration {item['key']}"] = problems("Integration", item)
    for key, branding in real.branding.items():
        found[f"branding {key}"] = problems("Branding", branding)
    found["configuration"] = problems("Configuration", real.configuration)
    for locale, texts in real.texts.items():
        found[f"texts {locale}"] = problems("LocalizationInfo", texts)
        for key, entry in texts.items():
            found[f"text {locale} {key}"] = problems("Localization", entry)
    for key, names in real.visible_accounts.items():
        found[f"visible {key}"] = problems("VisibleAccounts", {"visibleAccounts": names})
    assert {where: p for where, p in found.items() if p} == {}
    # The check itself can fail: a broken object is caught.
    assert problems("Integration", {**real.integrations[0], "enabled": "yes"})
