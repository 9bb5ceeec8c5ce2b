"""Helpers the HTTP handler tests share: making state through the API, and checking answers.

Everything here goes through the HTTP surface, as a client of the mock would; nothing reaches
into the store. ``world_view`` is the yardstick of "nothing changed": every piece of one
client's state that some GET can show.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from httpx2 import Response  # what starlette.testclient answers with
from starlette.testclient import TestClient

from mockserver.clock import Clock
from mockserver.settings import MAX_BODY_BYTES

#: A well-formed id that names nothing.
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"

#: Platforms whose visible accounts ``world_view`` reads (the tests change only these).
VIEWED_PLATFORMS = ("fztf", "gbol", "qhyg")

#: A JSON body just over the mock's 1 MiB limit (the server answers 413 before parsing it).
OVERSIZED_BODY = b'{"name": "' + b"a" * MAX_BODY_BYTES + b'"}'

#: The message of a 400 for a request the contract rejects.
INVALID = "Error processing request - not valid."
_CORRELATION_ID = re.compile(r"[0-9a-f]{32}")
#: The fields of Codat's ErrorMessage the mock always sends...
ERROR_KEYS = frozenset(
    {"statusCode", "service", "error", "correlationId", "canBeRetried", "detailedErrorCode"}
)
#: ...and the one it sends only when there are validation details (Codat's shape).
VALIDATION_KEY = "validation"


def has_error_keys(body: dict[str, Any]) -> bool:
    """Whether ``body`` carries exactly the ErrorMessage fields (``validation`` optional)."""
    return set(body) - {VALIDATION_KEY} == ERROR_KEYS


_UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")

ValidationExpectation = tuple[str | None, str, str | None]
"""``(itemId, a fragment of the message, validatorName)`` of one expected validation item."""

#: An ``itemId`` in a :data:`ValidationExpectation` that accepts any value (for the checks
#: that leave the itemId to a dedicated test).
ANY_ITEM = "<any itemId>"


def is_uuid4(value: object) -> bool:
    """Whether ``value`` is a lowercase version-4 UUID string."""
    return isinstance(value, str) and _UUID4.fullmatch(value) is not None


def ok(response: Response) -> Any:
    """The JSON body of a 200 answer; fails with the body when the status is anything else."""
    assert response.status_code == 200, response.text
    return response.json()


def expect_error(
    response: Response,
    status: int,
    error: str,
    *,
    service: str = "PublicApi",
    items: list[ValidationExpectation] | None = None,
) -> dict[str, Any]:
    """Check that ``response`` is Codat's ErrorMessage with exactly these values.

    ``items`` lists the validation errors expected, in order; ``None`` means the body carries
    no validation block at all.
    """
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert has_error_keys(body)
    assert body["statusCode"] == status
    assert body["service"] == service
    assert body["error"] == error
    assert _CORRELATION_ID.fullmatch(body["correlationId"])
    assert body["canBeRetried"] == "Unknown"
    assert body["detailedErrorCode"] == 0
    if items is None:
        assert VALIDATION_KEY not in body
    else:
        assert body["validation"]["warnings"] == []
        found = body["validation"]["errors"]
        assert len(found) == len(items), found
        for got, (item_id, fragment, validator) in zip(found, items, strict=True):
            assert item_id == ANY_ITEM or got.get("itemId") == item_id, found
            assert fragment in got["message"], found
            assert got.get("validatorName") == validator, found
    return body


def company_not_found(response: Response, company_id: str) -> None:
    """Codat's 404 for a company the caller cannot see."""
    expect_error(response, 404, f"No company was found with ID {company_id}", service="ClientsApi")


def client_id(client: TestClient, headers: dict[str, str] | None = None) -> str:
    """The clientId the mock derives from the caller's API key."""
    found: str = ok(client.get("/_mock/whoami", headers=headers))["clientId"]
    return found


def create_company(
    client: TestClient,
    name: str = "Acme Trading",
    *,
    headers: dict[str, str] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """Create a company (with any extra body fields) and return the Company object."""
    created: dict[str, Any] = ok(
        client.post("/companies", json={"name": name, **fields}, headers=headers)
    )
    return created


def create_connection(
    client: TestClient,
    company_id: str,
    platform_key: str = "gbol",
    *,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Open a connection to ``platform_key`` for the company and return it."""
    created: dict[str, Any] = ok(
        client.post(
            f"/companies/{company_id}/connections",
            json={"platformKey": platform_key},
            headers=headers,
        )
    )
    return created


def link_connection(
    client: TestClient, company_id: str, connection_id: str, **auth: str
) -> dict[str, Any]:
    """Supply authorization for a connection (which links it) and return it."""
    linked: dict[str, Any] = ok(
        client.put(
            f"/companies/{company_id}/connections/{connection_id}/authorization",
            json=auth or {"apiKey": "secret"},
        )
    )
    return linked


def request_sync(
    client: TestClient, company_id: str, body: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Start a "latest" sync and return its SyncSummary."""
    summary: dict[str, Any] = ok(
        client.post(f"/companies/{company_id}/sync/commerce/latest", json=body or {})
    )
    return summary


def world_view(client: TestClient, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """Everything the GET operations show of one client's state, read at the current instant."""
    companies = ok(client.get("/companies", params={"pageSize": 2000}, headers=headers))
    view: dict[str, Any] = {"companies": companies}
    for company in companies["results"]:
        cid = company["id"]
        view[cid] = {
            "connections": ok(client.get(f"/companies/{cid}/connections", headers=headers)),
            "configuration": ok(
                client.get(f"/config/companies/{cid}/sync/commerce", headers=headers)
            ),
            "syncs": ok(
                client.get(f"/companies/{cid}/sync/commerce/syncs/list/status", headers=headers)
            ),
        }
    for locale in ("en-us", "fr-fr"):
        view[locale] = ok(
            client.get("/sync/commerce/config/ui/text", params={"locale": locale}, headers=headers)
        )
    me = client_id(client, headers)
    for key in VIEWED_PLATFORMS:
        view[key] = ok(
            client.get(f"/clients/{me}/config/ui/accounts/platform/{key}", headers=headers)
        )
    return view


def populate(client: TestClient, clock: Clock) -> dict[str, str]:
    """Give the default client some of every kind of state; return the ids made.

    One company with a linked Xero connection, a pending Shopify one, a completed sync, its
    configuration set, one changed text and a changed list of visible accounts.
    """
    company = create_company(client, "Populated Ltd", tags={"region": "uk"})
    cid = company["id"]
    xero = create_connection(client, cid, "gbol")
    link_connection(client, cid, xero["id"])
    shopify = create_connection(client, cid, "fztf")
    sync = request_sync(client, cid)
    clock.advance(31)
    ok(client.post(f"/config/companies/{cid}/sync/commerce"))
    ok(
        client.patch(
            "/sync/commerce/config/ui/text",
            params={"locale": "en-us"},
            json={"configure-misc-nextButton": {"text": "Onward"}},
        )
    )
    ok(
        client.post(
            "/sync/commerce/config/ui/accounts/platform/gbol",
            json={"visibleAccounts": ["sales-accounts-sales"]},
        )
    )
    return {
        "company": cid,
        "connection": xero["id"],
        "pending": shopify["id"],
        "sync": sync["commerceSyncId"],
        "client": client_id(client),
    }


@dataclass(slots=True, frozen=True)
class Rejected:
    """A request the mock must refuse, with the status it must refuse it with.

    ``path`` and the text values of ``params`` may hold the placeholders ``populate``
    returns ids for: ``{company}``, ``{connection}``, ``{pending}``, ``{sync}`` and
    ``{client}`` (so a literal brace must be doubled).
    """

    label: str
    method: str
    path: str
    status: int
    json: Any = None
    content: bytes | None = None
    content_type: str = "application/json"
    params: dict[str, Any] = field(default_factory=dict)

    def send(self, client: TestClient, ids: dict[str, str]) -> Response:
        """Send the request with ``ids`` filled into the path."""
        path = self.path.format(**ids)
        params = {k: v.format(**ids) if isinstance(v, str) else v for k, v in self.params.items()}
        if self.content is not None:
            return client.request(
                self.method,
                path,
                params=params,
                content=self.content,
                headers={"Content-Type": self.content_type},
            )
        if self.json is not None:
            return client.request(self.method, path, params=params, json=self.json)
        return client.request(self.method, path, params=params)


def assert_rejected_without_change(client: TestClient, ids: dict[str, str], case: Rejected) -> None:
    """Send ``case`` to a populated world: it must be refused and leave the world as it was.

    "As it was" includes the app's random stream: the next company must get ``next_id``, the
    id it would have got had the rejected request never been made.
    """
    before = world_view(client)
    response = case.send(client, ids)
    assert response.status_code == case.status, response.text
    assert response.json()["statusCode"] == case.status
    assert world_view(client) == before
    assert create_company(client, "Probe")["id"] == ids["next_id"]
