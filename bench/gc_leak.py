#!/usr/bin/env python3
"""How much garbage the serve's collector policy (mockserver/collector.py) leaks.

    python bench/gc_leak.py                  # 20,000 requests, and a run with none
    python bench/gc_leak.py --requests 100000

The policy freezes what survives each full collection; a frozen object that later becomes
garbage in a cycle stays until an audit. This drives a mix of every kind of request (create
and read companies and connections, syncs, configuration, 400s, 401s and 404s, fault rules
and the faults they answer or drop, keep-alive and one-connection-per-request clients) through
``codat-mock serve``'s app in a server process of its own (no audit: no reset), stops it,
then counts what only an audit would collect: leaked objects per 100,000 requests, by type.
A run with no requests gives the startup and shutdown share, taken off.
"""

from __future__ import annotations

import argparse
import base64
import collections
import contextlib
import gc
import http.client
import json
import random
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


def serve(port_file: str) -> int:
    """The serve's app and policy on a free port; at exit the leak, as JSON on stdout."""
    sys.path.insert(0, str(REPO))
    import uvicorn

    from mockserver.app import create_app
    from mockserver.binding import listen
    from mockserver.cli import build_parser, settings_from
    from mockserver.collector import Collector

    settings = settings_from(build_parser().parse_args(["serve", "--quiet", "--port", "0"]))
    collector = Collector()
    app = create_app(settings, on_reset=collector.after_reset)
    sock = listen(settings.host, 0)
    Path(port_file).write_text(str(sock.getsockname()[1]))
    collector.install()
    config = uvicorn.Config(app, log_level="warning", access_log=False)
    # On Ctrl-C uvicorn shuts down gracefully, then re-raises it.
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.Server(config).run(sockets=[sock])
    sock.close()
    stats = gc.get_stats()
    full = stats[2]["collections"]
    cyclic = sum(generation["collected"] for generation in stats)
    gc.collect()  # the garbage any policy collects; the policy freezes what survives it
    frozen = gc.get_freeze_count()
    collector.uninstall()  # unfreezes
    gc.set_debug(gc.DEBUG_SAVEALL)
    leaked = gc.collect()
    kinds = collections.Counter(type(thing).__qualname__ for thing in gc.garbage)
    print(
        json.dumps(
            {
                "leaked": leaked,
                "cyclic": cyclic,
                "full": full,
                "frozen": frozen,
                "kinds": dict(kinds.most_common(12)),
            }
        ),
        flush=True,
    )
    return 0


def basic(key: str) -> str:
    return "Basic " + base64.b64encode(key.encode()).decode()


class Client:
    """One HTTP/1.1 client; ``keep_alive=False`` opens a connection a request."""

    def __init__(self, port: int, keep_alive: bool) -> None:
        self.port = port
        self.keep_alive = keep_alive
        self.conn: http.client.HTTPConnection | None = None
        self.statuses: collections.Counter[int] = collections.Counter()

    def call(self, method: str, path: str, auth: str | None, body: Any = None) -> Any:
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {} if auth is None else {"Authorization": auth}
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if not self.keep_alive:
            headers["Connection"] = "close"
        try:
            self.conn.request(method, path, body=data, headers=headers)
            response = self.conn.getresponse()
            raw = response.read()
        except (http.client.HTTPException, ConnectionError):  # a fault dropped it
            self.statuses[0] += 1
            self.conn.close()
            self.conn = None
            return None
        self.statuses[response.status] += 1
        if not self.keep_alive:
            self.conn.close()
            self.conn = None
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            return None

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


def drive(client: Client, requests: int, seed: int) -> None:
    """``requests`` requests of a mix a test suite or a load test sends."""
    rng = random.Random(seed)
    auths = [basic(f"leak-{seed}-{n}") for n in range(20)]
    companies: list[tuple[str, str]] = []  # (auth, id)
    sent = 0
    while sent < requests:
        auth = rng.choice(auths)
        step = rng.randrange(14)
        if step <= 2 or not companies:
            made = client.call("POST", "/companies", auth, {"name": f"Leak Co {sent}"})
            if isinstance(made, dict) and "id" in made:
                companies.append((auth, made["id"]))
        else:
            owner, company = rng.choice(companies)
            base = f"/companies/{company}"
            if step == 3:
                client.call("GET", "/companies?page=1&pageSize=20", owner)
            elif step == 4:
                client.call("POST", f"{base}/connections", owner, {"platformKey": "fztf"})
            elif step == 5:
                client.call("GET", f"{base}/connections", owner)
            elif step == 6:
                client.call("POST", f"{base}/sync/commerce/latest", owner, {"syncTo": None})
            elif step == 7:
                client.call("GET", f"{base}/sync/commerce/syncs/latest/status", owner)
            elif step == 8:
                client.call("GET", f"/config/companies/{company}/sync/commerce", owner)
            elif step == 9:  # 404: another tenant's company, or none at all
                client.call("GET", f"{base}/connections", rng.choice([*auths, basic("nobody")]))
            elif step == 10:  # 400s: not JSON, and JSON of the wrong shape
                client.call("POST", "/companies", owner, b"{not json")
                client.call("POST", "/companies", owner, {"name": 7})
                sent += 1
            elif step == 11:  # 401
                client.call("GET", "/companies", None)
            elif step == 12:  # a fault rule, and the fault it answers (or drops it)
                rule: dict[str, Any] = {"operationId": "list-connections", "times": 1}
                fault = rng.choice(["status", "reset", "empty", "truncate"])
                rule.update({"status": 503} if fault == "status" else {"drop": fault})
                client.call("POST", "/_mock/faults", None, rule)
                client.call("GET", f"{base}/connections", owner)
                sent += 1
            else:
                client.call("GET", "/config/integrations", owner)
                client.call("GET", "/_mock/requests?limit=5", None)
                sent += 1
        sent += 1


def measure(requests: int, seed: int) -> dict[str, Any]:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        port_file = Path(tmp) / "port"
        server = subprocess.Popen(
            [sys.executable, __file__, "_serve", str(port_file)], stdout=subprocess.PIPE, text=True
        )
        try:
            for _ in range(600):
                if port_file.exists() and port_file.read_text():
                    break
                threading.Event().wait(0.05)
            port = int(port_file.read_text())
            Client(port, True).call("GET", "/_mock/health", None)  # ready
            # Four keep-alive clients, one that connects for every request.
            clients = [Client(port, keep_alive=n < 4) for n in range(5)]
            threads = [
                threading.Thread(target=drive, args=(c, requests // len(clients), seed + n))
                for n, c in enumerate(clients)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            statuses: collections.Counter[int] = collections.Counter()
            for client in clients:
                statuses.update(client.statuses)
                client.close()
        finally:
            server.send_signal(signal.SIGINT)
            out, _ = server.communicate(timeout=120)
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    result["statuses"] = dict(sorted(statuses.items()))
    result["requests"] = sum(statuses.values())
    return result


def main() -> int:
    if sys.argv[1:2] == ["_serve"]:
        return serve(sys.argv[2])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    idle = measure(0, args.seed)
    run = measure(args.requests, args.seed)
    per = (run["leaked"] - idle["leaked"]) / max(run["requests"], 1) * 100_000
    print(f"statuses (0: dropped by a fault): {run['statuses']}")
    print(
        f"no requests: {idle['cyclic']:,} objects of garbage in cycles collected (startup), "
        f"{idle['leaked']} leaked (startup and shutdown)"
    )
    print(
        f"{run['requests']:,} requests: {run['cyclic']:,} objects of garbage in cycles "
        f"collected, {run['full']} full collections, {run['frozen']:,} objects frozen at the "
        f"end, {run['leaked']} leaked; by type: {run['kinds']}"
    )
    print(f"leaked per 100,000 requests: {per:,.0f} objects")
    return 0


if __name__ == "__main__":
    sys.exit(main())
