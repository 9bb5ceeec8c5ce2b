"""What lets a contract run share a running mock without disturbing it: one client's data
reset alone, a client whose events reach no consumer, the journal and report of one client.
In-process, through the control API."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from mockserver.auth import authorization_for, client_id_for
from tests.conftest import API_KEY, OTHER_KEY

MINE = {"Authorization": authorization_for(API_KEY)}
THEIRS = {"Authorization": authorization_for(OTHER_KEY)}


def companies(client: TestClient, headers: dict[str, str]) -> list[str]:
    answer = client.get("/companies", headers=headers, params={"pageSize": 100})
    return [company["name"] for company in answer.json()["results"]]


def connect(client: TestClient, headers: dict[str, str]) -> None:
    company = client.post("/companies", json={"name": "Linked Ltd"}, headers=headers).json()
    answer = client.post(
        f"/companies/{company['id']}/connections", json={"platformKey": "gbol"}, headers=headers
    )
    assert answer.status_code == 200, answer.text


def messages(client: TestClient) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = client.get("/_mock/webhooks/messages").json()["messages"]
    return found


def test_a_reset_of_one_client_leaves_everything_else(client: TestClient) -> None:
    client.post("/companies", json={"name": "Mine"}, headers=MINE)
    client.post("/companies", json={"name": "Theirs"}, headers=THEIRS)
    rule = client.post("/_mock/faults", json={"operationId": "list-syncs", "status": 503})
    journal = client.get("/_mock/requests").json()["requests"]

    answer = client.post("/_mock/reset", json={"clientId": client_id_for(API_KEY)})
    assert answer.json() == {"status": "reset", "clientId": client_id_for(API_KEY)}
    assert companies(client, MINE) == []
    assert companies(client, THEIRS) == ["Theirs"]
    assert client.get("/_mock/faults").json()["rules"] == [rule.json()]
    assert client.get("/_mock/requests").json()["requests"][: len(journal)] == journal

    client.post("/_mock/reset")  # no client named: everything
    assert companies(client, THEIRS) == []
    assert client.get("/_mock/faults").json()["rules"] == []


def test_a_reset_refuses_a_client_id_that_is_not_text(client: TestClient) -> None:
    client.post("/companies", json={"name": "Kept"}, headers=MINE)
    answer = client.post("/_mock/reset", json={"clientId": 7})
    assert answer.status_code == 400
    assert answer.json()["validation"]["errors"][0]["itemId"] == "clientId"
    assert companies(client, MINE) == ["Kept"]


def test_the_journal_and_report_of_one_client(client: TestClient) -> None:
    client.get("/companies", headers=MINE)
    client.get("/companies", headers=THEIRS)
    client.get("/companies", headers=THEIRS)
    mine = client_id_for(API_KEY)
    requests = client.get("/_mock/requests", params={"clientId": mine}).json()["requests"]
    assert [entry["clientId"] for entry in requests] == [mine]
    report = client.get("/_mock/report", params={"clientId": mine}).json()
    assert report["totals"]["requests"] == 1
    assert client.get("/_mock/report").json()["totals"]["requests"] == 3


def test_a_quiet_client_triggers_no_deliveries(client: TestClient) -> None:
    client.post("/_mock/webhooks", json={"url": "http://127.0.0.1:9/hook"})
    mine = client_id_for(API_KEY)
    assert client.put(f"/_mock/webhooks/quiet/{mine}").json() == {"clientIds": [mine]}
    assert client.get("/_mock/webhooks/quiet").json() == {"clientIds": [mine]}

    connect(client, MINE)
    assert messages(client) == []
    connect(client, THEIRS)  # another client's events still go out
    assert [m["eventType"] for m in messages(client)] == ["connection.created"]

    assert client.delete(f"/_mock/webhooks/quiet/{mine}").json() == {"clientIds": []}
    connect(client, MINE)
    assert len(messages(client)) == 2


def test_a_full_reset_ends_quiet(client: TestClient) -> None:
    mine = client_id_for(API_KEY)
    client.put(f"/_mock/webhooks/quiet/{mine}")
    client.post("/_mock/reset")
    assert client.get("/_mock/webhooks/quiet").json() == {"clientIds": []}
