"""A whole client-conformance run: the disagreement table, how often each row showed, and
the statuses each SDK method met; printed in pytest's terminal summary and written as Markdown.
"""

from __future__ import annotations

import importlib.metadata
from collections import Counter
from dataclasses import dataclass, field
from typing import Protocol

from contracts.client.table import Disagreement, Finding, format_table, known_disagreements
from mockserver.spec import Spec

SDK_VERSION = importlib.metadata.version("codat-sync-for-commerce")


@dataclass(slots=True)
class ConformanceRun:
    """What a whole client-conformance run learned: the table and what each method returned."""

    disagreements: list[Disagreement]
    #: (operationId, "sync" or "async") -> HTTP status -> calls.
    statuses: dict[tuple[str, str], Counter[int]] = field(default_factory=dict)
    examples: Counter[tuple[str, str]] = field(default_factory=Counter)

    @classmethod
    def for_spec(cls, spec: Spec) -> ConformanceRun:
        return cls(known_disagreements(spec))

    def record(self, operation_id: str, mode: str, status: int | None) -> None:
        self.statuses.setdefault((operation_id, mode), Counter())[status or 0] += 1

    def observe(self, finding: Finding) -> Disagreement | None:
        """Count ``finding`` against the row that explains it, and return that row."""
        for row in self.disagreements:
            if row.explains(finding):
                row.seen += 1
                return row
        return None

    def coverage(self) -> str:
        lines = [
            "| operation | mode | examples (as the method under test) | calls by status |",
            "| --- | --- | --- | --- |",
        ]
        for (operation, mode), counts in sorted(self.statuses.items()):
            shown = ", ".join(f"{s or 'none'}: {n}" for s, n in sorted(counts.items()))
            lines.append(f"| {operation} | {mode} | {self.examples[(operation, mode)]} | {shown} |")
        return "\n".join(lines) + "\n"

    def summary(self) -> str:
        return (
            f"Where the official SDK (codat-sync-for-commerce {SDK_VERSION}) and openapi.yaml"
            " part ways:\n\n"
            + format_table(self.disagreements)
            + "\nCalls made by the client conformance suite:\n\n"
            + self.coverage()
        )


class TerminalWriter(Protocol):
    def section(self, title: str, sep: str = ...) -> None: ...
    def write_line(self, line: str) -> None: ...


@dataclass(slots=True)
class SummaryPlugin:
    """A pytest plugin object: prints the run's table in the terminal summary (``-s`` or not)."""

    run: ConformanceRun

    def pytest_terminal_summary(self, terminalreporter: TerminalWriter) -> None:
        terminalreporter.section("client conformance: SDK vs contract")
        for line in self.run.summary().splitlines():
            terminalreporter.write_line(line)


def write_table(run: ConformanceRun, path: str) -> None:
    """Write the run's summary (the table and the coverage) to ``path`` as Markdown."""
    with open(path, "w", encoding="utf-8") as out:
        out.write(run.summary())
