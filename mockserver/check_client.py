"""``codat-mock check-client``: judge a client we cannot import, in any language.

For each response shape, a fresh strict mock starts on a free loopback port and the user's own
command (their test suite, a script using an SDK) runs against it with ``CODAT_BASE_URL`` and
``CODAT_MOCK_URL`` in its environment. The command's output goes straight through. Then one
table says, per shape, how the command exited, which operations it called and which of its
requests were off-contract (the journal's violations). The check passes only when every run
exits 0 and no request was off-contract.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TextIO

from mockserver.journal import JournalEntry
from mockserver.render import check_shape
from mockserver.report import text_table
from mockserver.server import MockServer
from mockserver.settings import Settings

#: The variables the command finds the mock under.
BASE_URL_VARIABLE = "CODAT_BASE_URL"
MOCK_URL_VARIABLE = "CODAT_MOCK_URL"


class CommandCannotStart(RuntimeError):
    """The client's command could not be started at all (not found, not executable)."""


@dataclass(slots=True)
class ShapeRun:
    """What one run of the command against one shape of the mock came to."""

    shape: str
    exit_status: int
    #: The operations the command called, in the order it first called them.
    operations: list[str] = field(default_factory=list)
    #: One line per off-contract request: ``METHOD path: itemId: message``.
    violations: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.exit_status == 0 and not self.violations


Runner = Callable[[Sequence[str], dict[str, str]], int]


def run_command(command: Sequence[str], env: dict[str, str]) -> int:
    """Run ``command`` with ``env``, its output going to ours; its exit status."""
    try:
        return subprocess.call(list(command), env=env)
    except OSError as exc:  # FileNotFoundError, PermissionError, exec format errors
        raise CommandCannotStart(f"cannot start {command[0]!r}: {exc.strerror or exc}") from exc


def check_client(
    command: Sequence[str],
    shapes: Sequence[str],
    *,
    base: Settings | None = None,
    runner: Runner = run_command,
    out: TextIO | None = None,
) -> list[ShapeRun]:
    """Run ``command`` once per shape against a fresh mock; the runs, in ``shapes`` order.

    ``base`` gives the mock's other settings (it is always strict, on a free port).
    Raises :class:`CommandCannotStart` when the command cannot run at all.
    """
    if not command:
        raise ValueError("check-client needs a command to run")
    if shutil.which(command[0]) is None:
        # Said once, before any mock starts, rather than once per shape.
        raise CommandCannotStart(f"cannot start {command[0]!r}: not found or not executable")
    for shape in shapes:
        check_shape(shape)
    stream = out if out is not None else sys.stdout
    runs: list[ShapeRun] = []
    for shape in shapes:
        settings = dataclasses.replace(
            base or Settings(), port=0, strict=True, responses=check_shape(shape)
        )
        with MockServer(settings) as mock:
            print(f"== codat-mock check-client: shape {shape} at {mock.url}", file=stream)
            stream.flush()
            env = {**os.environ, BASE_URL_VARIABLE: mock.url, MOCK_URL_VARIABLE: mock.url}
            status = runner(command, env)
            runs.append(_judge(shape, status, mock.components.journal.entries()))
    return runs


def _judge(shape: str, status: int, entries: Sequence[JournalEntry]) -> ShapeRun:
    run = ShapeRun(shape, status)
    for entry in entries:
        if entry.operation_id is not None and entry.operation_id not in run.operations:
            run.operations.append(entry.operation_id)
        for item in entry.violations:
            where = item.get("itemId") or "request"
            run.violations.append(f"{entry.method} {entry.path}: {where}: {item.get('message')}")
    return run


def format_runs(runs: Sequence[ShapeRun]) -> str:
    """The verdict table, then the operations and off-contract requests of each run."""
    rows = [
        [
            run.shape,
            str(run.exit_status),
            str(len(run.operations)),
            str(len(run.violations)),
            "pass" if run.passed else "FAIL",
        ]
        for run in runs
    ]
    lines = text_table(["shape", "exit", "operations", "off-contract", "verdict"], rows)
    for run in runs:
        lines.append("")
        lines.append(f"{run.shape}: operations called: {', '.join(run.operations) or 'none'}")
        lines.extend(f"{run.shape}: off-contract: {line}" for line in run.violations)
    return "\n".join(lines) + "\n"
