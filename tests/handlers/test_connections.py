"""HTTP tests of mockserver/handlers/connections.py: create, list and update data
connections, supply their authorization, and start a Sync Flow."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from starlette.testclient import TestClient

from mockserver.fixtures import Fixtures
from tests.handlers.support import (
    ANY_ITEM,
    INVALID,
    OVERSIZED_BODY,
    UNKNOWN_ID,
    Rejected,
    assert_rejected_without_change,
    client_id,
    company_not_found,
    create_company,
    create_connection,
    expect_error,
    is_uuid4,
    link_connection,
    ok,
)

XERO_SOURCE_ID = "a284ba9e-f3ee-5b1b-939a-9ea6524fd491"


def _integration(seed: Fixtures, key: str) -> dict[str, Any]:
    return next(item for item in seed.integrations if item["key"] == key)


def _connections_path(company_id: str) -> str:
    return f"/companies/{company_id}/connections"


def _connection_path(company_id: str, connection_id: str) -> str:
    return f"/companies/{company_id}/connections/{connection_id}"


def _patch(client: TestClient, cid: str, conn: str, status: str, **kw: Any) -> Any:
    return client.patch(_connection_path(cid, conn), json={"status": status}, **kw)


def _not_found(response: Any, connection_id: str) -> None:
    expect_error(response, 404, f"Data connection {connection_id} not found")


# -- create-connection -----------------------------------------------------------------------


def test_create_connection_answers_a_pending_connection(client: TestClient, seed: Fixtures) -> None:
    cid = create_company(client)["id"]
    connection = create_connection(client, cid, "gbol")
    conn = connection["id"]
    assert is_uuid4(conn)
    assert conn != cid
    assert connection == {
        "id": conn,
        "integrationId": _integration(seed, "gbol")["integrationId"],
        "integrationKey": "gbol",
        "sourceId": XERO_SOURCE_ID,
        "sourceType": "Accounting",
        "platformName": "Xero",
        "linkUrl": f"https://link-api.codat.io/companies/{cid}/connections/{conn}/start",
        "status": "PendingAuth",
        "created": "2026-03-02T09:00:00Z",
        "dataConnectionErrors": [],
    }


def test_commerce_connection_carries_its_platform(client: TestClient, seed: Fixtures) -> None:
    cid = create_company(client)["id"]
    shopify = create_connection(client, cid, "fztf")
    expected = _integration(seed, "fztf")
    assert (shopify["integrationKey"], shopify["platformName"], shopify["sourceType"]) == (
        "fztf",
        "Shopify",
        "Commerce",
    )
    assert (shopify["integrationId"], shopify["sourceId"]) == (
        expected["integrationId"],
        expected["sourceId"],
    )


def test_connection_shows_in_the_company_and_the_list(client: TestClient) -> None:
    cid = create_company(client)["id"]
    other = create_company(client, "Other")["id"]
    first = create_connection(client, cid, "gbol")
    second = create_connection(client, cid, "fztf")
    companies = {c["id"]: c for c in ok(client.get("/companies"))["results"]}
    assert companies[cid]["dataConnections"] == [first, second]
    assert companies[other]["dataConnections"] == []
    listed = ok(client.get(_connections_path(cid)))
    assert listed["results"] == [first, second]
    assert ok(client.get(_connections_path(other)))["results"] == []


def test_unknown_platform_key_is_404(client: TestClient) -> None:
    cid = create_company(client)["id"]
    response = client.post(_connections_path(cid), json={"platformKey": "zzzz"})
    expect_error(response, 404, "No integration was found with key zzzz")
    assert ok(client.get(_connections_path(cid)))["totalResults"] == 0


@pytest.mark.parametrize("key", ["GBOL", "gbo", "gbolx"])
def test_malformed_platform_key_is_400(client: TestClient, key: str) -> None:
    cid = create_company(client)["id"]
    response = client.post(_connections_path(cid), json={"platformKey": key})
    assert response.status_code == 400
    assert {e["itemId"] for e in response.json()["validation"]["errors"]} == {"body.platformKey"}
    assert ok(client.get(_connections_path(cid)))["totalResults"] == 0


@pytest.mark.parametrize("body", [None, {}], ids=["no-body", "empty-object"])
def test_missing_platform_key_is_400(client: TestClient, body: dict[str, Any] | None) -> None:
    cid = create_company(client)["id"]
    path = _connections_path(cid)
    response = client.post(path) if body is None else client.post(path, json=body)
    expect_error(
        response,
        400,
        INVALID,
        items=[("body.platformKey", "a platformKey is required", "contract")],
    )


def test_connection_for_an_unknown_company_is_404(client: TestClient) -> None:
    response = client.post(_connections_path(UNKNOWN_ID), json={"platformKey": "gbol"})
    company_not_found(response, UNKNOWN_ID)
    company_not_found(client.get(_connections_path(UNKNOWN_ID)), UNKNOWN_ID)


# -- list-connections ------------------------------------------------------------------------


def test_list_connections_pages_and_filters(client: TestClient) -> None:
    cid = create_company(client)["id"]
    made = [create_connection(client, cid, key) for key in ("gbol", "fztf", "qhyg")]
    link_connection(client, cid, made[1]["id"])
    base = _connections_path(cid)
    page = ok(client.get(base, params={"page": 2, "pageSize": 2}))
    assert [c["id"] for c in page["results"]] == [made[2]["id"]]
    assert page["totalResults"] == 3
    assert page["_links"] == {
        "self": {"href": base},
        "current": {"href": f"{base}?page=2&pageSize=2"},
        "previous": {"href": f"{base}?page=1&pageSize=2"},
    }
    linked = ok(client.get(base, params={"query": "status=Linked"}))
    assert [c["integrationKey"] for c in linked["results"]] == ["fztf"]
    ordered = ok(client.get(base, params={"orderBy": "-platformName"}))
    assert [c["platformName"] for c in ordered["results"]] == [
        "Xero",
        "Shopify",
        "QuickBooks Online",
    ]


def test_list_connections_refuses_bad_queries(client: TestClient) -> None:
    cid = create_company(client)["id"]
    expect_error(
        client.get(_connections_path(cid), params={"query": "status"}),
        400,
        "Error parsing query - Malformed query.",
        service="ClientsApi",
    )
    expect_error(
        client.get(_connections_path(cid), params={"query": "colour=red"}),
        400,
        "Error parsing query - Could not resolve property colour on Connection",
        service="ClientsApi",
    )


# -- update-connection-authorization ------------------------------------------------------------


def test_authorization_links_and_masks_its_values(client: TestClient) -> None:
    cid = create_company(client)["id"]
    pending = create_connection(client, cid, "gbol")
    linked = link_connection(client, cid, pending["id"], token="abc", tenant="t-1")
    assert linked == pending | {
        "status": "Linked",
        "connectionInfo": {"tenant": "********", "token": "********"},
    }
    [shown] = ok(client.get("/companies"))["results"][0]["dataConnections"]
    assert shown == linked


def test_empty_authorization_still_links(client: TestClient) -> None:
    cid = create_company(client)["id"]
    conn = create_connection(client, cid)["id"]
    linked = ok(client.put(f"{_connection_path(cid, conn)}/authorization"))
    assert linked["status"] == "Linked"
    assert "connectionInfo" not in linked


def test_authorization_values_must_be_text(client: TestClient) -> None:
    cid = create_company(client)["id"]
    conn = create_connection(client, cid)["id"]
    response = client.put(f"{_connection_path(cid, conn)}/authorization", json={"token": 5})
    expect_error(
        response, 400, INVALID, items=[("body.token", 'is not of type "string"', "contract")]
    )
    assert ok(client.get(_connections_path(cid)))["results"][0]["status"] == "PendingAuth"


def test_authorization_of_unknown_things_is_404(client: TestClient) -> None:
    cid = create_company(client)["id"]
    _not_found(
        client.put(f"{_connection_path(cid, UNKNOWN_ID)}/authorization", json={}), UNKNOWN_ID
    )
    conn = create_connection(client, cid)["id"]
    company_not_found(
        client.put(f"{_connection_path(UNKNOWN_ID, conn)}/authorization", json={}), UNKNOWN_ID
    )


# -- update-connection -------------------------------------------------------------------------


def test_unlink_only_from_linked(client: TestClient) -> None:
    cid = create_company(client)["id"]
    conn = create_connection(client, cid)["id"]
    expect_error(
        _patch(client, cid, conn, "Unlinked"),
        400,
        f"Data connection {conn} cannot change from PendingAuth to Unlinked: "
        "only a Linked connection can be set to Unlinked.",
        items=[(ANY_ITEM, "Only Linked -> Unlinked is allowed.", None)],
    )
    assert ok(client.get(_connections_path(cid)))["results"][0]["status"] == "PendingAuth"
    link_connection(client, cid, conn)
    unlinked = ok(_patch(client, cid, conn, "Unlinked"))
    assert (unlinked["id"], unlinked["status"]) == (conn, "Unlinked")
    assert ok(client.get(_connections_path(cid)))["results"] == [unlinked]
    # Unlinked is not Linked: a second unlink is refused, but new authorization re-links.
    assert _patch(client, cid, conn, "Unlinked").status_code == 400
    assert link_connection(client, cid, conn)["status"] == "Linked"


@pytest.mark.parametrize("status", ["Linked", "PendingAuth", "Deauthorized"])
def test_other_status_changes_are_400(client: TestClient, status: str) -> None:
    cid = create_company(client)["id"]
    conn = create_connection(client, cid)["id"]
    link_connection(client, cid, conn)
    expect_error(
        _patch(client, cid, conn, status),
        400,
        f"Data connection {conn} cannot change from Linked to {status}: "
        "only a Linked connection can be set to Unlinked.",
        items=[(ANY_ITEM, "Only Linked -> Unlinked is allowed.", None)],
    )
    assert ok(client.get(_connections_path(cid)))["results"][0]["status"] == "Linked"


def test_patch_without_status_changes_nothing(client: TestClient) -> None:
    cid = create_company(client)["id"]
    connection = create_connection(client, cid)
    assert ok(client.patch(_connection_path(cid, connection["id"]), json={})) == connection
    assert ok(client.patch(_connection_path(cid, connection["id"]))) == connection


def test_patch_to_a_status_that_does_not_exist_is_400(client: TestClient) -> None:
    cid = create_company(client)["id"]
    conn = create_connection(client, cid)["id"]
    expect_error(
        _patch(client, cid, conn, "Bogus"),
        400,
        INVALID,
        items=[("body.status", '"Bogus" is not one of', "contract")],
    )


def test_patch_of_unknown_things_is_404(client: TestClient) -> None:
    cid = create_company(client)["id"]
    other = create_company(client, "Other")["id"]
    conn = create_connection(client, other)["id"]
    _not_found(_patch(client, cid, UNKNOWN_ID, "Unlinked"), UNKNOWN_ID)
    # A connection is found only under its own company.
    _not_found(_patch(client, cid, conn, "Unlinked"), conn)
    company_not_found(_patch(client, UNKNOWN_ID, conn, "Unlinked"), UNKNOWN_ID)


_ITEM_REASON = (
    "store validation items carry the bare field name; handlers/{} does not place them "
    "where the value came from (as companies.py and settings.py now do with "
    "ApiError.within), so the itemId does not match the request validator's"
)


def test_refused_status_change_is_reported_at_body_status(client: TestClient) -> None:
    cid = create_company(client)["id"]
    conn = create_connection(client, cid)["id"]
    response = _patch(client, cid, conn, "Unlinked")
    assert [e["itemId"] for e in response.json()["validation"]["errors"]] == ["body.status"]


# -- get-sync-flow-url ---------------------------------------------------------------------------


def _start(
    client: TestClient,
    commerce: str = "fztf",
    accounting: str = "gbol",
    *,
    headers: dict[str, str] | None = None,
    **params: str,
) -> Any:
    path = f"/config/sync/commerce/{commerce}/{accounting}/start"
    return client.get(path, params=params, headers=headers)


def test_sync_flow_url_without_a_merchant(client: TestClient) -> None:
    url = ok(_start(client))["url"]
    me = re.escape(client_id(client))
    assert re.fullmatch(rf"https://sync-flow\.codat\.io/{me}/fztf/gbol/start\?otp=\d{{6}}", url)
    assert ok(client.get("/companies"))["totalResults"] == 0


def test_sync_flow_url_sets_up_the_merchant(client: TestClient) -> None:
    url = ok(_start(client, merchantIdentifier="Bakery & Co"))["url"]
    me = re.escape(client_id(client))
    assert re.fullmatch(
        rf"https://sync-flow\.codat\.io/{me}/fztf/gbol/start"
        r"\?merchantIdentifier=Bakery%20%26%20Co&otp=\d{6}",
        url,
    )
    [company] = ok(client.get("/companies"))["results"]
    assert company["name"] == "Bakery & Co"
    assert [(c["integrationKey"], c["status"]) for c in company["dataConnections"]] == [
        ("fztf", "PendingAuth"),
        ("gbol", "PendingAuth"),
    ]
    # The same merchant again: the same company, no new connections, a fresh passcode.
    again = ok(_start(client, merchantIdentifier="Bakery & Co"))["url"]
    assert again != url
    assert ok(client.get("/companies"))["results"] == [company]


def test_sync_flow_url_finds_a_company_by_id(client: TestClient) -> None:
    cid = create_company(client, "Existing")["id"]
    xero = create_connection(client, cid, "gbol")
    url = ok(_start(client, merchantIdentifier=cid))["url"]
    assert parse_qs(urlsplit(url).query)["merchantIdentifier"] == [cid]
    [company] = ok(client.get("/companies"))["results"]
    assert company["dataConnections"][0] == xero
    assert [c["integrationKey"] for c in company["dataConnections"]] == ["gbol", "fztf"]


def test_sync_flow_url_finds_a_company_by_id_in_any_case(client: TestClient) -> None:
    cid = create_company(client, "Existing")["id"]
    ok(_start(client, merchantIdentifier=cid.upper()))
    assert [c["id"] for c in ok(client.get("/companies"))["results"]] == [cid]


def test_empty_merchant_identifier_names_nobody(client: TestClient) -> None:
    url = ok(_start(client, merchantIdentifier=""))["url"]
    assert "merchantIdentifier" not in url
    assert ok(client.get("/companies"))["totalResults"] == 0


def test_sync_flow_url_carries_the_redirect_url(client: TestClient) -> None:
    me = re.escape(client_id(client))
    back = "https://example.com/b?x=1"
    with_merchant = ok(_start(client, merchantIdentifier="Shop", redirectUrl=back))["url"]
    assert re.fullmatch(
        rf"https://sync-flow\.codat\.io/{me}/fztf/gbol/start\?merchantIdentifier=Shop"
        r"&otp=\d{6}&redirectUrl=https%3A%2F%2Fexample\.com%2Fb%3Fx%3D1",
        with_merchant,
    )
    alone = ok(_start(client, redirectUrl=back))["url"]
    assert parse_qs(urlsplit(alone).query)["redirectUrl"] == [back]
    assert "merchantIdentifier" not in alone


@pytest.mark.parametrize(("commerce", "accounting"), [("zzzz", "gbol"), ("fztf", "zzzz")])
def test_sync_flow_url_with_an_unknown_platform_is_404(
    client: TestClient, commerce: str, accounting: str
) -> None:
    response = _start(client, commerce, accounting, merchantIdentifier="New Shop")
    expect_error(response, 404, "No integration was found with key zzzz")
    assert ok(client.get("/companies"))["totalResults"] == 0


def test_sync_flow_url_with_the_keys_swapped_is_400(client: TestClient) -> None:
    expect_error(
        _start(client, "gbol", "fztf", merchantIdentifier="New Shop"),
        400,
        "gbol is not a commerce integration.",
        items=[
            (ANY_ITEM, "gbol is not a commerce integration.", None),
            (ANY_ITEM, "fztf is not an accounting integration.", None),
        ],
    )
    assert ok(client.get("/companies"))["totalResults"] == 0


def test_merchant_identifier_that_cannot_name_a_company_is_400(client: TestClient) -> None:
    expect_error(
        _start(client, merchantIdentifier="(())"),
        400,
        "The merchant identifier must hold at least one letter, digit or allowed symbol "
        "to name the merchant's company.",
        items=[(ANY_ITEM, "Cannot name a company.", None)],
    )
    assert ok(client.get("/companies"))["totalResults"] == 0


def test_sync_flow_problems_are_reported_where_the_value_came_from(client: TestClient) -> None:
    swapped = _start(client, "gbol", "fztf").json()["validation"]["errors"]
    assert [e["itemId"] for e in swapped] == ["path.commerceKey", "path.accountingKey"]
    unnameable = _start(client, merchantIdentifier="(())").json()["validation"]["errors"]
    assert [e["itemId"] for e in unnameable] == ["query.merchantIdentifier"]


# -- isolation -------------------------------------------------------------------------------


def test_another_client_cannot_reach_the_connections(
    client: TestClient, other_auth: dict[str, str], populated: dict[str, str]
) -> None:
    cid, conn = populated["company"], populated["connection"]
    h = other_auth
    company_not_found(client.get(_connections_path(cid), headers=h), cid)
    company_not_found(
        client.post(_connections_path(cid), json={"platformKey": "fztf"}, headers=h), cid
    )
    company_not_found(_patch(client, cid, conn, "Unlinked", headers=h), cid)
    company_not_found(
        client.put(f"{_connection_path(cid, conn)}/authorization", json={"k": "v"}, headers=h),
        cid,
    )
    # Naming the first client's company as a merchant makes the second client a company of
    # its own, and leaves the first client's company alone.
    before = ok(client.get(_connections_path(cid)))
    ok(_start(client, merchantIdentifier=cid, headers=other_auth))
    [theirs] = ok(client.get("/companies", headers=h))["results"]
    assert theirs["id"] != cid
    assert theirs["name"] == cid
    assert ok(client.get(_connections_path(cid))) == before


# -- bad input never changes state -------------------------------------------------------------

_CONNS = "/companies/{company}/connections"
_CONN = "/companies/{company}/connections/{connection}"

REJECTED = [
    Rejected("create-unknown-key", "POST", _CONNS, 404, json={"platformKey": "zzzz"}),
    Rejected("create-bad-key", "POST", _CONNS, 400, json={"platformKey": "ZZ"}),
    Rejected("create-no-key", "POST", _CONNS, 400, json={}),
    Rejected(
        "create-unknown-company",
        "POST",
        f"/companies/{UNKNOWN_ID}/connections",
        404,
        json={"platformKey": "gbol"},
    ),
    Rejected("create-413", "POST", _CONNS, 413, content=OVERSIZED_BODY),
    Rejected("create-415", "POST", _CONNS, 415, content=b"k=gbol", content_type="text/plain"),
    Rejected("list-unknown-company", "GET", f"/companies/{UNKNOWN_ID}/connections", 404),
    Rejected("list-bad-query", "GET", _CONNS, 400, params={"query": "colour=red"}),
    Rejected(
        "patch-from-pending",
        "PATCH",
        "/companies/{company}/connections/{pending}",
        400,
        json={"status": "Unlinked"},
    ),
    Rejected("patch-to-linked", "PATCH", _CONN, 400, json={"status": "Linked"}),
    Rejected("patch-bogus", "PATCH", _CONN, 400, json={"status": "Bogus"}),
    Rejected(
        "patch-unknown",
        "PATCH",
        f"/companies/{{company}}/connections/{UNKNOWN_ID}",
        404,
        json={"status": "Unlinked"},
    ),
    Rejected("patch-413", "PATCH", _CONN, 413, content=OVERSIZED_BODY),
    Rejected("patch-415", "PATCH", _CONN, 415, content=b"x", content_type="text/plain"),
    Rejected(
        "auth-not-text",
        "PUT",
        "/companies/{company}/connections/{pending}/authorization",
        400,
        json={"token": 1},
    ),
    Rejected(
        "auth-unknown",
        "PUT",
        f"/companies/{{company}}/connections/{UNKNOWN_ID}/authorization",
        404,
        json={"k": "v"},
    ),
    Rejected("auth-413", "PUT", _CONN + "/authorization", 413, content=OVERSIZED_BODY),
    Rejected(
        "auth-415",
        "PUT",
        "/companies/{company}/connections/{pending}/authorization",
        415,
        content=b"k=v",
        content_type="application/x-www-form-urlencoded",
    ),
    Rejected(
        "start-unknown-commerce",
        "GET",
        "/config/sync/commerce/zzzz/gbol/start",
        404,
        params={"merchantIdentifier": "Brand New"},
    ),
    Rejected(
        "start-unknown-accounting",
        "GET",
        "/config/sync/commerce/fztf/zzzz/start",
        404,
        params={"merchantIdentifier": "{company}"},
    ),
    Rejected(
        "start-swapped",
        "GET",
        "/config/sync/commerce/gbol/fztf/start",
        400,
        params={"merchantIdentifier": "Brand New"},
    ),
    Rejected(
        "start-unnameable",
        "GET",
        "/config/sync/commerce/fztf/gbol/start",
        400,
        params={"merchantIdentifier": "(())"},
    ),
]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.label) for c in REJECTED])
def test_rejected_request_changes_nothing(
    client: TestClient, populated: dict[str, str], case: Rejected
) -> None:
    assert_rejected_without_change(client, populated, case)
