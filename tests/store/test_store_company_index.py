"""Tests of mockserver/store/company_index.py: an indexed page of companies is exactly the
page a full scan gives (render every company, filter, sort stably, cut), whatever the
companies, their connections' history, the query, the order and the page."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver import query as ql
from mockserver.clock import Clock
from mockserver.errors import BadRequest
from mockserver.store import Tenant, World
from mockserver.store.company_index import _OrderIndex
from mockserver.store.ids import IdSource

NAMES = ["Acme", "acme", "ACME Ltd", "Bramble & Oak", "2021-01-28", "1.0", "1", "10", "zeta"]
STATUSES = ["PendingAuth", "Linked", "Unlinked", "Deauthorized"]
VALUES = [*NAMES, "2021-01-28T00:00:00Z", "1.00", "linked", "pendingauth", "Nobody"]
PATHS = [("id",), ("name",), ("dataConnections", "status"), ("description",)]
ORDERS = [None, ("name",), ("created",), ("description",)]

# One step of a tenant's history: (what, which company, which connection, a detail).
steps = st.tuples(
    st.sampled_from(
        [
            *["create", "create", "connect", "connect", "link", "link", "unlink", "deauth"],
            *["delete", "rewind"],
        ]
    ),
    st.integers(min_value=0, max_value=30),
    st.integers(min_value=0, max_value=3),
    st.integers(min_value=0, max_value=len(NAMES) - 1),
)


def comparisons(ids: list[str]) -> st.SearchStrategy[ql.Expr]:
    values = st.sampled_from(VALUES) | (
        st.sampled_from(ids).map(str.upper) if ids else st.nothing()
    )
    return st.builds(
        ql.Comparison, st.sampled_from(PATHS), st.sampled_from(["=", "=", "!=", "~"]), values
    )


def expressions(ids: list[str]) -> st.SearchStrategy[ql.Expr]:
    return st.recursive(
        comparisons(ids),
        lambda inner: st.builds(ql.And, inner, inner) | st.builds(ql.Or, inner, inner),
        max_leaves=4,
    )


def _build(make_fixtures: Any, history: list[tuple[str, int, int, int]]) -> Tenant:
    clock = Clock(frozen_at=Clock().now().replace(microsecond=0))
    world = World(make_fixtures(), clock=clock, rng=random.Random(1), sync_duration=30.0)
    tenant = world.tenant("client-a")
    ids: list[str] = []
    for what, which, conn, detail in history:
        if what == "rewind":  # the mock clock set back: later companies are created earlier
            clock.set(clock.now() - timedelta(seconds=detail))
            continue
        if what == "create":
            # Some companies share a second (ties in `created`), some do not.
            clock.advance(detail % 2)
            ids.append(tenant.create_company(NAMES[detail], description=NAMES[-detail])["id"])
            continue
        if not ids:
            continue
        company = ids[which % len(ids)]
        if what == "connect":
            tenant.create_connection(company, ["fztf", "gbol"][detail % 2])
            continue
        connections = tenant.list_connections(company)
        if not connections:
            continue
        connection = connections[conn % len(connections)]["id"]
        try:
            if what == "link":
                tenant.update_connection_authorization(company, connection, {"k": "v"})
            elif what == "unlink":
                tenant.update_connection(company, connection, "Unlinked")
            elif what == "deauth":
                tenant.deauthorize_connection(company, connection)
            else:
                tenant.delete_connection(company, connection)
        except BadRequest:  # a refused change: only Linked -> Unlinked is allowed
            pass
    return tenant


def _full_scan(
    tenant: Tenant, expr: ql.Expr | None, ordering: ql.Ordering | None, start: int, stop: int
) -> tuple[list[Any], int]:
    records = tenant.list_companies()
    if expr is not None:
        records = [record for record in records if ql.matches(expr, record)]
    ordered = ql.arrange(records, ordering)
    return ordered[start:stop], len(ordered)


def _check_page(tenant: Tenant, data: st.DataObject, expr: ql.Expr | None) -> None:
    path = data.draw(st.sampled_from(ORDERS))
    ordering = None if path is None else ql.Ordering(path, data.draw(st.booleans()))
    size = data.draw(st.integers(min_value=1, max_value=7))
    start = size * data.draw(st.integers(min_value=0, max_value=6))
    assert tenant.company_page(expr, ordering, start, start + size) == _full_scan(
        tenant, expr, ordering, start, start + size
    )


@settings(max_examples=40, deadline=None)
@given(history=st.lists(steps, max_size=40), walk=st.booleans(), window=st.integers(1, 5))
def test_every_indexed_comparison_and_order_gives_the_full_scans_listing(
    make_fixtures: Any, history: list[tuple[str, int, int, int]], walk: bool, window: int
) -> None:
    tenant = _build(make_fixtures, history)
    if walk:  # order the matches by walking the order index, as for large match sets
        tenant._index.sort_matches_below = 0
    ids = [company["id"] for company in tenant.list_companies()]
    queries: list[ql.Expr | None] = [None]
    queries += [
        ql.Comparison(path, "=", value)
        for path in PATHS[:3]
        for value in [*VALUES, *STATUSES, *ids, *(i.upper() for i in ids)]
    ]
    orderings = [None] + [ql.Ordering(p, d) for p in ORDERS if p for d in (False, True)]
    for expr in queries:
        for ordering in orderings:
            everything = _full_scan(tenant, expr, ordering, 0, 10_000)
            assert tenant.company_page(expr, ordering, 0, 10_000) == everything
            assert tenant.company_page(expr, ordering, window, 2 * window) == (
                everything[0][window : 2 * window],
                everything[1],
            )


@settings(max_examples=100, deadline=None)
@given(data=st.data(), history=st.lists(steps, max_size=40))
def test_any_query_gives_the_full_scans_page(
    make_fixtures: Any, data: st.DataObject, history: list[tuple[str, int, int, int]]
) -> None:
    tenant = _build(make_fixtures, history)
    ids = [company["id"] for company in tenant.list_companies()]
    _check_page(tenant, data, data.draw(expressions(ids)))


def _stable_order(keys: list[Any], descending: bool) -> list[int]:
    return sorted(range(len(keys)), key=lambda p: keys[p], reverse=descending)


# Small sublists and read-ahead chunks, so that a few dozen entries cross many of each.
order_indexes = st.builds(
    lambda load, chunk: _OrderIndex(chunk=chunk, load=load),
    st.integers(min_value=4, max_value=12),
    st.integers(min_value=1, max_value=9),
) | st.builds(_OrderIndex)


@settings(max_examples=200)
@given(
    index=order_indexes,
    keys=st.lists(st.integers(min_value=0, max_value=4), max_size=30)
    | st.lists(st.integers(min_value=0, max_value=40), max_size=120),
    start=st.integers(min_value=0, max_value=125),
    size=st.integers(min_value=1, max_value=30),
    descending=st.booleans(),
)
def test_an_order_slice_is_a_slice_of_the_stable_sort(
    index: _OrderIndex, keys: list[int], start: int, size: int, descending: bool
) -> None:
    # Keys arrive in any order, with ties (as names do, and `created` after a rewind).
    for position, key in enumerate(keys):
        index.add(key, position)
    expected = _stable_order(keys, descending)
    assert list(index.walk(descending)) == expected
    assert index.slice(descending, start, start + size) == expected[start : start + size]


@given(
    index=order_indexes,
    names=st.lists(st.sampled_from(NAMES), max_size=60),
    descending=st.booleans(),
)
def test_an_order_of_names_is_the_stable_sort_of_their_sort_keys(
    index: _OrderIndex, names: list[str], descending: bool
) -> None:
    # Mixed kinds: dates, numbers-as-text and text, some equal once case-folded.
    keys = [ql.sort_key(name) for name in names]
    for position, key in enumerate(keys):
        index.add(key, position)
    expected = _stable_order(keys, descending)
    assert list(index.walk(descending)) == expected
    for start in range(0, len(names) + 1, 7):
        assert index.slice(descending, start, start + 7) == expected[start : start + 7]


@given(
    index=order_indexes,
    keys=st.lists(st.integers(min_value=0, max_value=6), max_size=80),
    split=st.integers(0, 80),
)
def test_extending_an_order_index_is_adding_one_by_one(
    index: _OrderIndex, keys: list[int], split: int
) -> None:
    one_by_one = _OrderIndex()
    for position, key in enumerate(keys):
        one_by_one.add(key, position)
    for position, key in enumerate(keys[:split]):
        index.add(key, position)
    index.extend([(key, position) for position, key in enumerate(keys) if position >= split])
    for descending in (False, True):
        assert list(index.walk(descending)) == list(one_by_one.walk(descending))
        assert list(index.walk(descending)) == _stable_order(keys, descending)


@settings(max_examples=30, deadline=None)
@given(history=st.lists(steps, max_size=30))
def test_a_restored_tenant_pages_as_the_original(
    make_fixtures: Any, history: list[tuple[str, int, int, int]]
) -> None:
    tenant = _build(make_fixtures, history)
    world = World(make_fixtures(), clock=Clock(), rng=random.Random(2))
    world.load({"version": 1, "tenants": [tenant.to_json()]})
    restored = world.tenant(tenant.client_id)
    stored = World(make_fixtures(), clock=Clock(), rng=random.Random(2))
    stored.restore_stored(
        [(tenant.client_id, tenant.settings_json(), tenant.companies_json())],
        {"syncDuration": 30.0, "draws": 0, "rngStart": IdSource(random.Random(3)).start_bytes()},
    )
    orderings = [None] + [ql.Ordering(p, d) for p in ORDERS if p for d in (False, True)]
    for ordering in orderings:
        expected = tenant.company_page(None, ordering, 0, 10_000)
        assert restored.company_page(None, ordering, 0, 10_000) == expected
        assert stored.tenant(tenant.client_id).company_page(None, ordering, 0, 10_000) == expected
