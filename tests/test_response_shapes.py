"""Response shapes through the app: every operation, error bodies, fault rules, the journal.

One journey touches all 22 operations (and a few errors) on a strict app; it runs once per
shape on identical apps (same seed, same frozen clock), so the three runs answer the same
things and differ only in shape.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from mockserver.app import create_app
from mockserver.auth import authorization_for
from mockserver.clock import Clock
from mockserver.render import EXTRA_PROPERTIES, SHAPES, ShapeError
from mockserver.report import build_report, format_report
from mockserver.settings import Settings
from mockserver.spec import Spec
from tests.conftest import API_KEY, T0
from tests.handlers.support import ok

Step = tuple[str, int, Any]  # operationId, status, body


def _client(spec: Spec, shape: str) -> TestClient:
    app = create_app(
        Settings(strict=True, seed=3, responses=shape),  # type: ignore[arg-type]
        clock=Clock(frozen_at=T0),
        spec=spec,
    )
    return TestClient(app, headers={"Authorization": authorization_for(API_KEY)})


def _journey(client: TestClient) -> list[Step]:
    """Call every operation once or more; each answer with the operation it came from."""
    steps: list[Step] = []

    def call(operation_id: str, method: str, path: str, **kwargs: Any) -> Any:
        response = client.request(method, path, **kwargs)
        steps.append((operation_id, response.status_code, response.json()))
        return response.json()

    clock = client.app.state.mock.clock  # type: ignore[attr-defined]
    call("list-integrations", "GET", "/config/integrations")
    call("get-integration-branding", "GET", "/config/integrations/gbol/branding")
    call("get-sync-flow-url", "GET", "/config/sync/commerce/fztf/gbol/start")
    cid = call("create-company", "POST", "/companies", json={"name": "Plain Ltd"})["id"]
    call("list-companies", "GET", "/companies")
    base = f"/companies/{cid}"
    conn = call("create-connection", "POST", f"{base}/connections", json={"platformKey": "gbol"})
    call("list-connections", "GET", f"{base}/connections")
    call(
        "update-connection-authorization",
        "PUT",
        f"{base}/connections/{conn['id']}/authorization",
        json={"apiKey": "k"},
    )
    call(
        "update-connection",
        "PATCH",
        f"{base}/connections/{conn['id']}",
        json={"status": "Unlinked"},
    )
    call("get-configuration", "GET", f"/config/companies/{cid}/sync/commerce")
    call("set-configuration", "POST", f"/config/companies/{cid}/sync/commerce")
    call("get-last-successful-sync", "GET", f"{base}/sync/commerce/syncs/lastSuccessful/status")
    sync = call("request-sync", "POST", f"{base}/sync/commerce/latest", json={})
    call("get-sync-status", "GET", f"/meta/companies/{cid}/sync/commerce/status")
    call("get-latest-sync", "GET", f"{base}/sync/commerce/syncs/latest/status")
    call("get-sync-by-id", "GET", f"{base}/sync/commerce/syncs/{sync['commerceSyncId']}/status")
    call("list-syncs", "GET", f"{base}/sync/commerce/syncs/list/status")
    clock.advance(31)
    call("get-last-successful-sync", "GET", f"{base}/sync/commerce/syncs/lastSuccessful/status")
    call(
        "request-sync-for-date-range",
        "POST",
        f"/meta/companies/{cid}/sync/commerce/historic",
        json={"dateRange": {"start": "2026-03-02T09:00:00Z", "finish": "2026-03-02T10:00:00Z"}},
    )
    call("list-companies", "GET", "/companies")
    call(
        "get-config-text-sync-flow",
        "GET",
        "/sync/commerce/config/ui/text",
        params={"locale": "en-us"},
    )
    call(
        "update-config-text-sync-flow",
        "PATCH",
        "/sync/commerce/config/ui/text",
        params={"locale": "en-us"},
        json={"configure-misc-nextButton": {"text": "Onward"}},
    )
    who = ok(client.get("/_mock/whoami"))["clientId"]
    call("get-visible-accounts", "GET", f"/clients/{who}/config/ui/accounts/platform/gbol")
    call(
        "update-visible-accounts-sync-flow",
        "POST",
        "/sync/commerce/config/ui/accounts/platform/gbol",
        json={"visibleAccounts": ["x"]},
    )
    call("create-company", "POST", "/companies", json={})  # 400 with validation details
    unknown = "00000000-0000-4000-8000-000000000000"
    call("get-configuration", "GET", f"/config/companies/{unknown}/sync/commerce")  # 404
    return steps


@pytest.fixture(scope="module")
def journeys() -> Iterator[dict[str, list[Step]]]:
    spec = Spec.load()
    found = {}
    for shape in SHAPES:
        with _client(spec, shape) as client:
            found[shape] = _journey(client)
    yield found


def _nulls(value: Any, where: str = "") -> list[str]:
    if value is None:
        return [where or "(body)"]
    if isinstance(value, dict):
        return [n for key, item in value.items() for n in _nulls(item, f"{where}.{key}")]
    if isinstance(value, list):
        return [n for i, item in enumerate(value) for n in _nulls(item, f"{where}[{i}]")]
    return []


def _plain(value: Any) -> Any:
    """``value`` without nulls and without the extra shape's properties."""
    if isinstance(value, dict):
        return {
            key: _plain(item)
            for key, item in value.items()
            if item is not None and key not in EXTRA_PROPERTIES
        }
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def test_the_journey_reaches_every_operation_in_every_shape(
    journeys: dict[str, list[Step]], spec: Spec
) -> None:
    for shape, steps in journeys.items():
        assert {op for op, _, _ in steps} == set(spec.operations), shape
        # Strict mode validated every answer: a violation would have been a 500.
        assert [status for _, status, _ in steps if status != 200] == [404, 400, 404], shape


def test_default_answers_carry_no_null_anywhere(journeys: dict[str, list[Step]]) -> None:
    """Codat's shape: no value, no field (the contract has no required null-able field)."""
    found = [f"{op}{where}" for op, _, body in journeys["codat"] for where in _nulls(body)]
    assert found == []


def test_every_shape_is_the_same_answer(journeys: dict[str, list[Step]]) -> None:
    codat = journeys["codat"]
    for shape in ("nulls", "extra"):
        other = journeys[shape]
        assert [(op, status) for op, status, _ in other] == [(op, s) for op, s, _ in codat]
        for (op, _, mine), (_, _, theirs) in zip(other, codat, strict=True):
            assert _plain(mine) == theirs, (shape, op)


def _answers(steps: list[Step], operation_id: str) -> list[Any]:
    return [body for op, _, body in steps if op == operation_id]


def test_nulls_sends_null_for_every_field_with_no_value(journeys: dict[str, list[Step]]) -> None:
    steps = journeys["nulls"]
    company = _answers(steps, "create-company")[0]
    for name in ("description", "lastSync", "createdByUserName", "referenceParentCompany"):
        assert name in company and company[name] is None, name
    connection = _answers(steps, "create-connection")[0]
    assert connection["lastSync"] is None and connection["connectionInfo"] is None
    running = _answers(steps, "get-latest-sync")[0]
    assert running["syncUtc"] is None and running["errorMessage"] is None
    summary = _answers(steps, "request-sync")[0]
    assert summary["syncUtc"] is None
    assert [c["lastSync"] for c in summary["dataConnections"]] == [None]
    not_found = _answers(steps, "get-configuration")[-1]
    assert not_found["statusCode"] == 404 and not_found["validation"] is None
    invalid = _answers(steps, "create-company")[-1]
    assert invalid["validation"]["errors"][0]["validatorName"] is not None
    # A value that is there stays as it was.
    assert _answers(steps, "list-companies")[-1]["results"][0]["lastSync"] is not None


def test_extra_adds_unnamed_properties_to_open_objects_only(
    journeys: dict[str, list[Step]],
) -> None:
    steps = journeys["extra"]
    company = _answers(steps, "create-company")[0]
    assert {k: company[k] for k in EXTRA_PROPERTIES} == EXTRA_PROPERTIES
    assert "mockAddedNote" not in company["tags"]  # a map of the user's own data
    page = _answers(steps, "list-companies")[-1]
    assert "mockAddedNote" in page and "mockAddedNote" in page["_links"]["self"]
    # Connection and the sync status objects say additionalProperties: false.
    assert "mockAddedNote" not in _answers(steps, "create-connection")[0]
    assert "mockAddedNote" not in _answers(steps, "get-latest-sync")[0]
    assert "mockAddedNote" in _answers(steps, "get-configuration")[0]
    assert "mockAddedNote" in _answers(steps, "get-configuration")[-1]  # the error body too


# -- choosing the shape ------------------------------------------------------------------------


def test_a_fault_rule_shapes_the_answers_it_fires_on(client: TestClient) -> None:
    ok(client.post("/companies", json={"name": "Plain Ltd"}))
    rule = ok(
        client.post(
            "/_mock/faults", json={"operationId": "list-companies", "shape": "nulls", "times": 1}
        )
    )
    assert rule["shape"] == "nulls"
    first = ok(client.get("/companies"))["results"][0]
    second = ok(client.get("/companies"))["results"][0]
    assert first["lastSync"] is None and "lastSync" not in second
    entries = ok(client.get("/_mock/requests"))["requests"]
    assert [(e["operationId"], e["shape"], e["faultAction"]) for e in entries] == [
        ("create-company", "codat", None),
        ("list-companies", "nulls", "shape"),
        ("list-companies", "codat", None),
    ]


def test_the_report_counts_the_shapes_of_the_answers(client: TestClient) -> None:
    ok(client.post("/_mock/faults", json={"operationId": "*", "shape": "extra", "every": 2}))
    for _ in range(3):
        ok(client.get("/companies"))
    journal = client.app.state.mock.journal  # type: ignore[attr-defined]
    report = build_report(journal.entries())
    assert report["shapes"] == {"codat": 2, "extra": 1}
    assert report["operations"][0]["shapes"] == {"codat": 2, "extra": 1}
    assert "Shapes: codat 2, extra 1" in format_report(report)


@pytest.mark.parametrize(
    "rule",
    [
        {"operationId": "list-companies", "shape": "flat"},
        {"operationId": "list-companies", "shape": "nulls", "status": 500},
        {"operationId": "list-companies", "shape": "nulls", "when": "after"},
    ],
)
def test_a_bad_shape_rule_is_a_codat_400(client: TestClient, rule: dict[str, Any]) -> None:
    response = client.post("/_mock/faults", json=rule)
    assert response.status_code == 400
    body = response.json()
    assert body["statusCode"] == 400
    assert body["validation"]["errors"][0]["itemId"] == "rule"
    assert ok(client.get("/_mock/faults"))["rules"] == []


def test_an_unknown_server_shape_stops_the_app_from_starting(spec: Spec) -> None:
    with pytest.raises(ShapeError, match="'flat'"):
        create_app(Settings(responses="flat"), spec=spec)  # type: ignore[arg-type]


# -- answers from outside the surface: faults, rate limits, webhooks ---------------------------


def test_fault_and_rate_limit_errors_follow_the_server_shape(spec: Spec) -> None:
    for shape, has_null in (("codat", False), ("nulls", True)):
        with _client(spec, shape) as client:
            ok(client.post("/_mock/faults", json={"operationId": "*", "status": 503, "times": 1}))
            faulted = client.get("/companies")
            ok(client.put("/_mock/rate-limit", json={"enabled": True, "perIpPerMinute": 1}))
            client.get("/companies")
            limited = client.get("/companies")
        assert (faulted.status_code, limited.status_code) == (503, 429)
        for body in (faulted.json(), limited.json()):
            assert ("validation" in body) is has_null, shape
            assert body.get("validation") is None


def test_webhook_bodies_follow_the_server_shape(spec: Spec) -> None:
    from mockserver.webhooks.events import connection_event

    company = {"id": "3f9c1a52-7d4e-4b8a-9c61-2e5d8f0b7a14", "name": "A"}
    connection = {"id": "9b2e4d17-0c3a-4f58-8e6b-51a7c2d9e043", "status": "Linked"}
    body = connection_event(
        "connection.deleted", company, connection, event_id="e", generated="2026-03-02T09:00:00Z"
    )
    for shape in SHAPES:
        parts = create_app(Settings(responses=shape), spec=spec).state.mock  # type: ignore[arg-type]
        render = parts.webhooks.render
        assert (render is None) is (shape == "codat")  # the default needs nothing done
        shaped = body if render is None else render(body)
        payload = shaped["payload"]
        assert ("description" in payload["referenceCompany"]) is (shape == "nulls")
        assert ("lastSync" in payload["connection"]) is (shape == "nulls")
        assert ("mockAddedNote" in shaped) is (shape == "extra")
        assert _plain(shaped) == body
