#!/usr/bin/env python3
"""codat-mock beside Stoplight Prism 5.16 under the same wrk load, then page latency as one
tenant grows to 100,000 companies.

    python bench/run.py                         # 3 rounds of 10 s a server (about 5 minutes)
    python bench/run.py --seconds 30 --rounds 1  # one 30 s run each
    python bench/run.py --no-prism              # codat-mock alone (no npm needed)

What it does, all on 127.0.0.1 and bounded in time:

1. finds wrk (installs it with apt-get when missing and run as root) and Prism 5.16 (the
   first time, ``npm install @stoplight/prism-cli@5.16.x`` into a cache directory);
2. starts ``codat-mock serve`` as a user runs it (request validation, the journal and the
   request log on; the log goes to /dev/null) and ``prism mock`` on Codat's published spec
   (``/work/shared/upstream`` or ``../shared/upstream``, or ``--spec``), each on a free port;
3. loads each with the same wrk command (1 thread, 16 connections) on ``GET /companies`` (a
   tenant holding one company with one connection; Prism answers its example, also one
   company with one connection) and ``POST /companies``: a warm-up first (Node's JIT), then
   rounds on each server in turn, so a change in the machine's load hits both alike;
4. prints req/s, p50 and p99 (medians of the rounds), the ratio, and the CPU time each
   server spent per request (from /proc: the part of the picture other load changes least);
5. prints how long the mock's garbage collector paused under each load (a fresh mock for
   each endpoint, so the figures are that load's alone);
6. grows one tenant to 1,000, 10,000 and 100,000 companies and prints the page latency (one
   connection) for no query, an indexed query and an orderBy, the mock's memory at 100,000,
   and its startup time.

The machine's load matters: compare the two servers within one run, not across runs.
"""

from __future__ import annotations

import argparse
import atexit
import base64
import gc
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
PRISM_VERSION = "5.16"
SPEC_NAME = "Codat-Sync-Commerce.yaml"
SPEC_PLACES = (
    Path("/work/shared/upstream") / SPEC_NAME,
    REPO.parent / "shared" / "upstream" / SPEC_NAME,
)
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "codat-mock-bench"
SIZES = (1_000, 10_000, 100_000)


def basic(key: str) -> str:
    return "Basic " + base64.b64encode(key.encode()).decode()


GET_AUTH = basic("bench-get")
POST_AUTH = basic("bench-post")
SCALE_AUTH = basic("bench-scale")


# --- tools -------------------------------------------------------------------------------------


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("bench: installing wrk with apt-get ...", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, env=env)
        found = shutil.which("wrk")
    if not found:
        sys.exit("bench: wrk is needed (Debian: apt-get install wrk)")
    return found


def ensure_prism(cache: Path) -> str:
    prism = cache / "node_modules" / ".bin" / "prism"
    if not prism.exists():
        if not shutil.which("npm"):
            sys.exit("bench: Prism needs npm (or pass --no-prism)")
        print(f"bench: installing Prism {PRISM_VERSION} into {cache} (once) ...", flush=True)
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                "npm",
                "install",
                "--prefix",
                str(cache),
                "--no-audit",
                "--no-fund",
                "--silent",
                f"@stoplight/prism-cli@{PRISM_VERSION}.x",
            ],
            check=True,
            timeout=900,
        )
    version = subprocess.run(
        [str(prism), "--version"], capture_output=True, text=True, timeout=60
    ).stdout.strip()
    if not version.startswith(PRISM_VERSION + "."):
        sys.exit(f"bench: expected Prism {PRISM_VERSION}.x in {cache}, found {version!r}")
    return str(prism)


def find_spec(given: str | None) -> Path:
    for place in [Path(given)] if given else SPEC_PLACES:
        if place.exists():
            return place
    sys.exit(
        f"bench: Codat's published spec not found (looked in {', '.join(map(str, SPEC_PLACES))}); pass --spec"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- servers -----------------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    base: str
    startup_seconds: float
    log: Path

    def cpu_seconds(self) -> float:
        """User plus system CPU time of the server process, all its threads."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def stop(self) -> str:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.log.read_text(errors="replace")


#: Every server started, so that none outlives the benchmark however it ends.
STARTED: list[subprocess.Popen[bytes]] = []


@atexit.register
def _stop_all() -> None:
    for process in STARTED:
        if process.poll() is None:
            process.kill()
            process.wait()


def start(name: str, argv: list[str], port: int, ready_path: str, workdir: Path) -> Server:
    log = workdir / f"{name}.log"
    started = time.perf_counter()
    process = subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, stderr=log.open("wb"), cwd=REPO, start_new_session=True
    )
    STARTED.append(process)
    base = f"http://127.0.0.1:{port}"
    deadline = started + 120
    while time.perf_counter() < deadline:
        if process.poll() is not None:
            sys.exit(f"bench: {name} exited at startup:\n{log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(base + ready_path, timeout=1):
                pass
        except urllib.error.HTTPError:
            pass  # an answer all the same: the server is up
        except OSError:
            time.sleep(0.01)
            continue
        return Server(name, process, base, time.perf_counter() - started, log)
    process.kill()
    sys.exit(f"bench: {name} did not start within 120 s")


def call(base: str, method: str, path: str, auth: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("Authorization", auth)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.load(answer)


# --- wrk ---------------------------------------------------------------------------------------


@dataclass
class Load:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def lua(method: str, auth: str, body: str | None = None, *, count_to: int | None = None) -> str:
    """A wrk script: ``body`` may use ``{n}``, a number counting up from 1 per request."""
    lines = [
        f'wrk.method = "{method}"',
        f'wrk.headers["Authorization"] = "{auth}"',
        "local n = 0",
    ]
    if body is not None:
        lines.append('wrk.headers["Content-Type"] = "application/json"')
        # A Lua expression: the JSON text in long brackets, with n spliced in.
        template = "[[" + json.dumps(body).replace("{n}", "]] .. n .. [[") + "]]"
        lines.append(
            f"request = function() n = n + 1; return wrk.format(nil, nil, nil, {template}) end"
        )
    if count_to is not None:
        lines.append("local done = 0")
        lines.append(
            f"response = function() done = done + 1; if done >= {count_to} then wrk.thread:stop() end end"
        )
    return "\n".join(lines) + "\n"


def wrk(
    binary: str, url: str, script: str, workdir: Path, *, seconds: float, connections: int = 16
) -> Load:
    path = workdir / "load.lua"
    path.write_text(script)
    out = subprocess.run(
        [binary, "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency", "-s", str(path), url],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    ).stdout
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", out, re.M))
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    errors += sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    if not (rps and total and "50" in latency):
        sys.exit(f"bench: could not read wrk's output:\n{out}")
    return Load(
        float(rps.group(1)), _ms(latency["50"]), _ms(latency["99"]), int(total.group(1)), errors
    )


# --- the comparison ----------------------------------------------------------------------------


@dataclass
class Row:
    label: str
    mock: list[Load]
    mock_cpu_us: float
    prism: list[Load]
    prism_cpu_us: float | None
    gc: list[str]


def median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def start_mock(workdir: Path) -> Server:
    port = free_port()
    argv = [sys.executable, __file__, "_serve", "--port", str(port)]
    return start("codat-mock", argv, port, "/_mock/health", workdir)


def compare(args: argparse.Namespace, binary: str, workdir: Path) -> tuple[list[Row], float]:
    """Each endpoint: a fresh mock (so the collector's figures are that load's alone) and the
    one Prism, loaded in turn, ``rounds`` times each, after a warm-up."""
    prism = None
    if not args.no_prism:
        prism_bin = ensure_prism(Path(args.cache))
        port = free_port()
        spec = str(find_spec(args.spec))
        argv = [prism_bin, "mock", "-h", "127.0.0.1", "-p", str(port), spec]
        prism = start("prism", argv, port, "/companies", workdir)
    rows = []
    startup = 0.0
    for label, auth, body in (
        ("GET /companies", GET_AUTH, None),
        ("POST /companies", POST_AUTH, {"name": "Bench Co {n}"}),
    ):
        mock = start_mock(workdir)
        startup = max(startup, mock.startup_seconds)
        if body is None:  # the tenant read: one company with one connection, as Prism's example
            company = call(mock.base, "POST", "/companies", auth, {"name": "Bench Co"})
            path = f"/companies/{company['id']}/connections"
            call(mock.base, "POST", path, auth, {"platformKey": "fztf"})
        script = lua(label.split()[0], auth, body)
        servers = [mock] if prism is None else [mock, prism]
        loads: dict[str, list[Load]] = {server.name: [] for server in servers}
        cpu = {server.name: 0.0 for server in servers}
        for server in servers:  # warm-up, not recorded (Node's JIT, Python's caches)
            wrk(binary, server.base + "/companies", script, workdir, seconds=3)
        for _ in range(args.rounds):
            for server in servers:
                before = server.cpu_seconds()
                load = wrk(
                    binary, server.base + "/companies", script, workdir, seconds=args.seconds
                )
                cpu[server.name] += server.cpu_seconds() - before
                loads[server.name].append(load)
        log = mock.stop()

        def per_request(
            name: str, cpu: dict[str, float] = cpu, loads: dict[str, list[Load]] = loads
        ) -> float:
            return cpu[name] / max(sum(load.requests for load in loads[name]), 1) * 1e6

        rows.append(
            Row(
                label,
                loads[mock.name],
                per_request(mock.name),
                loads.get("prism", []),
                per_request("prism") if prism is not None else None,
                [
                    line.split("gc-watch: ", 1)[1]
                    for line in log.splitlines()
                    if "gc-watch: " in line
                ],
            )
        )
    if prism is not None:
        prism.stop()
    return rows, startup


def print_comparison(rows: list[Row], args: argparse.Namespace) -> None:
    print(
        f"\nwrk -t1 -c16, {args.rounds} rounds of {args.seconds:g} s on each server in turn; "
        f"medians of the rounds ({os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.1f} at the end)\n"
    )
    print("| | codat-mock | Prism 5.16 | ratio |")
    print("|---|---:|---:|---:|")
    for row in rows:
        rps = median([load.rps for load in row.mock])
        p50 = median([load.p50_ms for load in row.mock])
        p99 = median([load.p99_ms for load in row.mock])
        worst = max(load.p99_ms for load in row.mock)
        if row.prism:
            their_rps = median([load.rps for load in row.prism])
            their_p50 = median([load.p50_ms for load in row.prism])
            their_p99 = median([load.p99_ms for load in row.prism])
            print(f"| {row.label} req/s | {rps:,.0f} | {their_rps:,.0f} | {rps / their_rps:.1f}x |")
            print(
                f"| {row.label} p50 / p99 | {p50:.2f} / {p99:.2f} ms | {their_p50:.2f} / {their_p99:.2f} ms | |"
            )
        else:
            print(f"| {row.label} req/s | {rps:,.0f} | - | - |")
            print(f"| {row.label} p50 / p99 | {p50:.2f} / {p99:.2f} ms | - | |")
        print(f"| {row.label} worst p99 of a round | {worst:.2f} ms | | |")
        if row.prism_cpu_us is not None:
            ratio = row.prism_cpu_us / row.mock_cpu_us
            print(
                f"| {row.label} CPU per request | {row.mock_cpu_us:,.0f} µs | "
                f"{row.prism_cpu_us:,.0f} µs | {ratio:.1f}x |"
            )
        else:
            print(f"| {row.label} CPU per request | {row.mock_cpu_us:,.0f} µs | - | |")
        errors = sum(load.errors for load in row.mock + row.prism)
        if errors:
            mine = sum(load.errors for load in row.mock)
            print(f"| {row.label} errors (non-2xx, socket) | {mine} | {errors - mine} | |")
    for row in rows:
        if row.gc:
            print(
                f"\nThe mock's garbage collector under {row.label} (journal full after 10,000 requests):"
            )
            for line in row.gc:
                print(f"  {line}")


# --- scaling -----------------------------------------------------------------------------------


def grow(server: Server, binary: str, workdir: Path, have: int, want: int) -> int:
    """POST companies named "Company {n}-{k}" until the tenant holds at least ``want``.

    wrk stops sending after the count (its main thread would still wait out its duration),
    so it is stopped as soon as the tenant is full.
    """
    script = workdir / "grow.lua"
    body = {"name": f"Company {{n}}-{have}"}
    script.write_text(lua("POST", SCALE_AUTH, body, count_to=want - have))
    argv = [binary, "-t1", "-c16", "-d600s", "-s", str(script), server.base + "/companies"]
    loader = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 600
    try:
        while have < want and time.monotonic() < deadline and loader.poll() is None:
            time.sleep(0.5)
            have = int(
                call(server.base, "GET", "/companies?pageSize=1", SCALE_AUTH)["totalResults"]
            )
    finally:
        loader.terminate()
        loader.wait()
    return int(call(server.base, "GET", "/companies?pageSize=1", SCALE_AUTH)["totalResults"])


def scaling(binary: str, workdir: Path, seconds: float) -> None:
    port = free_port()
    server = start(
        "codat-mock-scaling",
        [sys.executable, __file__, "_serve", "--port", str(port)],
        port,
        "/_mock/health",
        workdir,
    )
    print(
        f"\nPage latency as one tenant grows (wrk, 1 connection, {seconds:g} s a cell, p50 / p99; pages of 100)\n"
    )
    print(
        "| companies | no query (last page) | query=name=… (indexed) | orderBy=-created (last page) |"
    )
    print("|---:|---:|---:|---:|")
    have = 0
    for size in SIZES:
        have = grow(server, binary, workdir, have, size)
        last = max(1, have // 100)
        cells = []
        for path in (
            f"/companies?page={last}&pageSize=100",
            "/companies?query=" + urllib.request.quote(f"name=Company 7-{size // 2}"),
            f"/companies?orderBy=-created&page={last}&pageSize=100",
        ):
            load = wrk(
                binary,
                server.base + path,
                lua("GET", SCALE_AUTH),
                workdir,
                seconds=seconds,
                connections=1,
            )
            cells.append(f"{load.p50_ms:.2f} / {load.p99_ms:.2f} ms")
        print(f"| {have:,} | " + " | ".join(cells) + " |")
    print(f"\nMemory at {have:,} companies: {server.rss_mb():.0f} MB RSS")
    server.stop()


# --- the server under watch --------------------------------------------------------------------


def serve_watched(argv: list[str]) -> int:
    """``codat-mock serve`` with each garbage collection timed; a summary on stderr at exit.

    Collections before ``serve`` freezes its startup heap are left out: they are startup.
    """
    sys.path.insert(0, str(REPO))
    from mockserver.cli import main

    pauses: dict[int, list[tuple[float, float]]] = {0: [], 1: [], 2: []}
    began = [0.0, 0.0]

    frozen = [False]

    def watch(phase: str, info: dict[str, Any]) -> None:
        # get_freeze_count() walks the whole frozen heap: ask only until it has been frozen.
        if not frozen[0]:
            frozen[0] = gc.get_freeze_count() > 0
            if not frozen[0]:
                return
        if phase == "start":
            began[0], began[1] = time.perf_counter(), time.thread_time()
        elif began[0]:
            wall = (time.perf_counter() - began[0]) * 1000
            cpu = (time.thread_time() - began[1]) * 1000
            pauses[int(info["generation"])].append((wall, cpu))

    gc.callbacks.append(watch)
    try:
        return main(["serve", *argv])
    finally:
        for generation, seen in pauses.items():
            wall = max((p[0] for p in seen), default=0.0)
            cpu = max((p[1] for p in seen), default=0.0)
            total = sum(p[1] for p in seen)
            print(
                f"gc-watch: generation {generation}: {len(seen)} collections, longest "
                f"{wall:.2f} ms wall ({cpu:.2f} ms of CPU), {total:.0f} ms of CPU in all",
                file=sys.stderr,
                flush=True,
            )


# --- main --------------------------------------------------------------------------------------


def main() -> int:
    if sys.argv[1:2] == ["_serve"]:
        return serve_watched(sys.argv[2:])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # so that atexit stops the servers
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--seconds", type=float, default=10.0, help="length of one round (default 10)"
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds on each server, in turn (default 3)"
    )
    parser.add_argument(
        "--scaling-seconds", type=float, default=3.0, help="length of each scaling cell (default 3)"
    )
    parser.add_argument("--no-prism", action="store_true", help="measure codat-mock alone")
    parser.add_argument("--no-scaling", action="store_true", help="leave out the scaling table")
    parser.add_argument(
        "--spec", help=f"Codat's published spec (default: {SPEC_PLACES[0]} or ../shared/upstream)"
    )
    parser.add_argument(
        "--cache", default=str(CACHE), help=f"where Prism is installed (default {CACHE})"
    )
    args = parser.parse_args()
    binary = ensure_wrk()
    with tempfile.TemporaryDirectory(prefix="codat-mock-bench-") as tmp:
        workdir = Path(tmp)
        rows, startup = compare(args, binary, workdir)
        print_comparison(rows, args)
        get, post = rows[0].mock_cpu_us, rows[1].mock_cpu_us
        print(
            f"\nPer core: codat-mock is one process with one event loop: it uses one core. Here it "
            f"spent {get:.0f} µs of CPU per GET and {post:.0f} µs per POST, so one core of "
            f"this machine, all its own, serves about {1e6 / get:,.0f} GET/s or "
            f"{1e6 / post:,.0f} POST/s (wrk and the kernel's loopback need CPU of their own, "
            "and a shared machine gives less). For more, run one mock per core, each with its "
            "own state (its own port and API keys)."
        )
        print(f"Startup: /_mock/health answered {startup:.2f} s after the process started.")
        if not args.no_scaling:
            scaling(binary, workdir, args.scaling_seconds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
