"""Tests of mockserver/journal_filters.py: the filters of GET /_mock/requests beyond the
journal's own, and GET /_mock/requests/{seq}, through the in-process app."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from mockserver.auth import client_id_for
from tests.conftest import API_KEY, OTHER_KEY
from tests.handlers.support import create_company, expect_error, ok

INVALID = "Error processing request - not valid."


def seqs(client: TestClient, **params: Any) -> list[int]:
    return [e["seq"] for e in ok(client.get("/_mock/requests", params=params))["requests"]]


@pytest.fixture
def traffic(client: TestClient, other_auth: dict[str, str]) -> dict[str, Any]:
    """Five requests: a create (1), a bad page (2), a faulted list (3), another client's
    list (4) and a list of the company's connections (5)."""
    company = create_company(client, "Filter Ltd")
    assert client.get("/companies", params={"page": 0}).status_code == 400
    ok(client.post("/_mock/faults", json={"operationId": "list-companies", "status": 503}))
    assert client.get("/companies").status_code == 503
    ok(client.delete("/_mock/faults"))
    ok(client.get("/companies", headers=other_auth))
    ok(client.get(f"/companies/{company['id']}/connections"))
    assert seqs(client) == [1, 2, 3, 4, 5]
    return company


def test_by_tenant(client: TestClient, traffic: dict[str, Any]) -> None:
    assert seqs(client, clientId=client_id_for(OTHER_KEY)) == [4]
    assert seqs(client, clientId=client_id_for(API_KEY)) == [1, 2, 3, 5]
    assert seqs(client, clientId="nobody") == []


def test_by_status_class(client: TestClient, traffic: dict[str, Any]) -> None:
    assert seqs(client, statusClass="2xx") == [1, 4, 5]
    assert seqs(client, statusClass="4xx") == [2]
    assert seqs(client, statusClass="5xx") == [3]
    assert seqs(client, statusClass="none") == []


def test_faulted_only_or_never(client: TestClient, traffic: dict[str, Any]) -> None:
    assert seqs(client, faulted="true") == [3]
    assert seqs(client, faulted="false") == [1, 2, 4, 5]


def test_touches_an_id_in_a_path_or_a_body(client: TestClient, traffic: dict[str, Any]) -> None:
    # The create's response body and the read's path hold the id; the lists do not (the
    # faulted one failed, the other client's cannot see the company).
    assert seqs(client, touches=traffic["id"]) == [1, 5]
    assert seqs(client, touches="page=0") == [2]


def test_since_seq_and_limit_for_pollers(client: TestClient, traffic: dict[str, Any]) -> None:
    assert seqs(client, sinceSeq=3) == [4, 5]
    assert seqs(client, sinceSeq=5) == []
    assert seqs(client, limit=2) == [4, 5]
    assert seqs(client, limit=0) == []
    assert seqs(client, limit=2, statusClass="2xx") == [4, 5]
    assert seqs(client, limit=9, sinceSeq=1, faulted="false") == [2, 4, 5]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"statusClass": "2XX"}, "statusClass"),
        ({"statusClass": "6xx"}, "statusClass"),
        ({"faulted": "yes"}, "faulted"),
        ({"sinceSeq": "-1"}, "sinceSeq"),
        ({"limit": "ten"}, "limit"),
        ({"limit": "²"}, "limit"),
    ],
)
def test_a_bad_filter_is_a_400_naming_it(
    client: TestClient, params: dict[str, str], field: str
) -> None:
    response = client.get("/_mock/requests", params=params)
    expect_error(response, 400, INVALID, items=[(field, field, "control")])


def test_one_request_by_its_sequence_number(client: TestClient, traffic: dict[str, Any]) -> None:
    listed = ok(client.get("/_mock/requests"))["requests"]
    assert ok(client.get("/_mock/requests/2")) == listed[1]
    assert ok(client.get("/_mock/requests/2"))["violations"][0]["itemId"] == "query.page"
    for missing in ("6", "0", "x"):
        response = client.get(f"/_mock/requests/{missing}")
        expect_error(response, 404, f"No request {missing} is in the journal.")
