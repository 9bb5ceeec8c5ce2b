"""Bounded input on the Codat surface: nesting depth and string lengths (mockserver.jsonio,
mockserver.store.limits). Each refusal is a 400 naming the field and changes nothing."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from mockserver.jsonio import MAX_DEPTH
from mockserver.store import limits
from tests.handlers.support import (
    INVALID,
    Rejected,
    assert_rejected_without_change,
    create_company,
    expect_error,
)


def nested(depth: int) -> str:
    """A JSON array nested ``depth`` levels deep."""
    return "[" * depth + "]" * depth


DEPTHS = [MAX_DEPTH + 1, 256, 300, 1023]


def _deep_cases() -> list[Rejected]:
    cases = []
    for depth in DEPTHS:
        deep = nested(depth)
        cases += [
            Rejected(
                f"create-tags-{depth}",
                "POST",
                "/companies",
                400,
                content=f'{{"name": "x", "tags": {deep}}}'.encode(),
            ),
            Rejected(
                f"texts-{depth}",
                "PATCH",
                "/sync/commerce/config/ui/text",
                400,
                params={"locale": "en-us"},
                content=f'{{"configure-misc-nextButton": {deep}}}'.encode(),
            ),
            Rejected(
                f"date-range-{depth}",
                "POST",
                "/meta/companies/{company}/sync/commerce/historic",
                400,
                content=f'{{"dateRange": {{"start": {deep}}}}}'.encode(),
            ),
        ]
    return cases


@pytest.mark.parametrize("case", _deep_cases(), ids=lambda case: case.label)
def test_deep_json_in_a_checked_field_is_400_and_changes_nothing(
    client: TestClient, populated: dict[str, str], case: Rejected
) -> None:
    assert_rejected_without_change(client, populated, case)


def test_deep_json_names_the_body_and_the_limit(client: TestClient) -> None:
    response = client.post(
        "/companies",
        content=f'{{"name": "x", "tags": {nested(1023)}}}'.encode(),
        headers={"Content-Type": "application/json"},
    )
    expect_error(response, 400, INVALID, items=[("body", f"deeper than {MAX_DEPTH}", "json")])


def test_json_as_deep_as_the_limit_is_read(client: TestClient) -> None:
    # The limit refuses only what is deeper: at MAX_DEPTH the contract's own checks answer.
    deep = nested(MAX_DEPTH - 1)
    response = client.post(
        "/companies",
        content=f'{{"name": "x", "tags": {deep}}}'.encode(),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["validation"]["errors"][0]["itemId"] == "body.tags"


# -- string lengths ------------------------------------------------------------------------

LONG = {
    "name": "n" * (limits.MAX_COMPANY_NAME + 1),
    "description": "d" * (limits.MAX_DESCRIPTION + 1),
    "text": "t" * (limits.MAX_TEXT + 1),
    "account": "a" * (limits.MAX_ACCOUNT_NAME + 1),
    "key": "k" * (limits.MAX_AUTH_KEY + 1),
}

TOO_LONG = [
    (
        Rejected("company-name", "POST", "/companies", 400, json={"name": LONG["name"]}),
        "body.name",
    ),
    (
        Rejected(
            "company-description",
            "POST",
            "/companies",
            400,
            json={"name": "x", "description": LONG["description"]},
        ),
        "body.description",
    ),
    (
        Rejected(
            "merchant-identifier",
            "GET",
            "/config/sync/commerce/fztf/gbol/start",
            400,
            params={"merchantIdentifier": LONG["name"]},
        ),
        "query.merchantIdentifier",
    ),
    (
        Rejected(
            "sync-flow-text",
            "PATCH",
            "/sync/commerce/config/ui/text",
            400,
            params={"locale": "en-us"},
            json={"configure-misc-nextButton": {"text": LONG["text"]}},
        ),
        "body.configure-misc-nextButton.text",
    ),
    (
        Rejected(
            "visible-account-name",
            "POST",
            "/sync/commerce/config/ui/accounts/platform/gbol",
            400,
            json={"visibleAccounts": ["ok", LONG["account"]]},
        ),
        "body.visibleAccounts[1]",
    ),
    (
        Rejected(
            "visible-account-count",
            "POST",
            "/sync/commerce/config/ui/accounts/platform/gbol",
            400,
            json={"visibleAccounts": ["a"] * (limits.MAX_VISIBLE_ACCOUNTS + 1)},
        ),
        "body.visibleAccounts",
    ),
    (
        Rejected(
            "authorization-key",
            "PUT",
            "/companies/{company}/connections/{connection}/authorization",
            400,
            json={LONG["key"]: "v"},
        ),
        "body." + "k" * 40,
    ),
    (
        Rejected(
            "authorization-count",
            "PUT",
            "/companies/{company}/connections/{connection}/authorization",
            400,
            json={f"k{i}": "v" for i in range(limits.MAX_AUTH_KEYS + 1)},
        ),
        "body",
    ),
]


@pytest.mark.parametrize(("case", "field"), TOO_LONG, ids=lambda c: getattr(c, "label", ""))
def test_an_over_long_value_is_400_naming_the_field_and_changes_nothing(
    client: TestClient, populated: dict[str, str], case: Rejected, field: str
) -> None:
    response = case.send(client, populated)
    assert response.status_code == 400, response.text
    assert [item["itemId"] for item in response.json()["validation"]["errors"]] == [field]
    assert_rejected_without_change(client, populated, case)


def test_values_at_the_bounds_are_kept(client: TestClient) -> None:
    company = create_company(
        client,
        "n" * limits.MAX_COMPANY_NAME,
        description="d" * limits.MAX_DESCRIPTION,
    )
    assert len(company["name"]) == limits.MAX_COMPANY_NAME
    assert len(company["description"]) == limits.MAX_DESCRIPTION


# -- dates within the mock's calendar --------------------------------------------------------

OUT_OF_CALENDAR = [
    ("0001-01-01T00:00:00+01:00", "2020-01-01T00:00:00Z", "body.dateRange.start"),
    ("1899-12-31T23:59:59Z", "2020-01-01T00:00:00Z", "body.dateRange.start"),
    ("2020-01-01T00:00:00Z", "9999-12-31T23:59:59-01:00", "body.dateRange.finish"),
    ("2020-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "body.dateRange.finish"),
]


@pytest.mark.parametrize(("start", "finish", "field"), OUT_OF_CALENDAR)
def test_a_sync_range_outside_the_calendar_is_400_naming_the_end(
    client: TestClient, populated: dict[str, str], start: str, finish: str, field: str
) -> None:
    case = Rejected(
        "date-range",
        "POST",
        "/meta/companies/{company}/sync/commerce/historic",
        400,
        json={"dateRange": {"start": start, "finish": finish}},
    )
    response = case.send(client, populated)
    assert [item["itemId"] for item in response.json()["validation"]["errors"]] == [field]
    assert_rejected_without_change(client, populated, case)


@pytest.mark.parametrize("sync_to", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_a_sync_to_outside_the_calendar_is_400(
    client: TestClient, populated: dict[str, str], sync_to: str
) -> None:
    case = Rejected(
        "sync-to",
        "POST",
        "/companies/{company}/sync/commerce/latest",
        400,
        json={"syncTo": sync_to},
    )
    response = case.send(client, populated)
    assert [item["itemId"] for item in response.json()["validation"]["errors"]] == ["body.syncTo"]
    assert_rejected_without_change(client, populated, case)


def test_a_query_date_past_the_calendar_is_no_server_error(client: TestClient) -> None:
    for query in ("created>0001-01-01T00:00:00+01:00", "created<9999-12-31T23:59:59-01:00"):
        assert client.get("/companies", params={"query": query}).status_code in (200, 400)
