"""The SDK suites run once per response shape: proof that each run is in the shape it says."""

from __future__ import annotations

import httpx
import pytest

from mockserver.auth import authorization_for
from mockserver.render import EXTRA_PROPERTIES
from mockserver.server import MockServer
from tests.sdk.support import API_KEY, present, sdk_client


def test_the_sdk_reads_a_company_in_the_shape_under_test(
    mock: MockServer, request: pytest.FixtureRequest
) -> None:
    shape = request.node.callspec.params["mock"]
    with sdk_client(mock, authorization_for(API_KEY)) as sdk:
        company = present(sdk.advanced_controls.create_company(request={"name": "Shaped"}))
        assert company.last_sync is None and company.description is None
    raw = httpx.get(
        f"{mock.url}/companies",
        headers={"Authorization": authorization_for(API_KEY)},
        trust_env=False,
    ).json()["results"][0]
    assert ("lastSync" in raw) is (shape == "nulls")
    assert (set(EXTRA_PROPERTIES) <= set(raw)) is (shape == "extra")
    assert [e.shape for e in mock.components.journal.entries()] == [shape, shape]
