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
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from mockserver.errors import BadRequest, Conflict, NotFound, ValidationItem
from mockserver.faults.rules import FaultRule
from mockserver.store.ids import rng_state, set_rng_state


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

    def __init__(
        self,
        *,
        seed: int = 0,
        operations: frozenset[str] | None = None,
        startup: Sequence[FaultRule] = (),
    ) -> None:
        self._seed = seed
        #: The operationIds a rule may name (besides "*"); None accepts any.
        self._operations = operations
        self._rules: list[ActiveRule] = []
        self._next = 1
        self._lock = threading.Lock()
        #: Moves on every change, counters included: a durable copy writes when it moved.
        self.revision = 0
        #: The rules in force from startup (``--fault``, ``--faults``) and after each reset.
        self._startup = list(startup)
        self.add_all(self._startup)

    def add(self, rule: FaultRule) -> ActiveRule:
        """Append ``rule``; it gets its own id unless it names one (duplicates: 409)."""
        return self.add_all([rule])[0]

    def add_all(self, rules: list[FaultRule]) -> list[ActiveRule]:
        """Append every rule, or none of them when any is refused (a duplicate id is 409, an
        operationId the contract does not have is 400: a typo must not silently never fire)."""
        with self._lock:
            taken = {active.rule_id for active in self._rules}
            for rule in rules:
                if (
                    self._operations is not None
                    and rule.operationId != "*"
                    and (rule.operationId not in self._operations)
                ):
                    raise BadRequest(
                        f"No operation {rule.operationId!r} in the contract.",
                        validation=[
                            ValidationItem("operationId", "not an operationId of openapi.yaml")
                        ],
                    )
                if rule.id is not None:
                    if rule.id in taken:
                        raise Conflict(f"A fault rule with id {rule.id!r} already exists.")
                    taken.add(rule.id)
            added = []
            for rule in rules:
                rule_id = rule.id or self._fresh_id(taken)
                taken.add(rule_id)
                # Each rule draws from its own stream: its seed, else one derived from the
                # app's seed and its id, so adding a rule never shifts another's sequence.
                seed = rule.seed if rule.seed is not None else f"{self._seed}:{rule_id}"
                active = ActiveRule(
                    rule, rule_id, random.Random(seed), client_filter=rule.client_filter
                )
                self._rules.append(active)
                added.append(active)
            self.revision += 1
            return added

    def _fresh_id(self, taken: set[str]) -> str:
        while True:
            candidate = f"rule-{self._next}"
            self._next += 1
            if candidate not in taken:
                return candidate

    def remove(self, rule_id: str) -> ActiveRule:
        with self._lock:
            for index, active in enumerate(self._rules):
                if active.rule_id == rule_id:
                    self.revision += 1
                    return self._rules.pop(index)
        raise NotFound(f"No fault rule was found with id {rule_id!r}.")

    def clear(self) -> None:
        """Remove every rule; ids are handed out from ``rule-1`` again."""
        with self._lock:
            self._rules.clear()
            self._next = 1
            self.revision += 1

    def reset(self) -> None:
        """Back to the startup rules, fresh counters, ids from ``rule-1`` again (in place)."""
        with self._lock:
            self._rules.clear()
            self._next = 1
        self.add_all(self._startup)

    def rules(self) -> list[ActiveRule]:
        with self._lock:
            return list(self._rules)

    def pick(self, target: Target) -> ActiveRule | None:
        """The rule that fires on this request, if any (counting the match on each rule)."""
        if not self._rules:  # the usual case: no lock to take (a list's length is atomic)
            return None
        with self._lock:
            for active in self._rules:
                if active.retired or not active.matches(target):
                    continue
                self.revision += 1
                if active.decide():
                    return active
        return None

    def export(self) -> dict[str, Any]:
        """Every rule with its counters and its random stream's position, JSON-able (what a
        durable copy keeps). An API key a rule matches on is kept as its client id only."""
        with self._lock:
            rules = []
            for active in self._rules:
                rule = active.rule.model_dump(exclude_none=True, mode="json")
                if rule.pop("apiKey", None) is not None:
                    rule["clientId"] = active.client_filter
                rules.append(
                    {
                        "rule": rule,
                        "id": active.rule_id,
                        "matched": active.matched,
                        "fired": active.fired,
                        "rng": rng_state(active.rng),
                    }
                )
            return {"next": self._next, "rules": rules}

    def restore(self, data: dict[str, Any]) -> None:
        """Replace the rules with those :meth:`export` gave."""
        restored = []
        for item in data["rules"]:
            rng = random.Random()
            set_rng_state(rng, item["rng"])
            rule = FaultRule.model_validate(item["rule"])
            restored.append(
                ActiveRule(
                    rule,
                    str(item["id"]),
                    rng,
                    matched=int(item["matched"]),
                    fired=int(item["fired"]),
                    client_filter=rule.client_filter,
                )
            )
        with self._lock:
            self._rules = restored
            self._next = int(data["next"])
            self.revision += 1
