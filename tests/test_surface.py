"""The HTTP path every Codat request takes: routing, auth, body limits, validation, errors."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import yaml
from starlette.testclient import TestClient
from starlette.types import Message

from mockserver.auth import authorization_for, client_id_for
from mockserver.settings import MAX_BODY_BYTES
from tests.conftest import API_KEY
from tests.handlers.support import has_error_keys


def _is_codat_error(response_json: dict[str, object], status: int) -> bool:
    return (
        has_error_keys(response_json)
        and response_json["statusCode"] == status
        and bool(re.fullmatch(r"[0-9a-f]{32}", str(response_json["correlationId"])))
    )


def test_unknown_path_is_a_codat_404(client: TestClient) -> None:
    response = client.get("/no/such/thing")
    assert response.status_code == 404
    assert _is_codat_error(response.json(), 404)


def test_wrong_method_is_405_with_allow(client: TestClient) -> None:
    response = client.delete("/companies")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"
    assert _is_codat_error(response.json(), 405)


def test_missing_or_bad_auth_is_401(client: TestClient) -> None:
    for headers in ({"Authorization": ""}, {"Authorization": "Bearer x"}):
        response = client.get("/companies", headers=headers)
        assert response.status_code == 401
        assert _is_codat_error(response.json(), 401)
        assert response.json()["error"] == "Unauthorized"


def test_each_error_has_a_fresh_correlation_id(client: TestClient) -> None:
    first = client.get("/no/such/thing").json()["correlationId"]
    second = client.get("/no/such/thing").json()["correlationId"]
    assert first != second


def test_body_over_one_mebibyte_is_413_and_changes_nothing(client: TestClient) -> None:
    big = b'{"name": "' + b"a" * MAX_BODY_BYTES + b'"}'
    response = client.post("/companies", content=big, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert _is_codat_error(response.json(), 413)
    assert client.get("/companies").json()["totalResults"] == 0


def test_wrong_content_type_is_415(client: TestClient) -> None:
    response = client.post(
        "/companies",
        content=b"name=x",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 415
    assert _is_codat_error(response.json(), 415)


def test_body_that_is_not_json_is_400(client: TestClient) -> None:
    response = client.post(
        "/companies", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["validation"]["errors"][0]["itemId"] == "body"


def test_validation_errors_name_each_problem(client: TestClient) -> None:
    response = client.get("/companies", params={"page": "0", "pageSize": "9999"})
    assert response.status_code == 400
    items = {e["itemId"] for e in response.json()["validation"]["errors"]}
    assert items == {"query.page", "query.pageSize"}


def test_contract_documents_are_served(client: TestClient) -> None:
    as_yaml = client.get("/openapi.yaml")
    as_json = client.get("/openapi.json")
    assert as_yaml.status_code == as_json.status_code == 200
    assert yaml.safe_load(as_yaml.text) == as_json.json()
    assert (
        len([op for item in as_json.json()["paths"].values() for op in item if op != "parameters"])
        == 22
    )


def test_health_and_whoami(client: TestClient) -> None:
    assert client.get("/_mock/health").json() == {"status": "ok"}
    assert client.get("/_mock/whoami").json() == {"clientId": client_id_for(API_KEY)}
    assert client.get("/_mock/whoami", headers={"Authorization": ""}).status_code == 401


def test_clock_control(client: TestClient) -> None:
    before = client.get("/_mock/clock").json()
    assert before == {"now": "2026-03-02T09:00:00Z", "frozen": True}
    after = client.post("/_mock/clock", json={"advance": 90}).json()
    assert after["now"] == "2026-03-02T09:01:30Z"
    assert client.post("/_mock/clock", json={"set": "2026-04-01T00:00:00Z"}).json()["now"] == (
        "2026-04-01T00:00:00Z"
    )
    bad = client.post("/_mock/clock", json={"advance": -1})
    assert bad.status_code == 400
    assert bad.json()["statusCode"] == 400


# -- a body cut short ------------------------------------------------------------------------


def _send_cut_short(app: Any, method: str, path: str, body: bytes) -> list[Message]:
    """Send ``body`` while announcing 50 bytes more, then disconnect, straight into the ASGI
    app (as uvicorn delivers it when a client closes mid-body); return what the app sent."""
    headers = [
        (b"authorization", authorization_for(API_KEY).encode()),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body) + 50).encode()),
    ]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 4010),
    }
    incoming: list[Message] = [
        {"type": "http.request", "body": body, "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


def test_a_body_cut_short_changes_nothing_and_the_journal_says_so(client: TestClient) -> None:
    sent = _send_cut_short(client.app, "POST", "/companies", b'{"name": "Half"}')
    assert sent == []  # nobody is there to answer
    assert client.get("/companies").json()["totalResults"] == 0
    journal = client.get("/_mock/requests", params={"operationId": "create-company"}).json()
    [entry] = journal["requests"]
    assert (entry["status"], entry["dropped"]) == (None, "client-left")


def test_a_control_body_cut_short_changes_nothing(client: TestClient) -> None:
    before = client.get("/_mock/state").json()
    snapshot = {**before, "tenants": []}
    _send_cut_short(client.app, "PUT", "/_mock/state", json.dumps(snapshot).encode())
    client.post("/companies", json={"name": "Kept"})
    after = client.get("/_mock/state").json()
    assert [c["name"] for t in after["tenants"] for c in t["companies"]] == ["Kept"]
