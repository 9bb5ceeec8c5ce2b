"""HTTP tests of mockserver/handlers/settings.py: the Sync Flow's texts per locale and the
accounts it shows per platform, each client with its own copy."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from starlette.testclient import TestClient

from mockserver.fixtures import Fixtures
from tests.handlers.support import (
    INVALID,
    OVERSIZED_BODY,
    UNKNOWN_ID,
    Rejected,
    assert_rejected_without_change,
    client_id,
    expect_error,
    ok,
    world_view,
)

TEXT = "/sync/commerce/config/ui/text"
NEXT = "configure-misc-nextButton"
REQUIRED_KEY = "configure-content-sales-accounts-entries-sales"


def _texts(client: TestClient, locale: str = "en-us", **kw: Any) -> Any:
    return ok(client.get(TEXT, params={"locale": locale}, **kw))


def _patch_texts(client: TestClient, body: Any, locale: str = "en-us", **kw: Any) -> Any:
    return client.patch(TEXT, params={"locale": locale}, json=body, **kw)


def _accounts_path(client: TestClient, key: str = "gbol") -> str:
    return f"/clients/{client_id(client)}/config/ui/accounts/platform/{key}"


def _set_accounts(client: TestClient, body: Any, key: str = "gbol", **kw: Any) -> Any:
    return client.post(f"/sync/commerce/config/ui/accounts/platform/{key}", json=body, **kw)


# -- get-config-text-sync-flow / update-config-text-sync-flow ------------------------------------


def test_texts_per_locale_are_the_defaults(client: TestClient, seed: Fixtures) -> None:
    english, french = _texts(client, "en-us"), _texts(client, "fr-fr")
    assert english == seed.texts["en-us"]
    assert french == seed.texts["fr-fr"]
    assert english[NEXT] == {"text": "Next", "required": False}
    assert french[NEXT] == {"text": "Suivant", "required": False}
    assert english[REQUIRED_KEY] == {"text": "Sales", "required": True}


def test_patch_changes_one_key_of_one_locale(client: TestClient, seed: Fixtures) -> None:
    expected = copy.deepcopy(seed.texts["en-us"])
    expected[NEXT] = {"text": "Onward", "required": False}
    assert ok(_patch_texts(client, {NEXT: {"text": "Onward"}})) == expected
    assert _texts(client) == expected
    assert _texts(client, "fr-fr") == seed.texts["fr-fr"]


def test_patch_of_several_keys_and_of_french(client: TestClient) -> None:
    changed = ok(
        _patch_texts(
            client, {NEXT: {"text": "Continuer"}, REQUIRED_KEY: {"text": "Ventes"}}, "fr-fr"
        )
    )
    assert (changed[NEXT]["text"], changed[REQUIRED_KEY]["text"]) == ("Continuer", "Ventes")
    assert _texts(client)[NEXT]["text"] == "Next"


def test_null_text_resets_a_key_to_its_default(client: TestClient, seed: Fixtures) -> None:
    ok(_patch_texts(client, {NEXT: {"text": "Onward"}, REQUIRED_KEY: {"text": "Takings"}}))
    after = ok(_patch_texts(client, {NEXT: {"text": None}}))
    assert after[NEXT] == {"text": "Next", "required": False}
    assert after[REQUIRED_KEY] == {"text": "Takings", "required": True}
    assert _texts(client) == after
    ok(_patch_texts(client, {REQUIRED_KEY: {"text": None}}))
    assert _texts(client) == seed.texts["en-us"]


def test_a_changed_text_can_be_changed_back(client: TestClient, seed: Fixtures) -> None:
    ok(_patch_texts(client, {NEXT: {"text": "Onward"}}))
    assert ok(_patch_texts(client, {NEXT: {"text": "Next"}})) == seed.texts["en-us"]


def test_required_flag_is_not_the_clients_to_change(client: TestClient, seed: Fixtures) -> None:
    assert ok(_patch_texts(client, {NEXT: {"required": True}})) == seed.texts["en-us"]
    assert ok(_patch_texts(client, {})) == seed.texts["en-us"]


def test_unknown_key_is_400_and_nothing_is_applied(client: TestClient, seed: Fixtures) -> None:
    expect_error(
        _patch_texts(client, {NEXT: {"text": "Onward"}, "nope": {"text": "x"}}),
        400,
        "'nope' is not a Sync Flow text key for en-us.",
        items=[("body.nope", "'nope' is not a Sync Flow text key for en-us.", None)],
    )
    assert _texts(client) == seed.texts["en-us"]


@pytest.mark.parametrize("text", ["", "   "])
def test_required_key_cannot_be_emptied(client: TestClient, seed: Fixtures, text: str) -> None:
    message = f"'{REQUIRED_KEY}' is required and cannot be empty."
    expect_error(
        _patch_texts(client, {REQUIRED_KEY: {"text": text}}),
        400,
        message,
        items=[(f"body.{REQUIRED_KEY}", message, None)],
    )
    assert _texts(client) == seed.texts["en-us"]


@pytest.mark.parametrize(
    ("value", "item", "fragment"),
    [
        ({"text": 5}, f"body.{NEXT}.text", "5 is not of types"),
        ("Onward", f"body.{NEXT}", 'is not of type "object"'),
    ],
)
def test_text_of_the_wrong_type_is_400(
    client: TestClient, value: object, item: str, fragment: str
) -> None:
    expect_error(
        _patch_texts(client, {NEXT: value}), 400, INVALID, items=[(item, fragment, "contract")]
    )


@pytest.mark.parametrize("locale", ["de-de", "EN-US", "en", ""])
def test_unsupported_locale_is_400(client: TestClient, locale: str) -> None:
    for response in (
        client.get(TEXT, params={"locale": locale}),
        _patch_texts(client, {NEXT: {"text": "x"}}, locale),
    ):
        expect_error(response, 400, INVALID, items=[("query.locale", "is not one of", "contract")])


def test_locale_is_required(client: TestClient) -> None:
    expect_error(
        client.get(TEXT),
        400,
        INVALID,
        items=[("query.locale", "the query parameter 'locale' is required", "contract")],
    )


# -- get-visible-accounts / update-visible-accounts-sync-flow ------------------------------------


def test_visible_accounts_default_to_every_account(client: TestClient, seed: Fixtures) -> None:
    shown = ok(client.get(_accounts_path(client)))
    assert shown == {"visibleAccounts": seed.visible_accounts["gbol"]}
    assert len(shown["visibleAccounts"]) == 30
    assert shown["visibleAccounts"][:2] == ["sales-accounts-sales", "sales-accounts-refund"]


def test_client_id_in_the_path_is_case_insensitive(client: TestClient) -> None:
    path = _accounts_path(client)
    upper = path.replace(client_id(client), client_id(client).upper())
    assert ok(client.get(upper)) == ok(client.get(path))


def test_another_clients_id_is_404(client: TestClient, other_auth: dict[str, str]) -> None:
    theirs = client_id(client, other_auth)
    assert theirs != client_id(client)
    for cid in (theirs, UNKNOWN_ID):
        expect_error(
            client.get(f"/clients/{cid}/config/ui/accounts/platform/gbol"),
            404,
            f"No client was found with ID {cid}",
        )
    # The other client reads its own with its own id.
    assert ok(
        client.get(_accounts_path(client).replace(client_id(client), theirs), headers=other_auth)
    )


def test_malformed_client_id_or_platform_key_is_400(client: TestClient) -> None:
    expect_error(
        client.get("/clients/abc/config/ui/accounts/platform/gbol"),
        400,
        INVALID,
        items=[("path.clientId", 'is not a "uuid"', "contract")],
    )
    for response in (
        client.get(_accounts_path(client, "GBOL")),
        _set_accounts(client, {"visibleAccounts": []}, "GBOL"),
    ):
        expect_error(
            response, 400, INVALID, items=[("path.platformKey", "does not match", "contract")]
        )


def test_unknown_platform_is_404(client: TestClient) -> None:
    for response in (
        client.get(_accounts_path(client, "zzzz")),
        _set_accounts(client, {"visibleAccounts": ["sales-accounts-sales"]}, "zzzz"),
    ):
        expect_error(response, 404, "No integration was found with key zzzz")


def test_update_replaces_one_platforms_list(client: TestClient, seed: Fixtures) -> None:
    chosen = ["payments-accounts-card", "sales-accounts-sales"]
    assert ok(_set_accounts(client, {"visibleAccounts": chosen})) == {"visibleAccounts": chosen}
    assert ok(client.get(_accounts_path(client))) == {"visibleAccounts": chosen}
    assert ok(client.get(_accounts_path(client, "fztf"))) == {
        "visibleAccounts": seed.visible_accounts["fztf"]
    }
    assert ok(_set_accounts(client, {"visibleAccounts": []})) == {"visibleAccounts": []}
    assert ok(client.get(_accounts_path(client))) == {"visibleAccounts": []}


@pytest.mark.parametrize(
    "body", [{}, {"visibleAccounts": None}, None], ids=["empty-object", "null-list", "no-body"]
)
def test_update_without_a_list_resets_to_the_default(
    client: TestClient, seed: Fixtures, body: dict[str, Any] | None
) -> None:
    ok(_set_accounts(client, {"visibleAccounts": ["sales-accounts-sales"]}))
    path = "/sync/commerce/config/ui/accounts/platform/gbol"
    response = client.post(path) if body is None else client.post(path, json=body)
    default = {"visibleAccounts": seed.visible_accounts["gbol"]}
    assert ok(response) == default
    assert ok(client.get(_accounts_path(client))) == default


def test_account_names_must_be_text(client: TestClient, seed: Fixtures) -> None:
    expect_error(
        _set_accounts(client, {"visibleAccounts": ["sales-accounts-sales", 7]}),
        400,
        INVALID,
        items=[("body.visibleAccounts.1", 'is not of type "string"', "contract")],
    )
    assert ok(client.get(_accounts_path(client))) == {
        "visibleAccounts": seed.visible_accounts["gbol"]
    }


# -- isolation -------------------------------------------------------------------------------


def test_another_client_keeps_its_own_settings(
    client: TestClient, seed: Fixtures, other_auth: dict[str, str], populated: dict[str, str]
) -> None:
    assert _texts(client)[NEXT]["text"] == "Onward"
    assert _texts(client, headers=other_auth) == seed.texts["en-us"]
    theirs = _accounts_path(client).replace(populated["client"], client_id(client, other_auth))
    assert ok(client.get(theirs, headers=other_auth)) == {
        "visibleAccounts": seed.visible_accounts["gbol"]
    }
    # And their changes stay theirs.
    mine = world_view(client)
    ok(_patch_texts(client, {NEXT: {"text": "Theirs"}}, headers=other_auth))
    ok(_set_accounts(client, {"visibleAccounts": []}, headers=other_auth))
    assert world_view(client) == mine


# -- bad input never changes state -------------------------------------------------------------

_ACCOUNTS = "/sync/commerce/config/ui/accounts/platform/gbol"

REJECTED = [
    Rejected(
        "text-unknown-key",
        "PATCH",
        TEXT,
        400,
        params={"locale": "en-us"},
        json={NEXT: {"text": "x"}, "nope": {"text": "y"}},
    ),
    Rejected(
        "text-required-empty",
        "PATCH",
        TEXT,
        400,
        params={"locale": "en-us"},
        json={NEXT: {"text": "x"}, REQUIRED_KEY: {"text": ""}},
    ),
    Rejected(
        "text-bad-locale",
        "PATCH",
        TEXT,
        400,
        params={"locale": "de-de"},
        json={NEXT: {"text": "x"}},
    ),
    Rejected("text-no-locale", "PATCH", TEXT, 400, json={NEXT: {"text": "x"}}),
    Rejected(
        "text-wrong-type", "PATCH", TEXT, 400, params={"locale": "en-us"}, json={NEXT: {"text": 1}}
    ),
    Rejected("text-413", "PATCH", TEXT, 413, params={"locale": "en-us"}, content=OVERSIZED_BODY),
    Rejected(
        "text-415",
        "PATCH",
        TEXT,
        415,
        params={"locale": "en-us"},
        content=b"x",
        content_type="text/plain",
    ),
    Rejected(
        "accounts-get-other-client",
        "GET",
        f"/clients/{UNKNOWN_ID}/config/ui/accounts/platform/gbol",
        404,
    ),
    Rejected(
        "accounts-unknown-platform",
        "POST",
        "/sync/commerce/config/ui/accounts/platform/zzzz",
        404,
        json={"visibleAccounts": []},
    ),
    Rejected("accounts-not-text", "POST", _ACCOUNTS, 400, json={"visibleAccounts": [1]}),
    Rejected("accounts-not-a-list", "POST", _ACCOUNTS, 400, json={"visibleAccounts": "all"}),
    Rejected("accounts-413", "POST", _ACCOUNTS, 413, content=OVERSIZED_BODY),
    Rejected("accounts-415", "POST", _ACCOUNTS, 415, content=b"[]", content_type="text/plain"),
]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.label) for c in REJECTED])
def test_rejected_request_changes_nothing(
    client: TestClient, populated: dict[str, str], case: Rejected
) -> None:
    assert_rejected_without_change(client, populated, case)
