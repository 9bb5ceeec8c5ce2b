"""HTTP tests of mockserver/handlers/companies.py: create and list companies, and each
company's sync configuration (get and set)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from starlette.testclient import TestClient

from mockserver.auth import client_id_for
from mockserver.clock import Clock
from mockserver.fixtures import Fixtures
from tests.conftest import API_KEY
from tests.handlers.support import (
    INVALID,
    OVERSIZED_BODY,
    UNKNOWN_ID,
    Rejected,
    assert_rejected_without_change,
    company_not_found,
    create_company,
    create_connection,
    expect_error,
    is_uuid4,
    link_connection,
    ok,
    request_sync,
)

MALFORMED = "Error parsing query - Malformed query."


def _names(client: TestClient, **params: Any) -> list[str]:
    return [c["name"] for c in ok(client.get("/companies", params=params))["results"]]


# -- create-company ------------------------------------------------------------------------


def test_create_company_answers_the_new_company(client: TestClient) -> None:
    company = create_company(client, "Bakery & Co.")
    cid = company["id"]
    assert is_uuid4(cid)
    assert company == {
        "id": cid,
        "name": "Bakery & Co.",
        "redirect": f"https://link.codat.io/company/{cid}",
        "created": "2026-03-02T09:00:00Z",
        "products": ["sync-for-commerce"],
        "tags": {},
        "referenceSubsidiaryCompanies": [],
        "dataConnections": [],
    }
    assert ok(client.get("/companies"))["results"] == [company]


def test_created_is_the_clock_time_and_ids_are_fresh(client: TestClient, clock: Clock) -> None:
    first = create_company(client, "First")
    clock.advance(90.5)
    second = create_company(client, "Second")
    assert first["created"] == "2026-03-02T09:00:00Z"
    assert second["created"] == "2026-03-02T09:01:30Z"
    assert first["id"] != second["id"]


def test_description_and_tags_are_kept_up_to_the_limits(client: TestClient) -> None:
    tags = {f"key-{i}": "v" * 100 for i in range(9)} | {"k" * 27: "x"}
    company = create_company(client, "Tagged", description="Notes here.", tags=tags)
    assert company["description"] == "Notes here."
    assert company["tags"] == tags
    assert ok(client.get("/companies"))["results"][0]["tags"] == tags


def test_every_allowed_character_may_appear_in_a_name(client: TestClient) -> None:
    name = "O'Brien & Sons, Ltd. - Shop @ 5? Yes!\tTwo"
    assert create_company(client, name)["name"] == name


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("Bake (Shop)", "does not match"),
        ("Café", "does not match"),
        ("a/b", "does not match"),
        (123, 'is not of type "string"'),
    ],
)
def test_name_outside_the_allowed_characters_is_400(
    client: TestClient, name: object, fragment: str
) -> None:
    response = client.post("/companies", json={"name": name})
    expect_error(response, 400, INVALID, items=[("body.name", fragment, "contract")])
    assert ok(client.get("/companies"))["totalResults"] == 0


def test_empty_name_breaks_both_length_and_pattern(client: TestClient) -> None:
    expect_error(
        client.post("/companies", json={"name": ""}),
        400,
        INVALID,
        items=[
            ("body.name", "shorter than 1 character", "contract"),
            ("body.name", "does not match", "contract"),
        ],
    )


def test_create_without_a_body_names_body_name(client: TestClient) -> None:
    expect_error(
        client.post("/companies"),
        400,
        INVALID,
        items=[("body.name", "a company name is required", "contract")],
    )


@pytest.mark.parametrize("body", [{}, {"description": "x"}], ids=["empty", "no-name"])
def test_create_with_an_object_lacking_name_names_body_name(
    client: TestClient, body: dict[str, str]
) -> None:
    expect_error(
        client.post("/companies", json=body),
        400,
        INVALID,
        items=[("body.name", '"name" is a required property', "contract")],
    )
    assert ok(client.get("/companies"))["totalResults"] == 0


def test_name_of_only_whitespace_is_400_at_body_name(client: TestClient) -> None:
    expect_error(
        client.post("/companies", json={"name": " \t "}),
        400,
        "A company name must contain at least one letter, digit or allowed symbol.",
        items=[("body.name", "Must not be empty.", None)],
    )
    assert ok(client.get("/companies"))["totalResults"] == 0


@pytest.mark.parametrize(
    ("tags", "item", "fragment"),
    [
        ({f"k{i}": "v" for i in range(11)}, "body.tags", "has more than 10 properties"),
        ({"region": "v" * 101}, "body.tags.region", "is longer than 100 characters"),
        ({"k" * 28: "v"}, "body.tags", "does not match"),
        ({"": "v"}, "body.tags", "does not match"),
        ({"region": 5}, "body.tags.region", 'is not of type "string"'),
    ],
    ids=["eleven-tags", "value-101-chars", "key-28-chars", "empty-key", "value-not-text"],
)
def test_tags_outside_codat_limits_are_400(
    client: TestClient, tags: dict[str, object], item: str, fragment: str
) -> None:
    response = client.post("/companies", json={"name": "Tagged", "tags": tags})
    expect_error(response, 400, INVALID, items=[(item, fragment, "contract")])
    assert ok(client.get("/companies"))["totalResults"] == 0


# -- list-companies ------------------------------------------------------------------------


def test_list_of_no_companies(client: TestClient) -> None:
    assert ok(client.get("/companies")) == {
        "results": [],
        "pageNumber": 1,
        "pageSize": 100,
        "totalResults": 0,
        "_links": {
            "self": {"href": "/companies"},
            "current": {"href": "/companies?page=1&pageSize=100"},
        },
    }


def test_list_pages_with_exact_links(client: TestClient) -> None:
    made = [create_company(client, f"Company {n}")["id"] for n in "ABCDE"]
    pages = [ok(client.get("/companies", params={"page": p, "pageSize": 2})) for p in (1, 2, 3)]
    assert [[c["id"] for c in page["results"]] for page in pages] == [made[:2], made[2:4], made[4:]]
    assert [(p["pageNumber"], p["pageSize"], p["totalResults"]) for p in pages] == [
        (1, 2, 5),
        (2, 2, 5),
        (3, 2, 5),
    ]
    assert pages[0]["_links"] == {
        "self": {"href": "/companies"},
        "current": {"href": "/companies?page=1&pageSize=2"},
        "next": {"href": "/companies?page=2&pageSize=2"},
    }
    assert pages[1]["_links"] == {
        "self": {"href": "/companies"},
        "current": {"href": "/companies?page=2&pageSize=2"},
        "next": {"href": "/companies?page=3&pageSize=2"},
        "previous": {"href": "/companies?page=1&pageSize=2"},
    }
    assert pages[2]["_links"] == {
        "self": {"href": "/companies"},
        "current": {"href": "/companies?page=3&pageSize=2"},
        "previous": {"href": "/companies?page=2&pageSize=2"},
    }


def test_page_past_the_end_is_empty_with_a_way_back(client: TestClient) -> None:
    create_company(client, "Only")
    page = ok(client.get("/companies", params={"page": 3, "pageSize": 1}))
    assert page["results"] == []
    assert page["totalResults"] == 1
    assert page["_links"] == {
        "self": {"href": "/companies"},
        "current": {"href": "/companies?page=3&pageSize=1"},
        "previous": {"href": "/companies?page=2&pageSize=1"},
    }


@pytest.fixture
def five(client: TestClient, clock: Clock) -> dict[str, str]:
    """Five companies a second apart, with assorted tags; returns name -> id."""
    made = {}
    for name, tags in (
        ("Delta Bakes", {"region": "uk", "tier": "gold"}),
        ("alpha Foods", {"region": "us"}),
        ("Charlie Cafe", {"region": "UK"}),
        ("Bravo Bar", {}),
        ("Echo Eats", {"region": "fr", "tier": "gold"}),
    ):
        made[name] = create_company(client, name, tags=tags)["id"]
        clock.advance(1)
    return made


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("name=Bravo Bar", ["Bravo Bar"]),
        ("name=bravo bar", ["Bravo Bar"]),
        ("name!=Bravo Bar", ["Delta Bakes", "alpha Foods", "Charlie Cafe", "Echo Eats"]),
        ("name~ca", ["Charlie Cafe"]),
        ("name~EATS", ["Echo Eats"]),
        ("tags.region=uk", ["Delta Bakes", "Charlie Cafe"]),
        ("{tags.region=uk || tags.region=us} && tags.tier=gold", ["Delta Bakes"]),
        ("tags.region=uk || tags.region=us && tags.tier=gold", ["Delta Bakes", "Charlie Cafe"]),
        ("created>2026-03-02T09:00:02Z", ["Bravo Bar", "Echo Eats"]),
        ("name=Nobody", []),
    ],
)
def test_query_filters_companies(
    client: TestClient, five: dict[str, str], query: str, expected: list[str]
) -> None:
    page = ok(client.get("/companies", params={"query": query}))
    assert [c["name"] for c in page["results"]] == expected
    assert page["totalResults"] == len(expected)


def test_query_on_connection_status(client: TestClient, five: dict[str, str]) -> None:
    create_connection(client, five["Charlie Cafe"], "gbol")
    linked = create_connection(client, five["Echo Eats"], "qhyg")
    link_connection(client, five["Echo Eats"], linked["id"])
    assert _names(client, query="dataConnections.status=PendingAuth") == ["Charlie Cafe"]
    assert _names(client, query="dataConnections.status=Linked") == ["Echo Eats"]
    assert _names(client, query="dataConnections.count=0") == [
        "Delta Bakes",
        "alpha Foods",
        "Bravo Bar",
    ]


def test_links_carry_query_and_order(client: TestClient, five: dict[str, str]) -> None:
    page = ok(
        client.get(
            "/companies",
            params={
                "query": "name~a && tags.tier!=x",
                "orderBy": "-name",
                "page": 2,
                "pageSize": 2,
            },
        )
    )
    assert [c["name"] for c in page["results"]] == ["Charlie Cafe", "Bravo Bar"]
    tail = "pageSize=2&query=name~a%20%26%26%20tags.tier%21%3Dx&orderBy=-name"
    assert page["_links"] == {
        "self": {"href": "/companies"},
        "current": {"href": f"/companies?page=2&{tail}"},
        "next": {"href": f"/companies?page=3&{tail}"},
        "previous": {"href": f"/companies?page=1&{tail}"},
    }


@pytest.mark.parametrize(
    "query",
    ["name", "name=", "=a", "{name=a", "name=a}", "name=a &&", "name=a & b", 'name="a', "name==a"],
)
def test_malformed_query_is_400(client: TestClient, five: dict[str, str], query: str) -> None:
    response = client.get("/companies", params={"query": query})
    expect_error(response, 400, MALFORMED, service="ClientsApi")


@pytest.mark.parametrize("path", ["nope", "dataConnections.bogus", "Name"])
def test_query_on_an_unknown_property_names_it(
    client: TestClient, five: dict[str, str], path: str
) -> None:
    response = client.get("/companies", params={"query": f"{path}=1"})
    expect_error(
        response,
        400,
        f"Error parsing query - Could not resolve property {path} on Company",
        service="ClientsApi",
    )


def test_order_by_name_either_way(client: TestClient, five: dict[str, str]) -> None:
    ascending = ["alpha Foods", "Bravo Bar", "Charlie Cafe", "Delta Bakes", "Echo Eats"]
    assert _names(client, orderBy="name") == ascending
    assert _names(client, orderBy="-name") == ascending[::-1]
    assert _names(client, orderBy="-created") == list(five)[::-1]


def test_order_by_an_unknown_property_names_it(client: TestClient, five: dict[str, str]) -> None:
    expect_error(
        client.get("/companies", params={"orderBy": "-nope"}),
        400,
        "Error parsing query - Could not resolve property nope on Company",
        service="ClientsApi",
    )


def test_page_size_up_to_5000_is_accepted_and_served_as_2000(client: TestClient) -> None:
    made = [create_company(client, f"C{i}")["id"] for i in range(3)]
    page = ok(client.get("/companies", params={"pageSize": 5000}))
    assert [c["id"] for c in page["results"]] == made
    assert page["pageSize"] == 2000
    assert page["_links"]["current"] == {"href": "/companies?page=1&pageSize=2000"}


def test_page_size_5000_serves_pages_of_at_most_2000(client: TestClient) -> None:
    # 2001 companies over HTTP would take seconds; the store's own create is the same call
    # the handler makes, so only the seeding skips HTTP. Every read below is over HTTP.
    tenant = client.app.state.mock.world.tenant(client_id_for(API_KEY))  # type: ignore[attr-defined]
    for i in range(2001):
        tenant.create_company(f"Company {i:04d}")
    first = ok(client.get("/companies", params={"pageSize": 5000}))
    assert len(first["results"]) == 2000
    assert first["results"][-1]["name"] == "Company 1999"
    assert (first["pageSize"], first["totalResults"]) == (2000, 2001)
    assert first["_links"]["next"] == {"href": "/companies?page=2&pageSize=2000"}
    second = ok(client.get("/companies", params={"pageSize": 5000, "page": 2}))
    assert [c["name"] for c in second["results"]] == ["Company 2000"]
    assert "next" not in second["_links"]


@pytest.mark.parametrize(
    ("params", "item", "fragment"),
    [
        ({"pageSize": 5001}, "query.pageSize", "5001 is greater than the maximum of 5000"),
        ({"pageSize": 0}, "query.pageSize", "0 is less than the minimum of 1"),
        ({"page": 0}, "query.page", "0 is less than the minimum of 1"),
        ({"page": -1}, "query.page", "-1 is less than the minimum of 1"),
        ({"page": "abc"}, "query.page", "'abc' is not an integer"),
    ],
)
def test_paging_outside_the_bounds_is_400(
    client: TestClient, params: dict[str, int | str], item: str, fragment: str
) -> None:
    expect_error(
        client.get("/companies", params=params), 400, INVALID, items=[(item, fragment, "contract")]
    )


# -- get-configuration / set-configuration ---------------------------------------------------


def _config_path(company_id: str) -> str:
    return f"/config/companies/{company_id}/sync/commerce"


def _expected_config(seed: Fixtures, company_id: str, **changes: Any) -> dict[str, Any]:
    expected = copy.deepcopy(seed.configuration)
    expected.pop("accountingSoftwareCompanyName", None)
    expected.update({"companyId": company_id, "enable": False, "configured": False, **changes})
    return expected


def test_new_company_shows_the_default_configuration(client: TestClient, seed: Fixtures) -> None:
    cid = create_company(client)["id"]
    config = ok(client.get(_config_path(cid)))
    assert config == _expected_config(seed, cid)
    # Spot checks that do not go through the seed data.
    assert config["schedule"]["startDate"] == "2024-01-01T00:00:00Z"
    assert config["configuration"]["countryCode"] == "GB"
    assert "accountingSoftwareCompanyName" not in config


def test_configuration_names_the_accounting_platform(client: TestClient, seed: Fixtures) -> None:
    cid = create_company(client)["id"]
    create_connection(client, cid, "fztf")
    assert "accountingSoftwareCompanyName" not in ok(client.get(_config_path(cid)))
    create_connection(client, cid, "qhyg")
    xero = create_connection(client, cid, "gbol")
    assert ok(client.get(_config_path(cid)))["accountingSoftwareCompanyName"] == (
        "QuickBooks Online"
    )
    link_connection(client, cid, xero["id"])
    assert ok(client.get(_config_path(cid))) == _expected_config(
        seed, cid, accountingSoftwareCompanyName="Xero"
    )


@pytest.mark.parametrize("body", [None, {}], ids=["empty-post", "empty-object"])
def test_set_configuration_configures_and_enables(
    client: TestClient, seed: Fixtures, body: dict[str, Any] | None
) -> None:
    cid = create_company(client)["id"]
    other = create_company(client, "Untouched")["id"]
    response = (
        client.post(_config_path(cid))
        if body is None
        else client.post(_config_path(cid), json=body)
    )
    expected = _expected_config(seed, cid, enable=True, configured=True)
    assert ok(response) == expected
    assert ok(client.get(_config_path(cid))) == expected
    assert ok(client.get(_config_path(other))) == _expected_config(seed, other)


def test_set_configuration_with_content_is_400(client: TestClient) -> None:
    cid = create_company(client)["id"]
    expect_error(
        client.post(_config_path(cid), json={"enable": True}),
        400,
        INVALID,
        items=[("body", "set-configuration takes no request body", "contract")],
    )
    assert ok(client.get(_config_path(cid)))["configured"] is False


def test_set_configuration_with_a_non_json_body_is_415(client: TestClient) -> None:
    cid = create_company(client)["id"]
    response = client.post(
        _config_path(cid), content=b"enable=true", headers={"Content-Type": "text/plain"}
    )
    expect_error(response, 415, "Unsupported content type 'text/plain'; send application/json.")
    assert ok(client.get(_config_path(cid)))["configured"] is False


def test_set_configuration_is_409_while_a_sync_runs(client: TestClient, clock: Clock) -> None:
    cid = create_company(client)["id"]
    request_sync(client, cid)
    before = ok(client.get(_config_path(cid)))
    clock.advance(29)
    expect_error(
        client.post(_config_path(cid)),
        409,
        f"A sync is in progress for company {cid}; "
        "its configuration can be changed once the sync has finished.",
    )
    assert ok(client.get(_config_path(cid))) == before
    clock.advance(1)  # the sync's 30 seconds are up
    assert ok(client.post(_config_path(cid)))["configured"] is True


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_configuration_of_an_unknown_company_is_404(client: TestClient, method: str) -> None:
    company_not_found(client.request(method, _config_path(UNKNOWN_ID)), UNKNOWN_ID)


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_configuration_of_a_malformed_company_id_is_400(client: TestClient, method: str) -> None:
    expect_error(
        client.request(method, _config_path("not-a-uuid")),
        400,
        INVALID,
        items=[("path.companyId", 'is not a "uuid"', "contract")],
    )


def test_company_ids_are_case_insensitive(client: TestClient) -> None:
    cid = create_company(client)["id"]
    assert ok(client.get(_config_path(cid.upper())))["companyId"] == cid


# -- isolation -------------------------------------------------------------------------------


def test_another_client_sees_none_of_the_companies(
    client: TestClient, other_auth: dict[str, str], populated: dict[str, str]
) -> None:
    cid = populated["company"]
    assert ok(client.get("/companies", headers=other_auth))["totalResults"] == 0
    for method in ("GET", "POST"):
        company_not_found(client.request(method, _config_path(cid), headers=other_auth), cid)
    # And the other way round: the second client's company is not the first client's.
    theirs = create_company(client, "Theirs", headers=other_auth)["id"]
    assert _names(client) == ["Populated Ltd"]
    company_not_found(client.get(_config_path(theirs)), theirs)
    assert ok(client.get(_config_path(cid)))["configured"] is True


# -- bad input never changes state -------------------------------------------------------------

REJECTED = [
    Rejected("create-forbidden-name", "POST", "/companies", 400, json={"name": "a(b)"}),
    Rejected("create-blank-name", "POST", "/companies", 400, json={"name": "  "}),
    Rejected("create-no-body", "POST", "/companies", 400),
    Rejected("create-empty-object", "POST", "/companies", 400, json={}),
    Rejected(
        "create-eleven-tags",
        "POST",
        "/companies",
        400,
        json={"name": "x", "tags": {str(i): "v" for i in range(11)}},
    ),
    Rejected("create-not-json", "POST", "/companies", 400, content=b"{name"),
    Rejected("create-413", "POST", "/companies", 413, content=OVERSIZED_BODY),
    Rejected("create-415", "POST", "/companies", 415, content=b"name=x", content_type="text/plain"),
    Rejected("list-malformed", "GET", "/companies", 400, params={"query": "name="}),
    Rejected("list-unknown-prop", "GET", "/companies", 400, params={"orderBy": "nope"}),
    Rejected("list-page-size", "GET", "/companies", 400, params={"pageSize": 5001}),
    Rejected("config-get-404", "GET", f"/config/companies/{UNKNOWN_ID}/sync/commerce", 404),
    Rejected("config-set-404", "POST", f"/config/companies/{UNKNOWN_ID}/sync/commerce", 404),
    Rejected(
        "config-set-body", "POST", "/config/companies/{company}/sync/commerce", 400, json={"a": 1}
    ),
    Rejected(
        "config-set-413",
        "POST",
        "/config/companies/{company}/sync/commerce",
        413,
        content=OVERSIZED_BODY,
    ),
    Rejected(
        "config-set-415",
        "POST",
        "/config/companies/{company}/sync/commerce",
        415,
        content=b"{}",
        content_type="text/plain",
    ),
]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.label) for c in REJECTED])
def test_rejected_request_changes_nothing(
    client: TestClient, populated: dict[str, str], case: Rejected
) -> None:
    assert_rejected_without_change(client, populated, case)
