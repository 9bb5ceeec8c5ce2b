"""Bounded requests: headers (431) and URLs (414) in mockserver/request_bounds.py, and the
control API's bodies (413) through mockserver/bodies.py, each in Codat's error shape."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient
from starlette.types import Scope, Send

from mockserver.app import MockApp
from mockserver.exchange import Exchange
from mockserver.resolve import Resolver
from mockserver.settings import (
    MAX_CONTROL_BODY_BYTES,
    MAX_HEADER_BYTES,
    MAX_SNAPSHOT_BYTES,
    MAX_URL_BYTES,
)
from tests.handlers.support import create_company, expect_error, ok


def _header_of(total: int) -> dict[str, str]:
    """One extra header that brings the request's headers to about ``total`` bytes."""
    return {"X-Padding": "p" * total}


@pytest.mark.parametrize("path", ["/companies", "/_mock/health", "/_mock/state"])
def test_headers_over_the_bound_are_431(client: TestClient, path: str) -> None:
    response = client.get(path, headers=_header_of(MAX_HEADER_BYTES))
    expect_error(response, 431, f"The request's headers are larger than {MAX_HEADER_BYTES} bytes.")


class CountingResolver(Resolver):
    """The app's resolver, noting the path of every request it resolves."""

    def __init__(self, resolver: Resolver) -> None:
        super().__init__(resolver.router)
        self.paths: list[str] = []

    def resolve(self, scope: Scope, send: Send | None = None) -> Exchange:
        self.paths.append(scope["path"])
        return super().resolve(scope, send)


def test_an_over_large_request_is_refused_before_anything_resolves_it(
    client: TestClient,
) -> None:
    app = client.app
    assert isinstance(app, MockApp)
    resolver = app.resolver = CountingResolver(app.resolver)
    assert client.get("/companies", headers=_header_of(MAX_HEADER_BYTES)).status_code == 431
    assert client.get("/companies", params={"query": "q" * MAX_URL_BYTES}).status_code == 414
    assert resolver.paths == []
    ok(client.get("/companies"))
    assert resolver.paths == ["/companies"]


def test_headers_under_the_bound_are_served(client: TestClient) -> None:
    ok(client.get("/companies", headers=_header_of(MAX_HEADER_BYTES // 2)))


def test_a_post_with_over_large_headers_changes_nothing(client: TestClient) -> None:
    response = client.post("/companies", json={"name": "Big"}, headers=_header_of(MAX_HEADER_BYTES))
    assert response.status_code == 431
    assert ok(client.get("/companies"))["totalResults"] == 0
    assert ok(client.get("/_mock/requests"))["requests"][-1]["operationId"] == "list-companies"


@pytest.mark.parametrize("path", ["/companies", "/_mock/requests"])
def test_urls_over_the_bound_are_414(client: TestClient, path: str) -> None:
    response = client.get(path, params={"query": "q" * MAX_URL_BYTES})
    expect_error(
        response,
        414,
        f"The request's path and query string are longer than {MAX_URL_BYTES} bytes.",
    )


def test_a_control_body_over_its_bound_is_413(client: TestClient) -> None:
    body = b'{"status": 503, "note": "' + b"n" * MAX_CONTROL_BODY_BYTES + b'"}'
    response = client.post(
        "/_mock/faults", content=body, headers={"Content-Type": "application/json"}
    )
    expect_error(response, 413, f"The request body is larger than {MAX_CONTROL_BODY_BYTES} bytes.")
    assert ok(client.get("/_mock/faults"))["rules"] == []


def test_a_snapshot_may_be_larger_than_other_control_bodies(client: TestClient) -> None:
    create_company(client, "Kept")
    snapshot = client.get("/_mock/state").content
    padded = snapshot[:-1] + b" " * (2 * MAX_CONTROL_BODY_BYTES) + b"}"
    response = client.put(
        "/_mock/state", content=padded, headers={"Content-Type": "application/json"}
    )
    assert ok(response) == ok(client.get("/_mock/state"))
    assert [c["name"] for c in ok(client.get("/companies"))["results"]] == ["Kept"]


def test_a_snapshot_over_its_bound_is_413_and_changes_nothing(client: TestClient) -> None:
    create_company(client, "Kept")
    before = ok(client.get("/_mock/state"))
    padded = b'{"version": 1, "tenants": []' + b" " * MAX_SNAPSHOT_BYTES + b"}"
    response = client.put(
        "/_mock/state", content=padded, headers={"Content-Type": "application/json"}
    )
    expect_error(response, 413, f"The request body is larger than {MAX_SNAPSHOT_BYTES} bytes.")
    assert ok(client.get("/_mock/state")) == before
