"""Unit tests of mockserver/faults/book.py: which rule fires on a request, on which matches
its schedule fires, the rules' ids and counters, and the delays they draw."""

from __future__ import annotations

import random
import statistics
import threading
from typing import Any

import pytest

from mockserver.auth import client_id_for
from mockserver.errors import Conflict, NotFound
from mockserver.faults.book import ActiveRule, FaultBook, Target
from mockserver.faults.rules import rule_from

ALICE = client_id_for("alice-key")
BOB = client_id_for("bob-key")


def target(
    operation_id: str | None = "list-companies",
    method: str = "GET",
    path: str = "/companies",
    client_id: str | None = ALICE,
) -> Target:
    return Target(operation_id, method, path, client_id)


def book_with(*rules: dict[str, Any], seed: int = 0) -> FaultBook:
    book = FaultBook(seed=seed)
    for data in rules:
        book.add(rule_from(data))
    return book


def firings(book: FaultBook, count: int, at: Target | None = None) -> list[str | None]:
    """The id of the rule that fires on each of ``count`` identical requests (None: none)."""
    picked = [book.pick(at or target()) for _ in range(count)]
    return [active.rule_id if active else None for active in picked]


def pattern(book: FaultBook, count: int) -> str:
    """Which of ``count`` matches fired, as a string of 'x' (fired) and '.' (did not)."""
    return "".join("x" if fired else "." for fired in firings(book, count))


# -- matching ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "request_target", "matches"),
    [
        ({"operationId": "list-companies"}, target(), True),
        ({"operationId": "list-companies"}, target("create-company", "POST"), False),
        ({"operationId": "*"}, target("create-company", "POST"), True),
        ({"operationId": "*"}, target(None, "GET", "/nowhere"), True),
        ({"operationId": "list-companies"}, target(None, "GET", "/nowhere"), False),
        ({"method": "get"}, target(), True),
        ({"method": "POST"}, target(), False),
        ({"path": "/companies"}, target(), True),
        ({"path": "/companies/*"}, target(), False),
        ({"path": "/companies/*"}, target(path="/companies/abc"), True),
        ({"path": "/companies/*/connections"}, target(path="/companies/abc/connections"), True),
        ({"path": "/companies/*/connections"}, target(path="/companies/abc/syncs"), False),
        ({"path": "/COMPANIES"}, target(), False),
        ({"path": "/companies/?"}, target(path="/companies/a"), True),
        ({"clientId": ALICE}, target(), True),
        ({"clientId": ALICE.upper()}, target(), True),
        ({"clientId": BOB}, target(), False),
        ({"clientId": ALICE}, target(client_id=None), False),
        ({"apiKey": "alice-key"}, target(), True),
        ({"apiKey": "bob-key"}, target(), False),
        ({"apiKey": "alice-key"}, target(client_id=None), False),
        ({"operationId": "list-companies", "method": "GET", "clientId": ALICE}, target(), True),
        ({"operationId": "list-companies", "method": "GET", "clientId": BOB}, target(), False),
    ],
)
def test_matching(rule: dict[str, Any], request_target: Target, matches: bool) -> None:
    book = book_with({"status": 503, **rule})
    picked = book.pick(request_target)
    assert (picked is not None) is matches
    # A rule that does not match is not counted as matched either.
    assert book.rules()[0].matched == (1 if matches else 0)


def test_an_empty_book_picks_nothing() -> None:
    assert FaultBook().pick(target()) is None


def test_the_first_firing_rule_wins_and_later_rules_are_not_counted() -> None:
    book = book_with(
        {"id": "first", "operationId": "list-companies", "status": 503},
        {"id": "second", "status": 500},
    )
    assert firings(book, 2) == ["first", "first"]
    assert firings(book, 1, target("create-company", "POST")) == ["second"]
    first, second = book.rules()
    assert (first.matched, first.fired) == (2, 2)
    assert (second.matched, second.fired) == (1, 1)


def test_a_matching_rule_that_does_not_fire_lets_the_next_rule_fire() -> None:
    book = book_with({"id": "even", "status": 503, "every": 2}, {"id": "rest", "status": 500})
    assert firings(book, 6) == ["rest", "even", "rest", "even", "rest", "even"]
    even, rest = book.rules()
    assert (even.matched, even.fired) == (6, 3)
    assert (rest.matched, rest.fired) == (3, 3)


def test_a_retired_rule_lets_the_next_rule_fire() -> None:
    book = book_with({"id": "twice", "status": 429, "times": 2}, {"id": "then", "status": 500})
    assert firings(book, 4) == ["twice", "twice", "then", "then"]


# -- schedules ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        ({}, "xxxxxxxxxxxx"),
        ({"times": 3}, "xxx........."),
        ({"after": 2}, "..xxxxxxxxxx"),
        ({"after": 0}, "xxxxxxxxxxxx"),
        ({"every": 1}, "xxxxxxxxxxxx"),
        ({"every": 3}, "..x..x..x..x"),
        ({"after": 2, "every": 3}, "....x..x..x."),
        ({"after": 1, "times": 2}, ".xx........."),
        ({"every": 2, "times": 2}, ".x.x........"),
        ({"after": 3, "every": 2, "times": 2}, "....x.x....."),
        ({"probability": 0}, "............"),
        ({"probability": 1}, "xxxxxxxxxxxx"),
    ],
)
def test_schedules(schedule: dict[str, Any], expected: str) -> None:
    assert pattern(book_with({"status": 503, **schedule}), len(expected)) == expected


def test_times_retires_the_rule_and_stops_counting_matches() -> None:
    book = book_with({"status": 503, "times": 2})
    firings(book, 5)
    active = book.rules()[0]
    assert (active.matched, active.fired, active.retired) == (2, 2, True)


def test_matches_skipped_by_after_are_counted_as_matched() -> None:
    book = book_with({"status": 503, "after": 3})
    firings(book, 2)
    active = book.rules()[0]
    assert (active.matched, active.fired, active.retired) == (2, 0, False)


def test_probability_with_a_seed_follows_that_seed_exactly() -> None:
    draws = random.Random(42)
    expected = "".join("x" if draws.random() < 0.4 else "." for _ in range(50))
    book = book_with({"status": 503, "probability": 0.4, "seed": 42})
    assert pattern(book, 50) == expected
    assert "x" in expected and "." in expected


def test_probability_draws_only_on_eligible_matches() -> None:
    # The first two matches are skipped by `after` without drawing, so the stream starts at
    # the third match.
    draws = random.Random(5)
    expected = ".." + "".join("x" if draws.random() < 0.5 else "." for _ in range(30))
    assert pattern(book_with({"status": 503, "probability": 0.5, "seed": 5, "after": 2}), 32) == (
        expected
    )


def test_the_same_seed_gives_the_same_sequence_and_another_seed_another() -> None:
    runs = [
        pattern(book_with({"status": 503, "probability": 0.5, "seed": seed}), 64)
        for seed in (7, 7, 8)
    ]
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


def test_probability_fires_roughly_that_often() -> None:
    book = book_with({"status": 503, "probability": 0.3, "seed": 1})
    fired = pattern(book, 10_000).count("x")
    assert 2_750 <= fired <= 3_250
    assert book.rules()[0].fired == fired


def test_without_a_seed_the_stream_comes_from_the_book_seed_and_the_rule_id() -> None:
    rule = {"id": "flaky", "status": 503, "probability": 0.5}
    same = pattern(book_with(rule, seed=3), 64)
    assert pattern(book_with(rule, seed=3), 64) == same
    assert pattern(book_with(rule, seed=4), 64) != same
    assert pattern(book_with({**rule, "id": "other"}, seed=3), 64) != same


def test_adding_a_rule_does_not_shift_another_rules_sequence() -> None:
    alone = book_with({"id": "flaky", "status": 503, "probability": 0.5}, seed=3)
    crowded = book_with(
        {"id": "elsewhere", "operationId": "create-company", "status": 500, "probability": 0.5},
        {"id": "flaky", "status": 503, "probability": 0.5},
        seed=3,
    )
    assert pattern(alone, 64) == pattern(crowded, 64)


def test_concurrent_picks_fire_a_limited_rule_exactly_its_times() -> None:
    book = book_with({"status": 503, "times": 100})
    results: list[ActiveRule | None] = []
    lock = threading.Lock()

    def hammer() -> None:
        mine = [book.pick(target()) for _ in range(100)]
        with lock:
            results.extend(mine)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(result is not None for result in results) == 100
    assert book.rules()[0].fired == 100


# -- ids and the book itself -------------------------------------------------------------------


def test_rules_get_sequential_ids() -> None:
    book = FaultBook()
    ids = [book.add(rule_from({"status": 503})).rule_id for _ in range(3)]
    assert ids == ["rule-1", "rule-2", "rule-3"]
    assert [active.rule_id for active in book.rules()] == ids


def test_a_named_rule_keeps_its_name_and_fresh_ids_step_around_it() -> None:
    book = FaultBook()
    assert book.add(rule_from({"id": "rule-1", "status": 503})).rule_id == "rule-1"
    assert book.add(rule_from({"id": "mine", "status": 503})).rule_id == "mine"
    assert book.add(rule_from({"status": 503})).rule_id == "rule-2"


def test_removed_ids_are_not_handed_out_again() -> None:
    book = FaultBook()
    for _ in range(2):
        book.add(rule_from({"status": 503}))
    book.remove("rule-2")
    assert book.add(rule_from({"status": 503})).rule_id == "rule-3"


def test_a_duplicate_id_is_a_conflict() -> None:
    book = book_with({"id": "same", "status": 503})
    with pytest.raises(Conflict) as caught:
        book.add(rule_from({"id": "same", "status": 500}))
    assert caught.value.status == 409
    assert "same" in caught.value.message
    assert [active.rule.status for active in book.rules()] == [503]


def test_a_named_rule_cannot_take_an_id_already_given() -> None:
    book = book_with({"status": 503})
    with pytest.raises(Conflict):
        book.add(rule_from({"id": "rule-1", "status": 500}))


def test_remove_returns_the_rule_and_unknown_ids_are_not_found() -> None:
    book = book_with({"id": "a", "status": 503}, {"id": "b", "status": 500})
    assert book.remove("a").rule.status == 503
    assert [active.rule_id for active in book.rules()] == ["b"]
    with pytest.raises(NotFound) as caught:
        book.remove("a")
    assert caught.value.status == 404
    assert "'a'" in caught.value.message


def test_clear_and_rules_is_a_copy() -> None:
    book = book_with({"status": 503}, {"status": 500})
    listed = book.rules()
    listed.clear()
    assert len(book.rules()) == 2
    book.clear()
    assert book.rules() == []
    assert book.pick(target()) is None


def test_to_json_shows_the_public_rule_with_its_counters() -> None:
    book = book_with({"operationId": "list-companies", "status": 429, "apiKey": "alice-key"})
    firings(book, 1)
    assert book.rules()[0].to_json() == {
        "operationId": "list-companies",
        "status": 429,
        "apiKey": "********",
        "when": "before",
        "id": "rule-1",
        "matched": 1,
        "fired": 1,
        "retired": False,
    }


def test_to_json_counts_matches_fires_and_retirement() -> None:
    book = book_with({"id": "r", "status": 503, "after": 1, "times": 2})
    firings(book, 5)
    shown = book.rules()[0].to_json()
    assert (shown["id"], shown["matched"], shown["fired"], shown["retired"]) == ("r", 3, 2, True)


# -- delays ------------------------------------------------------------------------------------


def delays(data: dict[str, Any], count: int, *, seed: int = 0) -> list[float]:
    active = book_with(data, seed=seed).rules()[0]
    return [active.latency_seconds() for _ in range(count)]


def test_a_rule_without_a_delay_has_none() -> None:
    assert delays({"status": 503}, 3) == [0.0, 0.0, 0.0]


def test_a_fixed_delay_is_in_milliseconds() -> None:
    assert delays({"latencyMs": 250}, 3) == [0.25, 0.25, 0.25]
    assert delays({"status": 503, "latencyMs": 1.5}, 1) == [0.0015]


def test_a_uniform_delay_stays_within_its_bounds_and_follows_the_seed() -> None:
    rule = {"latency": {"min": 100, "max": 300}, "seed": 11}
    drawn = delays(rule, 500)
    assert all(0.1 <= value <= 0.3 for value in drawn)
    assert max(drawn) - min(drawn) > 0.15  # spread over the range, not stuck at one value
    assert delays(rule, 500) == drawn
    expected = random.Random(11)
    assert drawn[:5] == [expected.uniform(100, 300) / 1000 for _ in range(5)]


def test_a_uniform_delay_with_equal_bounds_is_fixed() -> None:
    assert delays({"latency": {"min": 40, "max": 40}}, 3) == [0.04, 0.04, 0.04]


def test_a_lognormal_delay_centres_on_its_median() -> None:
    drawn = delays({"latency": {"median": 200, "sigma": 0.5}, "seed": 3}, 4001)
    assert 0.18 <= statistics.median(drawn) <= 0.22
    assert min(drawn) > 0
    assert max(drawn) > 0.4  # a right tail: e^(2 sigma) is about 2.7 times the median


def test_a_lognormal_delay_without_spread_is_its_median() -> None:
    assert delays({"latency": {"median": 80, "sigma": 0}}, 3) == [0.08, 0.08, 0.08]


def test_reset_restores_the_startup_rules_in_place() -> None:
    startup = [rule_from({"operationId": "list-companies", "status": 503, "times": 1})]
    book = FaultBook(startup=startup)
    assert book.pick(target()) is not None  # the startup rule fires once and retires
    book.add(rule_from({"status": 500}))
    book.reset()
    (active,) = book.rules()
    assert (active.rule_id, active.fired, active.rule.status) == ("rule-1", 0, 503)
    assert book.pick(target()) is not None
