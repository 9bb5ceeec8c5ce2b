"""The snapshot door (``PUT /_mock/state``, mockserver.store.restore) and the clock's calendar:
what they refuse, that a refusal names the field and changes nothing, and, as a property,
that whatever they accept can still be served by every read."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from mockserver.clock import Clock
from mockserver.store import limits
from tests.handlers.support import create_company, ok, populate, request_sync, world_view

Path = tuple[str | int, ...]


def populated_snapshot(client: TestClient, clock: Clock) -> dict[str, Any]:
    """A snapshot holding some of every kind of state, one sync with a forced outcome."""
    ids = populate(client, clock)
    forced = request_sync(client, ids["company"])["commerceSyncId"]
    ok(client.post(f"/_mock/syncs/{forced}/outcome", json={"syncStatusCode": 5130}))
    snapshot: dict[str, Any] = ok(client.get("/_mock/state"))
    return snapshot


def replaced(snapshot: dict[str, Any], path: Path, value: Any) -> dict[str, Any]:
    """A deep copy of ``snapshot`` with the value at ``path`` replaced."""
    copied = copy.deepcopy(snapshot)
    node: Any = copied
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return copied


def where(path: Path) -> str:
    """``path`` written as the door names fields: ``tenants[0].companies[0].name``."""
    text = ""
    for key in path:
        text += f"[{key}]" if isinstance(key, int) else (f".{key}" if text else key)
    return text


COMPANY: Path = ("tenants", 0, "companies", 0)
SYNC: Path = (*COMPANY, "syncs", 1)
CONNECTION: Path = (*COMPANY, "connections", 0)

#: (where, the value put there, a fragment of the message, the field named if deeper)
BAD_VALUES: list[tuple[Path, Any, str, str]] = [
    ((*SYNC, "duration"), "nan", "seconds from 0 to", ""),
    ((*SYNC, "duration"), 1e308, "seconds from 0 to", ""),
    ((*SYNC, "duration"), -1, "seconds from 0 to", ""),
    ((*SYNC, "duration"), 1e12, "seconds from 0 to", ""),
    ((*SYNC, "duration"), True, "seconds from 0 to", ""),
    ((*SYNC, "forcedCode"), 99999, "must be one of 1000", ""),
    ((*SYNC, "forcedCode"), 2001, "must be one of 1000", ""),
    ((*SYNC, "forcedCode"), "5130", "must be one of 1000", ""),
    ((*SYNC, "forcedCode"), [], "must be one of 1000", ""),
    ((*SYNC, "forcedCode"), 2000.0, "must be one of 1000", ""),
    ((*CONNECTION, "status"), {"Linked": 1}, "must be one of", ""),
    ((*SYNC, "forcedMessage"), "m" * (limits.MAX_MESSAGE + 1), "at most", ""),
    ((*SYNC, "requestedAt"), "9999-12-31T23:59:50Z", "outside the mock's calendar", ""),
    ((*SYNC, "requestedAt"), "soon", "ISO 8601", ""),
    ((*SYNC, "forcedAt"), 5, "ISO 8601", ""),
    ((*SYNC, "finish"), "2000-01-01T00:00:00Z", "later than start", ""),
    ((*SYNC, "id"), "not-a-uuid", "UUID", ""),
    ((*SYNC, "companyId"), "00000000-0000-4000-8000-000000000000", "its parent's id", ""),
    ((*COMPANY, "id"), 7, "UUID", ""),
    ((*COMPANY, "name"), "a(b)", "create-company would keep", ""),
    ((*COMPANY, "name"), "n" * (limits.MAX_COMPANY_NAME + 1), "At most", ""),
    ((*COMPANY, "description"), "d" * (limits.MAX_DESCRIPTION + 1), "At most", ""),
    ((*COMPANY, "description"), ["x"], "string or null", ""),
    ((*COMPANY, "tags"), {"region": 5}, "Tag values", ""),
    ((*COMPANY, "tags"), {str(i): "v" for i in range(11)}, "at most 10 tags", ""),
    ((*COMPANY, "configured"), "yes", "true or false", ""),
    ((*COMPANY, "created"), "0001-01-01T00:00:00+01:00", "ISO 8601", ""),
    ((*CONNECTION, "status"), "Broken", "must be one of", ""),
    ((*CONNECTION, "platform", "sourceType"), "Mainframe", "must be one of", ""),
    ((*CONNECTION, "platform", "key"), "GBOL", "four lowercase letters", ""),
    ((*CONNECTION, "platform", "integrationId"), "x", "UUID", ""),
    ((*CONNECTION, "authKeys"), ["k" * (limits.MAX_AUTH_KEY + 1)], "at most", "[0]"),
    (
        ("tenants", 0, "texts"),
        {"en-us": {"no-such-key": "x"}},
        "not a Sync Flow text key",
        ".en-us.no-such-key",
    ),
    (("tenants", 0, "texts"), {"xx-xx": {}}, "not a locale", ".xx-xx"),
    (("tenants", 0, "visibleAccounts"), {"gbol": "all"}, "must be a list", ".gbol"),
    (("tenants", 0, "visibleAccounts"), {"gbol": [5]}, "must be a string", ".gbol[0]"),
    (("tenants", 0, "clientId"), 5, "must be a string", ""),
    (("tenants", 0, "clientId"), " ", "must not be empty", ""),
    (("syncDuration",), "inf", "seconds from 0 to", ""),
    (("syncDuration",), 1e12, "seconds from 0 to", ""),
]


@pytest.mark.parametrize(("path", "value", "fragment", "below"), BAD_VALUES)
def test_a_snapshot_value_that_cannot_be_served_is_400_naming_it(
    client: TestClient, clock: Clock, path: Path, value: Any, fragment: str, below: str
) -> None:
    snapshot = populated_snapshot(client, clock)
    before = ok(client.get("/_mock/state"))
    response = client.put("/_mock/state", json=replaced(snapshot, path, value))
    assert response.status_code == 400, response.text
    [item] = response.json()["validation"]["errors"]
    field = where(path) + below
    assert item["itemId"] == field
    assert fragment in item["message"]
    assert response.json()["error"].startswith(f"The snapshot cannot be restored: {field}: ")
    assert ok(client.get("/_mock/state")) == before


def test_a_snapshot_round_trips(client: TestClient, clock: Clock) -> None:
    snapshot = populated_snapshot(client, clock)
    ok(client.post("/_mock/reset"))
    assert ok(client.put("/_mock/state", json=snapshot)) == snapshot


# -- the clock's calendar ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"set": "9999-12-31T23:59:50Z"},
        {"set": "9000-01-01T00:00:01Z"},
        {"set": "1899-12-31T23:59:59Z"},
        {"advance": 1e12},
        {"advance": 1e300},
    ],
)
def test_the_clock_stays_within_its_calendar(client: TestClient, body: dict[str, Any]) -> None:
    company = create_company(client)
    response = client.post("/_mock/clock", json=body)
    assert response.status_code == 400, response.text
    [item] = response.json()["validation"]["errors"]
    assert item["itemId"] == next(iter(body))
    assert ok(client.get("/_mock/clock"))["now"] == "2026-03-02T09:00:00Z"
    # And a sync still starts and reads as ever.
    request_sync(client, company["id"])
    ok(client.get(f"/companies/{company['id']}/sync/commerce/syncs/list/status"))


def test_the_clock_may_stand_at_the_edge_of_its_calendar_and_syncs_still_run(
    client: TestClient,
) -> None:
    company = create_company(client)
    ok(client.post("/_mock/clock", json={"set": "9000-01-01T00:00:00Z"}))
    ok(
        client.put(
            "/_mock/state", json={**ok(client.get("/_mock/state")), "syncDuration": 31536000}
        )
    )
    summary = request_sync(client, company["id"])
    assert summary["syncStatusCode"] == 1000
    ok(client.get(f"/companies/{company['id']}/sync/commerce/syncs/latest/status"))


# -- the property: whatever passes the door can be served -------------------------------------

_NASTY = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
    st.sampled_from(
        [
            "nan",
            "inf",
            "9999-12-31T23:59:59Z",
            "0001-01-01T00:00:00Z",
            "2026-03-02T09:00:00Z",
            "00000000-0000-4000-8000-000000000000",
            "gbol",
            "Linked",
            "x" * 3000,
            99999,
            2000,
            5130,
            1e308,
            -1,
        ]
    ),
    st.lists(st.text(max_size=4), max_size=3),
    st.dictionaries(st.text(max_size=4), st.text(max_size=4), max_size=3),
)


def _paths(node: Any, prefix: Path = ()) -> list[Path]:
    """Every path into ``node`` (objects and lists), outermost first."""
    found: list[Path] = []
    items = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else ()
    )
    for key, child in items:
        found.append((*prefix, key))
        found.extend(_paths(child, (*prefix, key)))
    return found


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_whatever_passes_the_door_can_be_served(
    client: TestClient, clock: Clock, data: st.DataObject
) -> None:
    ok(client.post("/_mock/reset"))
    snapshot = populated_snapshot(client, clock)
    paths = _paths(snapshot)
    changed = snapshot
    for _ in range(data.draw(st.integers(1, 3), label="changes")):
        path = data.draw(st.sampled_from(paths), label="path")
        changed = replaced(changed, path, data.draw(_NASTY, label="value"))
        paths = _paths(changed)
    response = client.put("/_mock/state", json=changed)
    assert response.status_code in (200, 400), response.text
    if response.status_code == 400:
        return
    # Every read answers (strict mode: every answer also keeps the contract), now and later.
    for _ in range(2):
        for tenant in ok(client.get("/_mock/state"))["tenants"]:
            assert tenant["clientId"]
        ok(client.get("/_mock/world"))  # every tenant, as the dashboard shows them
        view = world_view(client)
        for company in view["companies"]["results"]:
            base = f"/companies/{company['id']}/sync/commerce"
            for read in ("syncs/latest/status", "syncs/lastSuccessful/status"):
                assert client.get(f"{base}/{read}").status_code in (200, 404)
            status = client.get(f"/meta/companies/{company['id']}/sync/commerce/status")
            assert status.status_code in (200, 404)
        clock.advance(3600)


def test_a_sync_range_may_start_before_the_calendar(client: TestClient, clock: Clock) -> None:
    # A first sync with no schedule start runs from a month before "now", so at the calendar's
    # start its range begins before it: such a snapshot must restore (and round-trip).
    snapshot = replaced(populated_snapshot(client, clock), (*SYNC, "start"), "1899-12-15T00:00:00Z")
    ok(client.post("/_mock/reset"))
    assert ok(client.put("/_mock/state", json=snapshot)) == snapshot
