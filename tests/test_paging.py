from __future__ import annotations

import math
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockserver.errors import BadRequest
from mockserver.paging import page_href, paginate

ITEMS = [{"name": f"c{i}"} for i in range(25)]


def links(page: dict[str, Any]) -> dict[str, str]:
    return {rel: link["href"] for rel, link in page["_links"].items()}


def test_first_page() -> None:
    page = paginate(ITEMS, page=1, page_size=10, path="/companies")
    assert page["results"] == ITEMS[:10]
    assert (page["pageNumber"], page["pageSize"], page["totalResults"]) == (1, 10, 25)
    assert links(page) == {
        "self": "/companies",
        "current": "/companies?page=1&pageSize=10",
        "next": "/companies?page=2&pageSize=10",
    }


def test_middle_page() -> None:
    page = paginate(ITEMS, page=2, page_size=10, path="/companies")
    assert page["results"] == ITEMS[10:20]
    assert links(page) == {
        "self": "/companies",
        "current": "/companies?page=2&pageSize=10",
        "next": "/companies?page=3&pageSize=10",
        "previous": "/companies?page=1&pageSize=10",
    }


def test_last_page() -> None:
    page = paginate(ITEMS, page=3, page_size=10, path="/companies")
    assert page["results"] == ITEMS[20:]
    assert links(page) == {
        "self": "/companies",
        "current": "/companies?page=3&pageSize=10",
        "previous": "/companies?page=2&pageSize=10",
    }


def test_exactly_full_last_page_has_no_next() -> None:
    page = paginate(ITEMS[:20], page=2, page_size=10, path="/companies")
    assert "next" not in page["_links"]


def test_codat_documented_sample() -> None:
    page = paginate([{}] * 90, page=5, page_size=20, path="/companies")
    assert len(page["results"]) == 10
    assert links(page) == {
        "self": "/companies",
        "current": "/companies?page=5&pageSize=20",
        "previous": "/companies?page=4&pageSize=20",
    }


def test_page_beyond_the_end_is_empty_but_valid() -> None:
    page = paginate(ITEMS, page=7, page_size=10, path="/companies")
    assert page["results"] == []
    assert (page["pageNumber"], page["totalResults"]) == (7, 25)
    assert links(page) == {
        "self": "/companies",
        "current": "/companies?page=7&pageSize=10",
        "previous": "/companies?page=6&pageSize=10",
    }


def test_empty_collection() -> None:
    page = paginate([], page=1, page_size=100, path="/integrations")
    assert page["results"] == []
    assert page["totalResults"] == 0
    assert set(page["_links"]) == {"self", "current"}


def test_links_carry_encoded_query_and_order_by() -> None:
    query = "dataConnections.status=PendingAuth && name~a b"
    page = paginate(ITEMS, page=2, page_size=5, path="/companies", query=query, order_by="-created")
    assert links(page)["current"] == (
        "/companies?page=2&pageSize=5"
        "&query=dataConnections.status%3DPendingAuth%20%26%26%20name~a%20b&orderBy=-created"
    )
    for rel, expected_page in (("current", "2"), ("next", "3"), ("previous", "1")):
        params = parse_qs(urlsplit(links(page)[rel]).query)
        assert params == {
            "page": [expected_page],
            "pageSize": ["5"],
            "query": [query],
            "orderBy": ["-created"],
        }
    assert links(page)["self"] == "/companies"


def test_blank_query_and_order_by_are_left_out_of_links() -> None:
    assert page_href("/companies", 1, 10, "", None) == "/companies?page=1&pageSize=10"


@pytest.mark.parametrize(("page", "size"), [(0, 10), (-1, 10), (1, 0)])
def test_paging_rejects_non_positive_numbers(page: int, size: int) -> None:
    with pytest.raises(BadRequest):
        paginate(ITEMS, page=page, page_size=size, path="/companies")


@given(st.lists(st.integers(), max_size=60), st.integers(min_value=1, max_value=15))
def test_all_pages_concatenate_to_the_input(values: list[int], size: int) -> None:
    records = [{"value": v} for v in values]
    pages = []
    number = 1
    while True:
        page = paginate(records, page=number, page_size=size, path="/x")
        assert page["totalResults"] == len(records)
        pages.append(page)
        if "next" not in page["_links"]:
            break
        assert page["_links"]["next"]["href"] == f"/x?page={number + 1}&pageSize={size}"
        number += 1
    assert [r for p in pages for r in p["results"]] == records
    assert number == max(1, math.ceil(len(records) / size))
    assert all(len(p["results"]) == size for p in pages[:-1])
