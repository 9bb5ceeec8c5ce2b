"""Fault rules: what to match, what to do, and when. The same rule from JSON, YAML or the CLI.

A rule matches on ``operationId`` (``"*"`` for any), and optionally ``method``, a ``path``
glob, and the caller (``apiKey`` or ``clientId``). Its action is a ``status`` (with an
optional ``retryAfter``), a ``drop`` of the connection, a delay (``latencyMs`` or a
``latency`` distribution), or a delay combined with either. Its schedule (``times``,
``every``, ``after``, ``probability`` with ``seed``) says which matches fire, and ``when``
says whether the fault replaces the handler (``before``) or hits after the handler committed
(``after``: the lost response). A ``shape`` rule answers normally, in another response shape
(``codat``, ``nulls``, ``extra``; see mockserver.render), optionally after a delay.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from mockserver.auth import client_id_for
from mockserver.errors import CodatMockError
from mockserver.render import ShapeName
from mockserver.yamlio import load_yaml

DropKind = Literal["reset", "empty", "truncate", "hang"]
When = Literal["before", "after"]


class FaultRuleError(CodatMockError, ValueError):
    """A rule that cannot be built; the message says which field and why."""


class Latency(BaseModel):
    """A random delay: uniform between ``min`` and ``max`` ms, or lognormal by median and sigma."""

    model_config = ConfigDict(extra="forbid")

    min: float | None = Field(default=None, ge=0)
    max: float | None = Field(default=None, ge=0)
    median: float | None = Field(default=None, gt=0)
    sigma: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _one_distribution(self) -> Latency:
        uniform = self.min is not None or self.max is not None
        lognormal = self.median is not None or self.sigma is not None
        if uniform == lognormal:
            raise ValueError("latency takes either {min, max} or {median, sigma}")
        if uniform and (self.min is None or self.max is None or self.min > self.max):
            raise ValueError("latency needs min <= max")
        if lognormal and (self.median is None or self.sigma is None):
            raise ValueError("latency needs both median and sigma")
        return self


class FaultRule(BaseModel):
    """One fault rule, as the control API, the CLI and YAML files state it."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    id: str | None = Field(default=None, min_length=1, max_length=100)
    # match
    operationId: str = Field(default="*", max_length=100)
    method: str | None = Field(default=None, max_length=16)
    path: str | None = Field(default=None, max_length=2048)
    apiKey: str | None = Field(default=None, repr=False, max_length=255)
    clientId: str | None = Field(default=None, max_length=255)
    # action
    status: int | None = Field(default=None, ge=100, le=599)
    # At most a year, like a sync's duration: a bound any client's patience is within.
    retryAfter: float | None = Field(default=None, ge=0, le=31_536_000, allow_inf_nan=False)
    latencyMs: float | None = Field(default=None, ge=0)
    latency: Latency | None = None
    drop: DropKind | None = None
    shape: ShapeName | None = None
    message: str | None = Field(default=None, max_length=1000)
    # schedule
    times: int | None = Field(default=None, ge=1)
    every: int | None = Field(default=None, ge=1)
    after: int | None = Field(default=None, ge=0)
    probability: float | None = Field(default=None, ge=0, le=1)
    seed: int | None = None
    when: When = "before"

    @model_validator(mode="after")
    def _coherent(self) -> FaultRule:
        if self.status is None and self.drop is None and self.shape is None and not self.delays:
            raise ValueError("a rule needs an action: status, drop, shape, latencyMs or latency")
        if self.status is not None and self.drop is not None:
            raise ValueError("status and drop exclude each other")
        if self.shape is not None and (self.status is not None or self.drop is not None):
            raise ValueError("shape reshapes the real answer: it excludes status and drop")
        if self.shape is not None and self.when == "after":
            raise ValueError("a shape rule shapes the answer itself; it takes no 'when'")
        if self.retryAfter is not None and self.status is None:
            raise ValueError("retryAfter goes with a status")
        if self.latencyMs is not None and self.latency is not None:
            raise ValueError("give latencyMs or latency, not both")
        if self.apiKey is not None and self.clientId is not None:
            raise ValueError("match on apiKey or clientId, not both")
        if self.method is not None:
            self.method = self.method.upper()
        return self

    @property
    def delays(self) -> bool:
        return self.latencyMs is not None or self.latency is not None

    @property
    def action(self) -> str:
        """The action's name, as the journal and the action registry know it."""
        if self.drop is not None:
            return f"drop:{self.drop}"
        if self.status is not None:
            return "status"
        if self.shape is not None:
            return "shape"
        return "latency"

    @property
    def client_filter(self) -> str | None:
        """The clientId this rule is limited to (an apiKey is matched through its clientId)."""
        if self.apiKey is not None:
            return client_id_for(self.apiKey)
        return self.clientId.lower() if self.clientId else None

    def public(self) -> dict[str, Any]:
        """The rule as the control API shows it: set fields only, the API key masked."""
        shown = self.model_dump(exclude_none=True, mode="json")
        if "apiKey" in shown:
            shown["apiKey"] = "********"
        return shown


def rule_from(data: Any) -> FaultRule:
    """A rule from JSON-like data; :class:`FaultRuleError` names every problem."""
    try:
        return FaultRule.model_validate(data)
    except ValidationError as exc:
        raise FaultRuleError(_explain(exc)) from None


def _explain(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"]) or "rule"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


# CLI form: OPERATION[:STATUS][:key=value,key=value...], e.g.
#   list-companies:429:times=2,retryAfter=1
#   create-company:503:when=after,times=1
#   *:drop=reset:probability=0.1,seed=7
_NUMBERS = {
    "status": int,
    "times": int,
    "every": int,
    "after": int,
    "seed": int,
    "retryAfter": float,
    "latencyMs": float,
    "probability": float,
}


def parse_fault_string(text: str) -> FaultRule:
    """A rule from the CLI's compact form ``OPERATION[:STATUS][:key=value,...]``."""
    pieces = [p.strip() for p in text.split(":")]
    if not pieces or not pieces[0]:
        raise FaultRuleError(f"{text!r}: start with an operationId or *")
    data: dict[str, Any] = {"operationId": pieces[0]}
    for piece in pieces[1:]:
        if not piece:
            continue
        if piece.isascii() and piece.isdigit():
            data["status"] = int(piece)
            continue
        for pair in piece.split(","):
            key, sep, value = pair.partition("=")
            key, value = key.strip(), value.strip()
            if not sep or not key:
                raise FaultRuleError(f"{text!r}: expected key=value, got {pair!r}")
            try:
                if key in _NUMBERS and not value.isascii():
                    raise ValueError(value)
                data[key] = _NUMBERS[key](value) if key in _NUMBERS else value
            except ValueError:
                raise FaultRuleError(f"{text!r}: {key} must be a number, not {value!r}") from None
    try:
        return rule_from(data)
    except FaultRuleError as exc:
        raise FaultRuleError(f"{text!r}: {exc}") from None


def load_rules_file(path: Path) -> list[FaultRule]:
    """Rules from a YAML or JSON file: a list of rules, or ``{"rules": [...]}``."""
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise FaultRuleError(f"{path}: {exc}") from None
    if isinstance(data, dict) and "rules" in data:
        data = data["rules"]
    if not isinstance(data, list):
        raise FaultRuleError(f"{path}: expected a list of rules (or a mapping with 'rules')")
    rules = []
    for index, item in enumerate(data):
        try:
            rules.append(rule_from(item))
        except FaultRuleError as exc:
            raise FaultRuleError(f"{path}: rules[{index}]: {exc}") from None
    return rules
