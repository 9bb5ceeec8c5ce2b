"""Tests of the control API's fault rules and rate limits (``/_mock/faults``,
``/_mock/rate-limit``): their answers and their refusals, through the in-process app."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from mockserver.auth import client_id_for
from tests.conftest import API_KEY
from tests.control_support import DEFAULT_LIMITS, invalid
from tests.handlers.support import (
    expect_error,
    ok,
)

# -- faults ------------------------------------------------------------------------------------


def test_faults_start_empty(client: TestClient) -> None:
    assert ok(client.get("/_mock/faults")) == {"rules": []}


def test_post_a_rule_answers_it_stored_with_its_id(client: TestClient) -> None:
    stored = ok(client.post("/_mock/faults", json={"operationId": "list-companies", "status": 429}))
    assert stored == {
        "operationId": "list-companies",
        "status": 429,
        "when": "before",
        "id": "rule-1",
        "matched": 0,
        "fired": 0,
        "retired": False,
    }
    assert ok(client.get("/_mock/faults")) == {"rules": [stored]}


def test_post_a_list_answers_every_rule(client: TestClient) -> None:
    rules = [{"id": "two", "status": 502}, {"status": 503}, {"drop": "hang", "method": "post"}]
    answer = ok(client.post("/_mock/faults", json=rules))
    # Ids given keep their place; the others are numbered around them.
    assert [rule["id"] for rule in answer["rules"]] == ["two", "rule-1", "rule-2"]
    assert answer["rules"][2]["method"] == "POST"
    assert ok(client.get("/_mock/faults"))["rules"] == answer["rules"]


def test_listed_rules_show_their_counters(client: TestClient) -> None:
    ok(
        client.post(
            "/_mock/faults", json={"operationId": "list-companies", "status": 503, "times": 1}
        )
    )
    client.get("/companies")
    client.get("/companies")
    (shown,) = ok(client.get("/_mock/faults"))["rules"]
    assert (shown["matched"], shown["fired"], shown["retired"]) == (1, 1, True)


BAD_RULES: list[tuple[Any, str]] = [
    ({}, "needs an action"),
    ({"operationId": "list-companies"}, "needs an action"),
    ({"status": 600}, "status: "),
    ({"status": 999}, "status"),
    ({"status": 503, "colour": "red"}, "colour: Extra inputs are not permitted"),
    ({"stauts": 500}, "stauts"),
    ({"status": 503, "drop": "reset"}, "status and drop exclude each other"),
    ({"drop": "explode"}, "drop"),
    ({"status": 500, "probability": 1.5}, "probability"),
    ({"status": 500, "when": "during"}, "when"),
    ({"latency": {"min": 5}}, "latency"),
    ({"retryAfter": 1, "latencyMs": 5}, "retryAfter"),
    ("list-companies:503", "rule: "),
    ([{"status": 503}, {"times": 0}], "times: "),
    ([{"id": "x", "status": 500}, {"id": "x"}], "needs an action"),
]


def test_a_bad_rule_is_400_naming_the_problem_and_nothing_is_added(client: TestClient) -> None:
    for body, fragment in BAD_RULES:
        invalid(client.post("/_mock/faults", json=body), "rule", fragment)
        assert ok(client.get("/_mock/faults")) == {"rules": []}, body


def test_a_rule_body_that_is_not_json_is_400(client: TestClient) -> None:
    response = client.post(
        "/_mock/faults", content=b"status=503", headers={"Content-Type": "application/json"}
    )
    invalid(response, "body", "not valid JSON")


def test_a_duplicate_id_is_409(client: TestClient) -> None:
    ok(client.post("/_mock/faults", json={"id": "mine", "status": 503}))
    response = client.post("/_mock/faults", json={"id": "mine", "status": 500})
    expect_error(response, 409, "A fault rule with id 'mine' already exists.")
    assert [rule["status"] for rule in ok(client.get("/_mock/faults"))["rules"]] == [503]


def test_a_list_refused_for_a_duplicate_id_adds_nothing(client: TestClient) -> None:
    response = client.post(
        "/_mock/faults", json=[{"id": "x", "status": 500}, {"id": "x", "status": 502}]
    )
    assert response.status_code == 409
    assert ok(client.get("/_mock/faults")) == {"rules": []}


def test_delete_one_rule(client: TestClient) -> None:
    ok(client.post("/_mock/faults", json=[{"status": 503}, {"status": 500}]))
    removed = ok(client.delete("/_mock/faults/rule-1"))
    assert (removed["id"], removed["status"]) == ("rule-1", 503)
    assert [rule["id"] for rule in ok(client.get("/_mock/faults"))["rules"]] == ["rule-2"]


def test_delete_an_unknown_rule_is_404(client: TestClient) -> None:
    expect_error(
        client.delete("/_mock/faults/nope"), 404, "No fault rule was found with id 'nope'."
    )


def test_delete_every_rule(client: TestClient) -> None:
    ok(client.post("/_mock/faults", json=[{"status": 503}, {"status": 500}]))
    assert ok(client.delete("/_mock/faults")) == {"rules": []}
    assert ok(client.get("/_mock/faults")) == {"rules": []}
    assert client.get("/companies").status_code == 200


# -- rate limits -------------------------------------------------------------------------------


def test_rate_limit_settings_default_off(client: TestClient) -> None:
    assert ok(client.get("/_mock/rate-limit")) == DEFAULT_LIMITS


def test_put_rate_limit_is_a_partial_update(client: TestClient) -> None:
    first = ok(client.put("/_mock/rate-limit", json={"enabled": True, "dailyBase": 5}))
    assert first == {**DEFAULT_LIMITS, "enabled": True, "dailyBase": 5}
    second = ok(client.put("/_mock/rate-limit", json={"perIpPerMinute": 7}))
    assert second == {**first, "perIpPerMinute": 7}
    assert ok(client.get("/_mock/rate-limit")) == second
    assert ok(client.put("/_mock/rate-limit", json={})) == second


BAD_LIMITS: list[tuple[dict[str, Any], str]] = [
    ({"dailyLimit": 5}, "unknown key(s) dailyLimit"),
    ({"dailyBase": "5"}, "dailyBase: must be an integer"),
    ({"dailyBase": 0}, "dailyBase: must be at least 1"),
    ({"perIpPerMinute": 2.5}, "perIpPerMinute: must be an integer"),
    ({"perCompanyConcurrency": True}, "perCompanyConcurrency: must be an integer"),
    ({"enabled": "yes"}, "enabled: must be true or false"),
]


def test_bad_rate_limit_settings_are_400_and_change_nothing(client: TestClient) -> None:
    for body, fragment in BAD_LIMITS:
        invalid(client.put("/_mock/rate-limit", json=body), "body", fragment)
        assert ok(client.get("/_mock/rate-limit")) == DEFAULT_LIMITS, body


def test_rate_limit_body_must_be_an_object(client: TestClient) -> None:
    invalid(client.put("/_mock/rate-limit", json=[True]), "body", "JSON object")


def test_rate_limit_status_counts_per_client(client: TestClient) -> None:
    off = ok(client.get("/_mock/rate-limit/status"))
    assert (off["enabled"], off["clients"]) == (False, {})
    ok(client.put("/_mock/rate-limit", json={"enabled": True, "dailyBase": 5}))
    ok(client.get("/companies"))
    status = ok(client.get("/_mock/rate-limit/status"))
    assert status["enabled"] is True
    assert status["config"]["dailyBase"] == 5
    mine = status["clients"][client_id_for(API_KEY)]
    assert (mine["dailyQuota"], mine["used"], mine["remaining"]) == (5, 1, 4)
