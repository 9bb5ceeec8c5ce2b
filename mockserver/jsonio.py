"""JSON in and out: the one fast path (orjson) that every response body goes through."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from starlette.responses import Response

JSON_MEDIA_TYPE = "application/json; charset=utf-8"


def dumps(value: Any) -> bytes:
    """Serialize ``value`` (plain JSON data) to bytes."""
    return orjson.dumps(value)


def loads(data: bytes | str) -> Any:
    """Parse JSON text; raises ``orjson.JSONDecodeError`` (a ``ValueError``) when malformed."""
    return orjson.loads(data)


def json_response(
    body: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """A Starlette response carrying ``body`` as JSON."""
    return Response(
        dumps(body), status_code=status, headers=dict(headers or {}), media_type=JSON_MEDIA_TYPE
    )
