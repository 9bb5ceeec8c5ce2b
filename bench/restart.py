"""How fast a state file comes back: a restart with 100,000 companies (bench/README figures).

Builds a state file holding N companies (in-process, one transaction), then starts
``codat-mock serve --state`` on it and times the moment it answers ``GET /_mock/health`` and
the restore alone (``create_app`` with and without the file). Also times single-company
commits with ``synchronous=NORMAL`` and ``FULL``, the choice behind the write path.

Usage: python bench/restart.py [COMPANIES]   (loopback only; the files live in a temp dir)
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from mockserver.app import create_app
from mockserver.persistence import StateFile
from mockserver.settings import Settings
from mockserver.spec import Spec

PORT = 4097


def build(path: Path, companies: int) -> None:
    app = create_app(Settings(state=path))
    parts = app.state.mock
    tenant = parts.world.tenant("bench-client")
    for n in range(companies):
        tenant.create_company(f"Company {n}", "A description of the company", {"region": "uk"})
    parts.durable.flush()
    parts.durable.file.close()


def time_restore(path: Path, spec: Spec) -> tuple[float, float, float]:
    """Wall seconds of create_app in memory and with the file, and CPU seconds of the latter
    (the wall time on an idle core; a busy machine stretches the wall time)."""
    started = time.perf_counter()
    create_app(Settings(), spec=spec)
    memory = time.perf_counter() - started
    started, cpu = time.perf_counter(), time.process_time()
    app = create_app(Settings(state=path), spec=spec)
    restored, cpu = time.perf_counter() - started, time.process_time() - cpu
    app.state.mock.durable.file.close()
    return memory, restored, cpu


def time_process(path: Path) -> float:
    started = time.perf_counter()
    command = [sys.executable, "-m", "mockserver.cli", "serve", "--port", str(PORT),
               "--state", str(path), "--quiet", "--log-level", "warning"]  # fmt: skip
    server = subprocess.Popen(command, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{PORT}/_mock/health").status_code == 200:
                    return time.perf_counter() - started
            except httpx.TransportError:
                time.sleep(0.02)
    finally:
        server.terminate()
        server.wait(10)


def time_commits(directory: Path, synchronous: str, count: int = 2000) -> float:
    file = StateFile.open(directory / f"commits-{synchronous}.db", synchronous=synchronous)
    started = time.perf_counter()
    for n in range(count):
        file.write(None, {"bench": {"n": n, "pad": "x" * 200}})
    elapsed = time.perf_counter() - started
    file.close()
    return elapsed / count * 1e6


def main() -> None:
    companies = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "state.db"
        started = time.perf_counter()
        build(path, companies)
        print(f"built {companies} companies in {time.perf_counter() - started:.1f} s "
              f"({path.stat().st_size / 1e6:.1f} MB)")  # fmt: skip
        memory, restored, cpu = time_restore(path, Spec.load())
        print(f"create_app in memory {memory:.2f} s; with the file {restored:.2f} s "
              f"({cpu:.2f} s of CPU)")  # fmt: skip
        print(f"process start to first answer, with the file: {time_process(path):.2f} s")
        for synchronous in ("NORMAL", "FULL"):
            micros = time_commits(Path(tmp), synchronous)
            print(f"one commit, synchronous={synchronous}: {micros:.0f} us")


if __name__ == "__main__":
    main()
