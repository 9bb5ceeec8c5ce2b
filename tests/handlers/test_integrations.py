"""HTTP tests of mockserver/handlers/integrations.py: the integrations catalogue (paged,
filtered, ordered) and each integration's branding. Both are shared by every client."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from mockserver.fixtures import Fixtures
from tests.handlers.support import UNKNOWN_ID, expect_error, ok

INTEGRATIONS = "/config/integrations"


def test_list_shows_the_whole_catalogue(client: TestClient, seed: Fixtures) -> None:
    page = ok(client.get(INTEGRATIONS))
    assert page["results"] == seed.integrations
    assert (page["pageNumber"], page["pageSize"], page["totalResults"]) == (1, 100, 23)
    assert page["_links"] == {
        "self": {"href": INTEGRATIONS},
        "current": {"href": f"{INTEGRATIONS}?page=1&pageSize=100"},
    }
    xero = next(i for i in page["results"] if i["key"] == "gbol")
    assert (xero["name"], xero["sourceType"], xero["enabled"]) == ("Xero", "Accounting", True)


def test_list_pages(client: TestClient, seed: Fixtures) -> None:
    keys = [i["key"] for i in seed.integrations]
    middle = ok(client.get(INTEGRATIONS, params={"page": 2, "pageSize": 5}))
    assert [i["key"] for i in middle["results"]] == keys[5:10]
    assert middle["_links"] == {
        "self": {"href": INTEGRATIONS},
        "current": {"href": f"{INTEGRATIONS}?page=2&pageSize=5"},
        "next": {"href": f"{INTEGRATIONS}?page=3&pageSize=5"},
        "previous": {"href": f"{INTEGRATIONS}?page=1&pageSize=5"},
    }
    last = ok(client.get(INTEGRATIONS, params={"page": 5, "pageSize": 5}))
    assert [i["key"] for i in last["results"]] == keys[20:]
    assert "next" not in last["_links"]


def test_query_by_source_type(client: TestClient) -> None:
    commerce = ok(client.get(INTEGRATIONS, params={"query": "sourceType=Commerce"}))
    assert commerce["totalResults"] == 12
    assert {i["sourceType"] for i in commerce["results"]} == {"Commerce"}
    assert commerce["results"][0]["key"] == "fztf"
    assert commerce["_links"]["current"] == {
        "href": f"{INTEGRATIONS}?page=1&pageSize=100&query=sourceType%3DCommerce"
    }
    accounting = ok(client.get(INTEGRATIONS, params={"query": "sourceType=Accounting"}))
    assert accounting["totalResults"] == 11
    both = ok(
        client.get(INTEGRATIONS, params={"query": "{name=Xero || name=Shopify} && enabled=true"})
    )
    assert [i["key"] for i in both["results"]] == ["fztf", "gbol"]


def test_order_by_name(client: TestClient, seed: Fixtures) -> None:
    names = [
        i["name"] for i in ok(client.get(INTEGRATIONS, params={"orderBy": "-name"}))["results"]
    ]
    assert names == sorted((i["name"] for i in seed.integrations), key=str.casefold)[::-1]
    assert names[0] == "Zettle"


def test_bad_queries_are_400(client: TestClient) -> None:
    expect_error(
        client.get(INTEGRATIONS, params={"query": "sourceType="}),
        400,
        "Error parsing query - Malformed query.",
        service="ClientsApi",
    )
    expect_error(
        client.get(INTEGRATIONS, params={"query": "colour=red"}),
        400,
        "Error parsing query - Could not resolve property colour on Integration",
        service="ClientsApi",
    )
    expect_error(
        client.get(INTEGRATIONS, params={"pageSize": 5001}),
        400,
        "Error processing request - not valid.",
        items=[("query.pageSize", "greater than the maximum of 5000", "contract")],
    )


def test_branding_of_a_known_platform(client: TestClient, seed: Fixtures) -> None:
    branding = ok(client.get(f"{INTEGRATIONS}/gbol/branding"))
    assert branding == seed.branding["gbol"]
    assert branding["sourceId"] == "a284ba9e-f3ee-5b1b-939a-9ea6524fd491"
    assert branding["logo"]["full"]["image"]["alt"] == "Xero full logo"


def test_every_listed_platform_has_branding(client: TestClient) -> None:
    for integration in ok(client.get(INTEGRATIONS))["results"]:
        branding = ok(client.get(f"{INTEGRATIONS}/{integration['key']}/branding"))
        assert branding["sourceId"] == integration["sourceId"]


def test_branding_of_an_unknown_platform_is_404(client: TestClient) -> None:
    expect_error(
        client.get(f"{INTEGRATIONS}/zzzz/branding"),
        404,
        "No integration was found with key zzzz",
    )


@pytest.mark.parametrize("key", ["GBOL", "gbo", "gbol1", UNKNOWN_ID])
def test_branding_of_a_malformed_key_is_400(client: TestClient, key: str) -> None:
    response = client.get(f"{INTEGRATIONS}/{key}/branding")
    assert response.status_code == 400
    assert {e["itemId"] for e in response.json()["validation"]["errors"]} == {"path.platformKey"}


def test_every_client_sees_the_same_catalogue(
    client: TestClient, other_auth: dict[str, str]
) -> None:
    assert ok(client.get(INTEGRATIONS, headers=other_auth)) == ok(client.get(INTEGRATIONS))
    assert ok(client.get(f"{INTEGRATIONS}/fztf/branding", headers=other_auth)) == ok(
        client.get(f"{INTEGRATIONS}/fztf/branding")
    )
