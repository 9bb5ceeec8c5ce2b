"""Reading a request body whole, bounded: the one reader the Codat surface and the control
API share.

A body over its limit is refused (413) as soon as that is known: from ``Content-Length``
before a byte is read, else as the chunks arrive. A client that leaves before its last byte
raises :class:`BodyIncomplete`, so a partial body is never acted on.
"""

from __future__ import annotations

from starlette.types import Receive

from mockserver.errors import PayloadTooLarge


class BodyIncomplete(Exception):
    """The client disconnected before the whole request body arrived."""


async def read_body(receive: Receive, content_length: str | None, limit: int) -> bytes:
    """The whole request body from ``receive``; PayloadTooLarge past ``limit`` bytes."""
    if content_length is not None and content_length.isdigit() and int(content_length) > limit:
        raise too_large(limit)
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise BodyIncomplete()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


def too_large(limit: int) -> PayloadTooLarge:
    """The 413 for a body over ``limit`` bytes."""
    return PayloadTooLarge(f"The request body is larger than {limit} bytes.")
