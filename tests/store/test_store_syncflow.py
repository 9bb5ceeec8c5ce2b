from __future__ import annotations

import random
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from mockserver.clock import Clock
from mockserver.errors import BadRequest, NotFound
from mockserver.fixtures import Fixtures
from mockserver.store import Tenant, World

ContractCheck = Callable[[str, Any], None]

URL = re.compile(
    r"^https://sync-flow\.codat\.io/client-a/fztf/gbol/start\?"
    r"merchantIdentifier=[^&]+&otp=\d{6}(&redirectUrl=[^&]+)?$"
)


def test_url_shape(tenant: Tenant, contract: ContractCheck) -> None:
    result = tenant.sync_flow_url("fztf", "gbol", "Bramble & Oak")
    assert set(result) == {"url"}
    assert URL.match(result["url"]), result["url"]
    query = parse_qs(urlsplit(result["url"]).query)
    assert query["merchantIdentifier"] == ["Bramble & Oak"]
    assert "redirectUrl" not in query
    contract("SyncFlowUrl", result)


def test_redirect_url_is_encoded(tenant: Tenant) -> None:
    result = tenant.sync_flow_url("fztf", "gbol", "m", "https://app.example/done?x=1&y=2")
    assert URL.match(result["url"]), result["url"]
    assert result["url"].endswith("&redirectUrl=https%3A%2F%2Fapp.example%2Fdone%3Fx%3D1%26y%3D2")
    query = parse_qs(urlsplit(result["url"]).query)
    assert query["redirectUrl"] == ["https://app.example/done?x=1&y=2"]


def test_without_a_merchant_only_the_otp_is_added(tenant: Tenant) -> None:
    result = tenant.sync_flow_url("fztf", "gbol", None)
    assert re.fullmatch(
        r"https://sync-flow\.codat\.io/client-a/fztf/gbol/start\?otp=\d{6}", result["url"]
    )
    assert tenant.list_companies() == []


def test_each_url_gets_a_fresh_otp_and_seeds_repeat(
    clock: Clock, make_fixtures: Callable[..., Fixtures]
) -> None:
    def otps(seed: int) -> list[str]:
        tenant = World(make_fixtures(), clock=clock, rng=random.Random(seed)).tenant("client-a")
        urls = [tenant.sync_flow_url("fztf", "gbol", None)["url"] for _ in range(5)]
        return [parse_qs(urlsplit(u).query)["otp"][0] for u in urls]

    first = otps(3)
    assert len(set(first)) == 5
    assert otps(3) == first
    assert otps(4) != first


@pytest.mark.parametrize(("commerce", "accounting"), [("zzzz", "gbol"), ("fztf", "yyyy")])
def test_unknown_platforms_are_not_found(tenant: Tenant, commerce: str, accounting: str) -> None:
    with pytest.raises(NotFound, match="No integration was found"):
        tenant.sync_flow_url(commerce, accounting, "m")
    assert tenant.list_companies() == []


@pytest.mark.parametrize(
    ("commerce", "accounting", "item"),
    [
        ("gbol", "gbol", "commerceKey"),
        ("fztf", "zsth", "accountingKey"),
        ("offl", "gbol", "commerceKey"),
    ],
)
def test_platforms_of_the_wrong_kind_are_refused(
    tenant: Tenant, commerce: str, accounting: str, item: str
) -> None:
    with pytest.raises(BadRequest) as caught:
        tenant.sync_flow_url(commerce, accounting, "m")
    assert caught.value.validation[0].item_id == item
    assert tenant.list_companies() == []


def test_the_merchant_is_set_up(tenant: Tenant, contract: ContractCheck) -> None:
    tenant.sync_flow_url("fztf", "gbol", "Bramble & Oak")
    (company,) = tenant.list_companies()
    assert company["name"] == "Bramble & Oak"
    assert [(c["integrationKey"], c["status"]) for c in company["dataConnections"]] == [
        ("fztf", "PendingAuth"),
        ("gbol", "PendingAuth"),
    ]
    contract("Company", company)


def test_the_same_merchant_is_reused(tenant: Tenant) -> None:
    tenant.sync_flow_url("fztf", "gbol", "Bramble & Oak")
    tenant.sync_flow_url("fztf", "qhyg", "Bramble & Oak")
    (company,) = tenant.list_companies()
    assert [c["integrationKey"] for c in company["dataConnections"]] == ["fztf", "gbol", "qhyg"]


def test_a_company_id_names_that_company(tenant: Tenant, company_id: str) -> None:
    tenant.sync_flow_url("fztf", "gbol", company_id)
    (company,) = tenant.list_companies()
    assert company["id"] == company_id
    assert len(company["dataConnections"]) == 2


def test_a_merchant_name_is_cleaned_like_any_company_name(tenant: Tenant) -> None:
    tenant.sync_flow_url("fztf", "gbol", "Oak (UK)")
    tenant.sync_flow_url("fztf", "gbol", "Oak (UK)")
    (company,) = tenant.list_companies()
    assert company["name"] == "Oak UK"


def test_the_client_id_is_part_of_the_path(world: World) -> None:
    url = world.tenant("57b6fad9-e3ca-447b-89db-e4ffa21e6ef3").sync_flow_url("fztf", "gbol", None)
    assert url["url"].startswith(
        "https://sync-flow.codat.io/57b6fad9-e3ca-447b-89db-e4ffa21e6ef3/fztf/gbol/start?"
    )


def test_an_empty_merchant_identifier_is_no_merchant(tenant: Tenant) -> None:
    url = tenant.sync_flow_url("fztf", "gbol", "")["url"]
    assert "merchantIdentifier" not in url
    assert tenant.list_companies() == []


def test_a_merchant_identifier_that_cannot_name_a_company(tenant: Tenant) -> None:
    with pytest.raises(BadRequest) as caught:
        tenant.sync_flow_url("fztf", "gbol", "(((")
    assert caught.value.validation[0].item_id == "merchantIdentifier"
    assert tenant.list_companies() == []
