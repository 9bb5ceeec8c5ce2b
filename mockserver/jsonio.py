"""JSON in and out: the one fast path (orjson) that every body goes through.

Everything the mock reads as JSON (Codat request bodies, control bodies, snapshots) passes
:func:`loads`, which also refuses nesting deeper than :data:`MAX_DEPTH`: no body the contract
describes comes close, and deeper values break the schema validator (which gives up at 255
levels) and the serializer (which gives up at 255 levels too) long after they were accepted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from starlette.responses import Response

JSON_MEDIA_TYPE = "application/json; charset=utf-8"

#: How deeply arrays and objects may nest in JSON the mock reads (a scalar is depth 0,
#: ``[]`` and ``{}`` depth 1). The deepest body the contracts describe is a snapshot, at 7.
MAX_DEPTH = 64


class JsonTooDeep(ValueError):
    """JSON nested deeper than :data:`MAX_DEPTH`."""


def dumps(value: Any) -> bytes:
    """Serialize ``value`` (plain JSON data) to bytes."""
    return orjson.dumps(value)


def loads(data: bytes | str) -> Any:
    """Parse JSON text. Raises ``orjson.JSONDecodeError`` (a ``ValueError``) when malformed
    and :class:`JsonTooDeep` (a ``ValueError`` too) when nested deeper than :data:`MAX_DEPTH`."""
    value = orjson.loads(data)
    # Each level of nesting opens with a bracket: text with few of them (any body the
    # contract describes) cannot nest too deeply, and needs no walk.
    if isinstance(data, str):
        brackets = data.count("[") + data.count("{")
    else:
        brackets = data.count(b"[") + data.count(b"{")
    if brackets > MAX_DEPTH and too_deep(value, MAX_DEPTH):
        raise JsonTooDeep(f"JSON nested deeper than {MAX_DEPTH} levels")
    return value


def too_deep(value: Any, limit: int) -> bool:
    """Whether arrays and objects in ``value`` nest more than ``limit`` levels (iteratively,
    so the check itself cannot run out of stack)."""
    stack: list[tuple[Any, int]] = [(value, 1)] if isinstance(value, (dict, list)) else []
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


_CONTENT_TYPE = (b"content-type", JSON_MEDIA_TYPE.encode("latin-1"))


class JsonResponse(Response):
    """A Starlette response whose JSON body is already serialized: its headers are written
    straight, as every Codat answer goes through here."""

    media_type = JSON_MEDIA_TYPE

    def __init__(
        self, content: bytes, status_code: int = 200, headers: Mapping[str, str] | None = None
    ) -> None:
        self.status_code = status_code
        self.body = content
        self.background = None
        if not headers:
            self.raw_headers = [(b"content-length", b"%d" % len(content)), _CONTENT_TYPE]
            return
        # As Starlette does: the given headers first, then what they leave out.
        raw = [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in headers.items()
        ]
        names = {name for name, _ in raw}
        if b"content-length" not in names:
            raw.append((b"content-length", b"%d" % len(content)))
        if b"content-type" not in names:
            raw.append(_CONTENT_TYPE)
        self.raw_headers = raw


def json_response(
    body: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """A Starlette response carrying ``body`` as JSON."""
    return JsonResponse(dumps(body), status, headers)
