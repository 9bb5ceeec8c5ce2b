"""mockserver/bodies.py: a request body read whole, bounded, and never acted on half-arrived."""

from __future__ import annotations

import asyncio

import pytest
from starlette.types import Message, Receive

from mockserver.bodies import BodyIncomplete, read_body
from mockserver.errors import PayloadTooLarge


def receiving(*messages: Message) -> tuple[list[Message], Receive]:
    """A ``receive`` that hands out ``messages`` in turn; the list shows what is left."""
    queue = list(messages)

    async def receive() -> Message:
        return queue.pop(0)

    return queue, receive


def read(receive: Receive, content_length: str | None, limit: int) -> bytes:
    return asyncio.run(read_body(receive, content_length, limit))


def chunk(body: bytes, *, more: bool) -> Message:
    return {"type": "http.request", "body": body, "more_body": more}


def test_chunks_are_joined_up_to_the_last() -> None:
    _, receive = receiving(chunk(b'{"a"', more=True), chunk(b": 1}", more=False))
    assert read(receive, None, 100) == b'{"a": 1}'


def test_a_body_at_the_limit_is_read() -> None:
    _, receive = receiving(chunk(b"x" * 10, more=False))
    assert read(receive, "10", 10) == b"x" * 10


def test_a_declared_length_over_the_limit_is_refused_before_reading() -> None:
    left, receive = receiving(chunk(b"x", more=False))
    with pytest.raises(PayloadTooLarge, match="larger than 10 bytes"):
        read(receive, "11", 10)
    assert len(left) == 1  # nothing was read


def test_chunks_over_the_limit_are_refused_whatever_was_declared() -> None:
    _, receive = receiving(chunk(b"x" * 6, more=True), chunk(b"x" * 6, more=False))
    with pytest.raises(PayloadTooLarge):
        read(receive, "5", 10)


def test_a_client_that_leaves_mid_body_is_never_read_as_a_whole_body() -> None:
    _, receive = receiving(chunk(b'{"name": "Half"}', more=True), {"type": "http.disconnect"})
    with pytest.raises(BodyIncomplete):
        read(receive, "66", 100)
