"""A small webhook receiver for local development: ``codat-mock webhooks listen``.

It verifies every POST with the ``standardwebhooks`` library, exactly as an integrator's
receiver would, prints each verified event as one line of JSON and answers 204; a delivery
that fails verification gets a 400 (so the mock retries it) and a line on the error stream.
"""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

import uvicorn
from standardwebhooks import Webhook, WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mockserver.binding import base_url, listen
from mockserver.webhooks.signing import secret_bytes


def listen_app(secret: str, out: TextIO, err: TextIO | None = None) -> Starlette:
    """A receiver that checks each delivery against ``secret``.

    On ``out``, one line per verified delivery: ``{"webhookId", "timestamp", "event"}``. On
    ``err`` (when given), one line per rejected delivery. A bad ``secret`` raises
    :class:`~mockserver.webhooks.signing.SecretError` here rather than on the first delivery.
    """
    secret_bytes(secret)
    verifier = Webhook(secret)

    async def receive(request: Request) -> Response:
        body = await request.body()
        headers = dict(request.headers)
        try:
            event = verifier.verify(body, headers)
        except (WebhookVerificationError, ValueError) as exc:
            # ValueError also covers a body that is not UTF-8 or JSON, and a malformed
            # signature header.
            if err is not None:
                reason = {"rejected": str(exc) or type(exc).__name__, "path": request.url.path}
                err.write(json.dumps(reason) + "\n")
                err.flush()
            return JSONResponse({"error": "webhook verification failed"}, status_code=400)
        line: dict[str, Any] = {
            "webhookId": headers.get("webhook-id"),
            "timestamp": headers.get("webhook-timestamp"),
            "event": event,
        }
        out.write(json.dumps(line, separators=(",", ":")) + "\n")
        out.flush()
        return Response(status_code=204)

    return Starlette(routes=[Route("/{path:path}", receive, methods=["POST"])])


def run_listener(port: int, secret: str, host: str = "127.0.0.1") -> None:
    """Serve :func:`listen_app` on ``host:port`` until interrupted (prints to stdout).

    Once the port is taken it says so on the error stream, so a script (or a person) knows
    when to point the mock at it; the events themselves stay alone on stdout.
    """
    app = listen_app(secret, sys.stdout, sys.stderr)
    sock = listen(host, port)
    print(
        f"codat-mock: listening for webhooks on {base_url(sock)} (Ctrl-C to stop)",
        file=sys.stderr,
        flush=True,
    )
    try:
        uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn has shut down gracefully, then re-raises Ctrl-C
        pass
    finally:
        sock.close()
