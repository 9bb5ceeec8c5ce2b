"""Fault injection: rules (what, how, when), the book of active rules, the ASGI layer."""

from __future__ import annotations

from mockserver.faults.book import ActiveRule, FaultBook, Target
from mockserver.faults.connection import ConnectionDropped, RawConnection
from mockserver.faults.middleware import FaultMiddleware, prefer_rule
from mockserver.faults.rules import (
    FaultRule,
    FaultRuleError,
    load_rules_file,
    parse_fault_string,
    rule_from,
)

__all__ = [
    "ActiveRule",
    "ConnectionDropped",
    "FaultBook",
    "FaultMiddleware",
    "FaultRule",
    "FaultRuleError",
    "RawConnection",
    "Target",
    "load_rules_file",
    "parse_fault_string",
    "prefer_rule",
    "rule_from",
]
