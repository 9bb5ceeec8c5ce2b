from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from mockserver.errors import NotFound
from mockserver.fixtures import Fixtures
from mockserver.store import Catalog, World
from mockserver.store.ids import stable_id

ContractCheck = Callable[[str, Any], None]


def test_lists_every_integration_in_fixture_order(world: World, contract: ContractCheck) -> None:
    listed = world.catalog.list_integrations()
    assert [i["key"] for i in listed] == ["fztf", "zsth", "gbol", "qhyg", "offl", "bare"]
    for item in listed:
        contract("Integration", item)


def test_results_are_copies(world: World, fixtures: Fixtures) -> None:
    world.catalog.list_integrations()[0]["name"] = "changed"
    world.catalog.integration("gbol")["name"] = "changed"
    world.catalog.branding("gbol")["logo"]["full"]["image"]["src"] = "changed"
    assert world.catalog.integration("fztf")["name"] == "Shopify"
    assert world.catalog.integration("gbol")["name"] == "Xero"
    assert world.catalog.branding("gbol") == fixtures.branding["gbol"]


def test_catalog_does_not_share_the_fixture_objects(fixtures: Fixtures) -> None:
    catalog = Catalog(fixtures)
    fixtures.integrations[0]["name"] = "edited after load"
    assert catalog.integration("fztf")["name"] == "Shopify"


def test_unknown_integration_is_not_found(world: World) -> None:
    with pytest.raises(NotFound) as caught:
        world.catalog.integration("zzzz")
    assert caught.value.message == "No integration was found with key zzzz"
    assert caught.value.status == 404


def test_branding_from_the_fixtures(
    world: World, fixtures: Fixtures, contract: ContractCheck
) -> None:
    branding = world.catalog.branding("gbol")
    assert branding == fixtures.branding["gbol"]
    contract("Branding", branding)


def test_branding_is_derived_when_the_fixtures_have_none(
    world: World, contract: ContractCheck
) -> None:
    branding = world.catalog.branding("fztf")
    logo = world.catalog.integration("fztf")["logoUrl"]
    assert branding["logo"]["square"]["image"]["src"] == logo
    assert branding["button"]["hover"]["image"]["alt"] == "Shopify logo"
    assert branding["sourceId"] == world.catalog.integration("fztf")["sourceId"]
    contract("Branding", branding)


def test_branding_of_unknown_platform_is_not_found(world: World) -> None:
    with pytest.raises(NotFound, match="zzzz"):
        world.catalog.branding("zzzz")


def test_platform_fills_ids_the_fixture_left_out(world: World) -> None:
    platform = world.catalog.platform("bare")
    assert platform.integration_id == stable_id("integration", "bare")
    assert platform.source_id == stable_id("source", "bare")
    assert platform.source_type == "Unknown"
    assert platform.enabled is True


def test_platform_keeps_ids_the_fixture_gives(world: World) -> None:
    integration = world.catalog.integration("gbol")
    platform = world.catalog.platform("gbol")
    assert platform.integration_id == integration["integrationId"]
    assert platform.source_id == integration["sourceId"]
    assert platform.source_type == "Accounting"
    assert world.catalog.platform("offl").enabled is False


def test_has(world: World) -> None:
    assert world.catalog.has("gbol")
    assert not world.catalog.has("zzzz")
