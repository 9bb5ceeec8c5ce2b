"""Tests of mockserver/control_guard.py: what may reach the control API, through the in-process
app (cross-site requests, non-JSON bodies, foreign host names, the control token, routing
misses), and the refusal to bind beyond loopback without a token."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from mockserver.app import create_app
from mockserver.auth import authorization_for
from mockserver.clock import Clock
from mockserver.control_guard import (
    CROSS_SITE,
    JSON_ONLY,
    LOOPBACK_ONLY,
    NEEDS_TOKEN,
    NO_ROUTE,
    TOKEN_HEADER,
    exposure_problem,
    is_loopback_host,
)
from mockserver.errors import MethodNotAllowed
from mockserver.settings import Settings
from mockserver.spec import Spec
from tests.conftest import API_KEY
from tests.handlers.support import create_company, expect_error, ok

TOKEN = "s3cret-token"
NOW = {"now": "2026-03-02T09:00:00Z", "frozen": True}


def company_names(client: TestClient) -> list[str]:
    return [c["name"] for c in ok(client.get("/companies", params={"pageSize": 5000}))["results"]]


@pytest.fixture
def guarded(spec: Spec, clock: Clock) -> Iterator[TestClient]:
    """The app with a control token, authenticated as API_KEY (the token is not sent)."""
    app = create_app(Settings(seed=7, control_token=TOKEN), clock=clock, spec=spec)
    with TestClient(app, headers={"Authorization": authorization_for(API_KEY)}) as client:
        yield client


# -- cross-site requests -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example"},
        {"Origin": "http://localhost:3000"},  # another port on the same machine
        {"Origin": "null"},  # a sandboxed frame or a file:// page
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
    ],
)
def test_a_cross_site_reset_is_403_and_resets_nothing(
    client: TestClient, headers: dict[str, str]
) -> None:
    create_company(client, "Kept Ltd")
    expect_error(client.post("/_mock/reset", headers=headers), 403, CROSS_SITE)
    assert "Kept Ltd" in company_names(client)


def test_a_cross_site_read_of_the_journal_is_403(client: TestClient) -> None:
    response = client.get("/_mock/requests", headers={"Origin": "http://evil.example"})
    expect_error(response, 403, CROSS_SITE)


def test_a_same_origin_request_passes(client: TestClient) -> None:
    create_company(client, "Gone Ltd")
    headers = {"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"}
    assert ok(client.post("/_mock/reset", headers=headers)) == {"status": "reset"}
    assert "Gone Ltd" not in company_names(client)


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None],
)
def test_a_body_that_is_not_declared_json_is_415_and_changes_nothing(
    client: TestClient, content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type is not None else {}
    response = client.post("/_mock/clock", content=b'{"advance": 60}', headers=headers)
    expect_error(response, 415, JSON_ONLY)
    assert ok(client.get("/_mock/clock")) == NOW


def test_a_webhook_cannot_be_registered_with_a_text_plain_body(client: TestClient) -> None:
    body = b'{"url": "http://127.0.0.1:9/hook"}'
    response = client.post("/_mock/webhooks", content=body, headers={"Content-Type": "text/plain"})
    expect_error(response, 415, JSON_ONLY)
    assert ok(client.get("/_mock/webhooks")) == {"consumers": []}


def test_json_bodies_and_empty_bodies_pass(client: TestClient) -> None:
    for content_type in ("application/json", "application/json; charset=utf-8",
                         "application/merge-patch+json"):  # fmt: skip
        response = client.post(
            "/_mock/clock", content=b'{"advance": 1}', headers={"Content-Type": content_type}
        )
        assert response.status_code == 200, response.text
    assert ok(client.post("/_mock/reset")) == {"status": "reset"}  # no body, no type


# -- host names (DNS rebinding) ------------------------------------------------------------------


@pytest.mark.parametrize("host", ["evil.example", "evil.example:4010", "192.168.1.20:4010"])
def test_a_foreign_host_name_is_403_without_a_token(client: TestClient, host: str) -> None:
    create_company(client, "Kept Ltd")
    expect_error(client.post("/_mock/reset", headers={"Host": host}), 403, LOOPBACK_ONLY)
    expect_error(client.get("/_mock/state", headers={"Host": host}), 403, LOOPBACK_ONLY)
    assert "Kept Ltd" in company_names(client)


@pytest.mark.parametrize(
    "host", ["127.0.0.1:4010", "localhost:4010", "LOCALHOST", "app.localhost", "[::1]:4010"]
)
def test_loopback_host_names_pass(client: TestClient, host: str) -> None:
    assert ok(client.get("/_mock/clock", headers={"Host": host})) == NOW


def test_the_codat_surface_does_not_check_the_host(client: TestClient) -> None:
    response = client.get("/companies", headers={"Host": "evil.example"})
    assert response.status_code == 200


# -- the control token ---------------------------------------------------------------------------


@pytest.mark.parametrize("given", [None, "", "wrong", TOKEN + "x", TOKEN[:-1], TOKEN.upper()])
def test_with_a_token_a_missing_or_wrong_one_is_401(guarded: TestClient, given: str | None) -> None:
    create_company(guarded, "Kept Ltd")
    headers = {TOKEN_HEADER: given} if given is not None else {}
    for method, path in (("GET", "/_mock/state"), ("POST", "/_mock/reset"),
                         ("GET", "/_mock/openapi.json"), ("GET", "/_mock/nowhere")):  # fmt: skip
        response = guarded.request(method, path, headers=headers)
        expect_error(response, 401, NEEDS_TOKEN)
    assert "Kept Ltd" in company_names(guarded)


def test_with_a_token_the_right_one_opens_every_route(guarded: TestClient) -> None:
    create_company(guarded, "Gone Ltd")
    headers = {TOKEN_HEADER: TOKEN}
    assert ok(guarded.post("/_mock/reset", headers=headers)) == {"status": "reset"}
    assert "Gone Ltd" not in company_names(guarded)
    # The token stands in for the host check: a mock bound beyond loopback has other names.
    assert ok(guarded.get("/_mock/clock", headers={**headers, "Host": "ci-runner:4010"})) == NOW
    # It does not stand in for the cross-site checks.
    response = guarded.post("/_mock/reset", headers={**headers, "Origin": "http://evil.example"})
    expect_error(response, 403, CROSS_SITE)


def test_health_needs_no_token(guarded: TestClient) -> None:
    assert ok(guarded.get("/_mock/health")) == {"status": "ok"}


def test_with_a_token_what_is_open_is_open_under_any_host_name(guarded: TestClient) -> None:
    # Bound beyond loopback, the mock is reached by the machine's own names.
    headers = {"Host": "ci-runner:4010"}
    assert ok(guarded.get("/_mock/health", headers=headers)) == {"status": "ok"}
    assert guarded.get("/_mock/ui", headers=headers).status_code == 200
    expect_error(guarded.get("/_mock/state", headers=headers), 401, NEEDS_TOKEN)


def test_the_dashboards_page_shells_need_no_token_but_its_data_does(guarded: TestClient) -> None:
    # A browser cannot send a header when it opens a page: the shells and their static files
    # hold no data and load without the token; every JSON call they make needs it.
    for path in ("/_mock/ui", "/_mock/ui/retries", "/_mock/ui/static/ui.js"):
        assert guarded.get(path).status_code == 200, path
    assert "codat-mock" in guarded.get("/_mock/ui/world").text
    for path in ("/_mock/requests", "/_mock/world", "/_mock/ui/static/../../_mock/state"):
        expect_error(guarded.get(path), 401, NEEDS_TOKEN)
    expect_error(guarded.post("/_mock/ui", json={}), 401, NEEDS_TOKEN)
    expect_error(guarded.get("/_mock/ui/static/nothing.js"), 404, NO_ROUTE)
    # The same-origin check still holds for the shells.
    response = guarded.get("/_mock/ui", headers={"Sec-Fetch-Site": "cross-site"})
    expect_error(response, 403, CROSS_SITE)


def test_the_control_document_states_the_token_and_its_exception(client: TestClient) -> None:
    document = ok(client.get("/_mock/openapi.json"))
    scheme = document["components"]["securitySchemes"]["ControlToken"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", TOKEN_HEADER)
    assert {"ControlToken": []} in document["security"]
    assert document["paths"]["/_mock/health"]["get"]["security"] == []


def test_the_token_stays_out_of_the_settings_repr() -> None:
    assert TOKEN not in repr(Settings(control_token=TOKEN))


# -- routing misses ------------------------------------------------------------------------------


def test_an_unknown_control_route_is_404_in_the_error_shape(client: TestClient) -> None:
    expect_error(client.get("/_mock/nowhere"), 404, NO_ROUTE)
    expect_error(client.post("/_mock/state/extra", json={}), 404, NO_ROUTE)


def test_a_wrong_method_is_405_in_the_error_shape(client: TestClient) -> None:
    response = client.delete("/_mock/reset")
    expect_error(response, 405, MethodNotAllowed.default_message)
    assert response.headers["allow"] == "POST"


# -- binding beyond loopback --------------------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost", "[::1]"])
def test_loopback_binds_need_no_token(host: str) -> None:
    assert is_loopback_host(host)
    assert exposure_problem(host, None) is None


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "10.0.0.1"])
def test_binding_beyond_loopback_without_a_token_is_refused(host: str, spec: Spec) -> None:
    problem = exposure_problem(host, None)
    assert problem is not None and "--control-token" in problem
    assert exposure_problem(host, TOKEN) is None
    with pytest.raises(ValueError, match="--control-token"):
        create_app(Settings(host=host), spec=spec)
    assert create_app(Settings(host=host, control_token=TOKEN), spec=spec) is not None
