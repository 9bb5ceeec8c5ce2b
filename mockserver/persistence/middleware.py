"""The ASGI layer of ``--state``: what a request changed is in the file before its answer
leaves.

It sits outside every other layer, so it covers the Codat surface and the control API alike,
and holds back the start of each write's response until :meth:`Durable.flush` has committed.
Should the write fail, the client gets a 500 in Codat's error shape instead of an answer that
would claim a change the file does not hold.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.errors import InternalServerError, error_body
from mockserver.jsonio import JSON_MEDIA_TYPE, dumps
from mockserver.persistence.durable import Durable

log = logging.getLogger("codat_mock")

_READS = frozenset({"GET", "HEAD", "OPTIONS"})


class DurableMiddleware:
    """Flush the durable copy before each HTTP response starts."""

    def __init__(
        self, app: ASGIApp, *, durable: Durable, correlation_id: Callable[[], str]
    ) -> None:
        self.app = app
        self.durable = durable
        self.correlation_id = correlation_id

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] in _READS:
            # A read writes nothing a client was promised (what it may move, a fault rule's
            # counters or a new tenant, is written right after): it keeps the fast path.
            await self.app(scope, receive, send)
            try:
                self.durable.flush()
            except Exception:
                log.exception("cannot write the state file %s", self.durable.file.path)
            return
        failed = False

        async def flushing_send(message: Message) -> None:
            nonlocal failed
            if failed:
                return  # the body of an answer already replaced
            if message["type"] == "http.response.start":
                try:
                    self.durable.flush()
                except Exception:
                    log.exception("cannot write the state file %s", self.durable.file.path)
                    failed = True
                    await _send_failure(send, self.correlation_id())
                    return
            await send(message)

        await self.app(scope, receive, flushing_send)


async def _send_failure(send: Send, correlation_id: str) -> None:
    err = InternalServerError("The change could not be written to the state file.")
    body = dumps(error_body(err, correlation_id))
    headers = [
        (b"content-type", JSON_MEDIA_TYPE.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": 500, "headers": headers})
    await send({"type": "http.response.body", "body": body})
