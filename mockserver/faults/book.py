"""The active fault rules, in order, each with its schedule's state and its counters.

Rules are evaluated in order: the first rule that matches the request *and* whose schedule
fires wins. A rule that matches but does not fire this time (``every``, ``after``,
``probability``) lets the next rules be considered; a rule that has fired ``times`` times
retires and no longer matches.
"""

from __future__ import annotations

import fnmatch
import math
import random
import threading
from dataclasses import dataclass, field
from typing import Any

from mockserver.errors import Conflict, NotFound
from mockserver.faults.rules import FaultRule


@dataclass(slots=True, frozen=True)
class Target:
    """What a rule can match on: the request as the fault layer sees it."""

    operation_id: str | None
    method: str
    path: str
    client_id: str | None


@dataclass(slots=True)
class ActiveRule:
    """A rule in the book: the rule, its schedule's random stream, and how often it matched
    and fired."""

    rule: FaultRule
    rule_id: str
    rng: random.Random
    matched: int = 0
    fired: int = 0
    client_filter: str | None = field(default=None)

    @property
    def retired(self) -> bool:
        return self.rule.times is not None and self.fired >= self.rule.times

    def matches(self, target: Target) -> bool:
        rule = self.rule
        if rule.operationId != "*" and rule.operationId != target.operation_id:
            return False
        if rule.method is not None and rule.method != target.method:
            return False
        if rule.path is not None and not fnmatch.fnmatchcase(target.path, rule.path):
            return False
        return self.client_filter is None or self.client_filter == target.client_id

    def decide(self) -> bool:
        """Count one match and say whether the schedule fires on it."""
        rule = self.rule
        self.matched += 1
        if rule.after is not None and self.matched <= rule.after:
            return False
        if rule.every is not None and (self.matched - (rule.after or 0)) % rule.every:
            return False
        # Drawn on every eligible match, so the sequence depends only on the seed and the
        # order of matches: the same run gives the same faults.
        if rule.probability is not None and self.rng.random() >= rule.probability:
            return False
        self.fired += 1
        return True

    def latency_seconds(self) -> float:
        """This firing's delay in seconds (0 when the rule has none)."""
        rule = self.rule
        if rule.latencyMs is not None:
            return rule.latencyMs / 1000
        spec = rule.latency
        if spec is None:
            return 0.0
        if spec.min is not None and spec.max is not None:
            return self.rng.uniform(spec.min, spec.max) / 1000
        assert spec.median is not None and spec.sigma is not None
        return spec.median * math.exp(spec.sigma * self.rng.gauss(0, 1)) / 1000

    def to_json(self) -> dict[str, Any]:
        return {
            **self.rule.public(),
            "id": self.rule_id,
            "matched": self.matched,
            "fired": self.fired,
            "retired": self.retired,
        }


class FaultBook:
    """The ordered rules of one app. Thread-safe: tests add rules while the server serves."""

    def __init__(self, *, seed: int = 0) -> None:
        self._seed = seed
        self._rules: list[ActiveRule] = []
        self._next = 1
        self._lock = threading.Lock()

    def add(self, rule: FaultRule) -> ActiveRule:
        """Append ``rule``; it gets its own id unless it names one (duplicates: 409)."""
        with self._lock:
            rule_id = rule.id or self._fresh_id()
            if any(active.rule_id == rule_id for active in self._rules):
                raise Conflict(f"A fault rule with id {rule_id!r} already exists.")
            # Each rule draws from its own stream: its seed, else one derived from the app's
            # seed and its id, so adding a rule never shifts another rule's sequence.
            seed = rule.seed if rule.seed is not None else f"{self._seed}:{rule_id}"
            active = ActiveRule(
                rule, rule_id, random.Random(seed), client_filter=rule.client_filter
            )
            self._rules.append(active)
            return active

    def _fresh_id(self) -> str:
        while True:
            candidate = f"rule-{self._next}"
            self._next += 1
            if all(active.rule_id != candidate for active in self._rules):
                return candidate

    def remove(self, rule_id: str) -> ActiveRule:
        with self._lock:
            for index, active in enumerate(self._rules):
                if active.rule_id == rule_id:
                    return self._rules.pop(index)
        raise NotFound(f"No fault rule was found with id {rule_id!r}.")

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def rules(self) -> list[ActiveRule]:
        with self._lock:
            return list(self._rules)

    def pick(self, target: Target) -> ActiveRule | None:
        """The rule that fires on this request, if any (counting the match on each rule)."""
        with self._lock:
            for active in self._rules:
                if active.retired or not active.matches(target):
                    continue
                if active.decide():
                    return active
        return None
