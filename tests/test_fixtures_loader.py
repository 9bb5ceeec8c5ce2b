"""Tests of loading fixture folders other than the shipped one (mockserver/fixtures.py):
overlays merged on top of the base, and bad base or overlay files reported by file and
field, every problem at once."""

from __future__ import annotations

import json
import shutil
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver.fixtures import Fixtures, default_directory, load_fixtures
from tests.fixtures_support import load_error, read_yaml


@pytest.fixture(scope="module")
def real() -> Fixtures:
    return load_fixtures()


@pytest.fixture
def base(tmp_path: Path) -> Path:
    """A private copy of the real fixtures that a test may break."""
    return Path(shutil.copytree(default_directory(), tmp_path / "base"))


@pytest.fixture
def overlay(tmp_path: Path) -> Path:
    path = tmp_path / "overlay"
    path.mkdir()
    return path


def write_yaml(path: Path, data: Any) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def new_integration(key: str, source_type: str = "Commerce") -> dict[str, Any]:
    return {
        "key": key,
        "logoUrl": f"https://static.codat.io/public/officialLogos/Square/{key}.png",
        "name": f"Platform {key}",
        "enabled": True,
        "sourceType": source_type,
        "sourceId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"test-source/{key}")),
        "integrationId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"test-integration/{key}")),
        "isOfflineConnector": False,
        "isBeta": False,
        "dataProvidedBy": "Codat",
    }


# --- Overlays ---------------------------------------------------------------------------


def test_overlay_replaces_and_adds(real: Fixtures, overlay: Path) -> None:
    xero = dict(next(i for i in real.integrations if i["key"] == "gbol"), name="Xero (custom)")
    write_yaml(overlay / "integrations.yaml", [xero, new_integration("zzzz")])
    write_yaml(
        overlay / "branding.yaml",
        {
            "zzzz": {
                "logo": {"square": {"image": {"src": "https://example.com/z.png", "alt": "z"}}}
            },
        },
    )
    write_yaml(overlay / "visible_accounts.yaml", {"zzzz": ["sales-accounts-sales"], "gbol": []})
    write_yaml(
        overlay / "texts.yaml",
        {
            "en-us": {
                "configure-misc-nextButton": {"text": "Continue", "required": False},
                "custom-key": {"text": "Extra", "required": True},
            },
        },
    )
    write_yaml(
        overlay / "configuration.yaml",
        {
            "schedule": {"syncHour": 5},
            "configuration": {"sales": {"syncSales": False}},
        },
    )

    merged = load_fixtures(overlay=overlay)

    keys = [i["key"] for i in merged.integrations]
    assert keys == [i["key"] for i in real.integrations] + ["zzzz"]
    assert merged.integrations[keys.index("gbol")]["name"] == "Xero (custom)"
    # Branding left without a sourceId takes the integration's.
    assert merged.branding["zzzz"]["sourceId"] == new_integration("zzzz")["sourceId"]
    assert merged.branding["gbol"] == real.branding["gbol"]
    assert merged.visible_accounts["zzzz"] == ["sales-accounts-sales"]
    assert merged.visible_accounts["gbol"] == []
    assert merged.visible_accounts["fztf"] == real.visible_accounts["fztf"]
    english = merged.texts["en-us"]
    assert english["configure-misc-nextButton"]["text"] == "Continue"
    assert english["custom-key"] == {"text": "Extra", "required": True}
    assert (
        english["configure-misc-previousButton"]
        == real.texts["en-us"]["configure-misc-previousButton"]
    )
    assert merged.texts["fr-fr"] == real.texts["fr-fr"]
    # Deep merge: the named leaves change, their siblings stay.
    schedule = merged.configuration["schedule"]
    assert schedule["syncHour"] == 5
    assert schedule["timeZone"] == real.configuration["schedule"]["timeZone"]
    sales = merged.configuration["configuration"]["sales"]
    assert sales["syncSales"] is False
    assert sales["accounts"] == real.configuration["configuration"]["sales"]["accounts"]


def test_overlay_may_be_json_and_partial(real: Fixtures, overlay: Path) -> None:
    (overlay / "visible_accounts.json").write_text(json.dumps({"fztf": ["payments-accounts-card"]}))
    merged = load_fixtures(overlay=overlay)
    assert merged.visible_accounts["fztf"] == ["payments-accounts-card"]
    assert merged.integrations == real.integrations
    assert merged.configuration == real.configuration


@settings(max_examples=40, deadline=None)
@given(text=st.one_of(st.none(), st.text(max_size=60)), required=st.booleans())
def test_any_text_survives_a_json_overlay(text: str | None, required: bool) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "texts.json"
        path.write_text(
            json.dumps(
                {"fr-fr": {"configure-misc-nextButton": {"text": text, "required": required}}}
            ),
            encoding="utf-8",
        )
        merged = load_fixtures(overlay=Path(folder))
    assert merged.texts["fr-fr"]["configure-misc-nextButton"] == {
        "text": text,
        "required": required,
    }


@settings(max_examples=30, deadline=None)
@given(hour=st.integers(min_value=-50, max_value=50))
def test_sync_hour_overlay_accepted_exactly_within_a_day(hour: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        write_yaml(Path(folder) / "configuration.yaml", {"schedule": {"syncHour": hour}})
        if 0 <= hour <= 23:
            assert load_fixtures(overlay=Path(folder)).configuration["schedule"]["syncHour"] == hour
        else:
            message = load_error(overlay=Path(folder))
            assert "configuration.yaml: configuration.schedule.syncHour:" in message


# --- Bad fixtures -----------------------------------------------------------------------

Edit = Callable[[Path], None]


def _edit_yaml(name: str, change: Callable[[Any], Any]) -> Edit:
    def edit(directory: Path) -> None:
        path = directory / f"{name}.yaml"
        write_yaml(path, change(read_yaml(path)))

    return edit


def _set_first_integration(field: str, value: Any) -> Edit:
    def change(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        items[0][field] = value
        return items

    return _edit_yaml("integrations", change)


def _drop_first_integration_field(field: str) -> Edit:
    def change(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        del items[0][field]
        return items

    return _edit_yaml("integrations", change)


def _write(filename: str, text: str) -> Edit:
    """Replace a fixture (whatever its suffix) with a file holding ``text``."""

    def edit(directory: Path) -> None:
        stem = filename.split(".")[0]
        for suffix in (".yaml", ".yml", ".json"):
            (directory / f"{stem}{suffix}").unlink(missing_ok=True)
        (directory / filename).write_text(text, encoding="utf-8")

    return edit


def _update(name: str, extra: dict[str, Any]) -> Edit:
    return _edit_yaml(name, lambda data: {**data, **extra})


def _with_branding_source(value: str) -> Edit:
    def change(data: dict[str, Any]) -> dict[str, Any]:
        data["gbol"]["sourceId"] = value
        return data

    return _edit_yaml("branding", change)


def _duplicate_first_integration(directory: Path) -> None:
    path = directory / "integrations.yaml"
    items = read_yaml(path)
    write_yaml(path, [*items, dict(items[0])])


def _second_copy_as_json(directory: Path) -> None:
    data = read_yaml(directory / "texts.yaml")
    (directory / "texts.json").write_text(json.dumps(data), encoding="utf-8")


BAD_CASES: list[tuple[str, Edit, str]] = [
    (
        "broken yaml",
        _write("integrations.yaml", "- key: gbol\n  name: [unclosed\n"),
        "integrations.yaml: integrations: is not valid YAML",
    ),
    (
        "broken json",
        _write("branding.json", '{"gbol": {'),
        "branding.json: branding: is not valid JSON",
    ),
    (
        "empty file",
        _write("texts.yaml", "# nothing here\n"),
        "texts.yaml: texts: the file is empty",
    ),
    (
        "duplicate yaml key",
        _write("visible_accounts.yaml", "gbol: []\ngbol: []\n"),
        "visible_accounts.yaml: visible_accounts: is not valid YAML: found the key 'gbol' twice",
    ),
    (
        "missing key",
        _drop_first_integration_field("key"),
        "integrations.yaml: integrations[0].key: is required",
    ),
    (
        "missing sourceType",
        _drop_first_integration_field("sourceType"),
        "integrations.yaml: integrations[0].sourceType: is required",
    ),
    (
        "wrong type",
        _set_first_integration("enabled", "yes"),
        "integrations.yaml: integrations[0].enabled: must be true or false",
    ),
    (
        "null where not nullable",
        _set_first_integration("name", None),
        "integrations.yaml: integrations[0].name: must be a non-empty string",
    ),
    (
        "bad platform key",
        _set_first_integration("key", "Shop"),
        "integrations.yaml: integrations[0].key: must be four lowercase letters",
    ),
    (
        "five letters",
        _set_first_integration("key", "shopi"),
        "integrations.yaml: integrations[0].key: must be four lowercase letters",
    ),
    (
        "bad source type",
        _set_first_integration("sourceType", "Banking"),
        "integrations.yaml: integrations[0].sourceType: must be one of Accounting, Commerce",
    ),
    (
        "bad uuid",
        _set_first_integration("integrationId", "not-a-uuid"),
        "integrations.yaml: integrations[0].integrationId: must be a UUID string",
    ),
    (
        "bad url",
        _set_first_integration("logoUrl", "logo.png"),
        "integrations.yaml: integrations[0].logoUrl: must be an http(s) URL",
    ),
    (
        "unknown field",
        _set_first_integration("isbeta", True),
        "integrations.yaml: integrations[0].isbeta: unknown field",
    ),
    (
        "duplicate key",
        _duplicate_first_integration,
        "integrations.yaml: integrations[23].key: 'fztf' is already used by integrations[0]",
    ),
    (
        "unknown platform in branding",
        _update("branding", {"abcd": {}}),
        "branding.yaml: branding.abcd: no integration has this key",
    ),
    (
        "branding key format",
        _update("branding", {"ABCD": {}}),
        "branding.yaml: branding.ABCD: the key must be a platform key",
    ),
    (
        "branding source mismatch",
        _with_branding_source(str(uuid.UUID(int=1))),
        "branding.yaml: branding.gbol.sourceId: must equal integration gbol's sourceId",
    ),
    (
        "unknown platform in visible accounts",
        _update("visible_accounts", {"abcd": ["x"]}),
        "visible_accounts.yaml: visible_accounts.abcd: no integration has this key",
    ),
    (
        "visible accounts not a list",
        _update("visible_accounts", {"gbol": "sales"}),
        "visible_accounts.yaml: visible_accounts.gbol: must be a list",
    ),
    (
        "bad locale",
        _update("texts", {"de-de": {}}),
        "texts.yaml: texts.de-de: the key must be a locale (en-us or fr-fr)",
    ),
    (
        "text entry without required",
        _update("texts", {"en-us": {"k": {"text": "x"}}}),
        "texts.yaml: texts.en-us.k.required: is required",
    ),
    (
        "companyId in configuration",
        _update("configuration", {"companyId": str(uuid.UUID(int=2))}),
        "configuration.yaml: configuration.companyId: must be left out",
    ),
    (
        "bad frequency",
        _update("configuration", {"schedule": {"selectedFrequency": "Weekly"}}),
        "configuration.schedule.selectedFrequency: must be one of Daily, Monthly",
    ),
    (
        "closed nested object",
        _update("configuration", {"configuration": {"fees": {"extra": 1}}}),
        "configuration.yaml: configuration.configuration.fees.extra: unknown field",
    ),
    (
        "unquoted timestamp",
        _write("configuration.yaml", "schedule:\n  startDate: 2024-01-01T00:00:00Z\n"),
        "configuration.yaml: configuration.schedule.startDate: YAML read this as a date or time",
    ),
    (
        "integer key",
        _write("visible_accounts.yaml", "1234: []\n"),
        "visible_accounts.yaml: visible_accounts: the key 1234 must be a string",
    ),
    (
        "integrations not a list",
        _write("integrations.yaml", "gbol: {}\n"),
        "integrations.yaml: integrations: must be a list of integrations",
    ),
    (
        "two files for one fixture",
        _second_copy_as_json,
        "texts: found in more than one file (texts.yaml, texts.json); keep one",
    ),
    (
        "stray file",
        _write("integration.yaml", "[]\n"),
        "integration.yaml: integration: is not a fixture file",
    ),
]


@pytest.mark.parametrize(
    ("edit", "expected"), [(e, x) for _, e, x in BAD_CASES], ids=[name for name, _, _ in BAD_CASES]
)
def test_bad_base_fixture_names_file_and_field(base: Path, edit: Edit, expected: str) -> None:
    edit(base)
    assert expected in load_error(base)


def test_missing_base_file_is_reported(base: Path) -> None:
    (base / "branding.yaml").unlink()
    assert "branding: missing: expected branding.yaml, .yml or .json" in load_error(base)


def test_missing_overlay_file_is_fine_but_missing_overlay_directory_is_not(
    real: Fixtures, tmp_path: Path
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert load_fixtures(overlay=empty) == real
    assert "does not exist or is not a directory" in load_error(overlay=tmp_path / "nowhere")


def test_bad_overlay_is_blamed_on_the_overlay_file(overlay: Path) -> None:
    write_yaml(overlay / "integrations.yaml", [{**new_integration("zzzz"), "enabled": "no"}])
    message = load_error(overlay=overlay)
    assert (
        f"{overlay.name}/integrations.yaml: integrations[0].enabled: must be true or false"
        in message
    )
    assert "fixtures/integrations.yaml" not in message


def test_overlay_reusing_an_id_is_reported(real: Fixtures, overlay: Path) -> None:
    clash = {**new_integration("zzzz"), "sourceId": real.integrations[0]["sourceId"]}
    write_yaml(overlay / "integrations.yaml", [clash])
    message = load_error(overlay=overlay)
    first = real.integrations[0]["key"]
    expected = f"{clash['sourceId']} is also the sourceId of integration {first}"
    assert f"integrations.yaml: integrations[0].sourceId: {expected}" in message


def test_every_problem_is_reported_at_once(base: Path) -> None:
    _set_first_integration("enabled", "yes")(base)
    _update("texts", {"xx-yy": {}})(base)
    message = load_error(base)
    assert "integrations[0].enabled" in message
    assert "texts.xx-yy" in message
    assert len(message.splitlines()) == 2
