"""What every control route shares: JSON bodies in, Codat-shaped errors out.

The ``/_mock`` routes (mockserver.control, mockserver.webhooks.routes) are plain Starlette
endpoints; these helpers keep their error handling and body parsing in one place.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mockserver.bodies import BodyIncomplete, read_body
from mockserver.errors import ApiError, BadRequest, ValidationItem
from mockserver.http_errors import error_response
from mockserver.jsonio import JsonTooDeep, loads
from mockserver.settings import MAX_CONTROL_BODY_BYTES

Endpoint = Callable[[Request], Awaitable[Response]]


def control_routes_from(
    table: Iterable[tuple[str, Endpoint, list[str]]], correlation_id: Callable[[], str]
) -> list[Route]:
    """Routes for ``(path, endpoint, methods)`` rows; an ApiError becomes its ErrorMessage."""

    def guarded(handler: Endpoint) -> Endpoint:
        async def endpoint(request: Request) -> Response:
            try:
                return await handler(request)
            except ApiError as err:
                return error_response(err, correlation_id())

        return endpoint

    return [Route(path, guarded(endpoint), methods=methods) for path, endpoint, methods in table]


def invalid(field: str, message: str) -> BadRequest:
    """A 400 naming one field of a control request."""
    return BadRequest(
        "Error processing request - not valid.",
        validation=[ValidationItem(field, message, "control")],
    )


async def json_body(request: Request, limit: int = MAX_CONTROL_BODY_BYTES) -> Any:
    """The request's JSON body (an empty body reads as ``{}``); 400 when it is not JSON, 413
    when it is longer than ``limit`` bytes."""
    try:
        raw = await read_body(request.receive, request.headers.get("content-length"), limit)
    except BodyIncomplete:
        # Nobody will read this answer; what matters is that a partial body is never acted on.
        raise invalid("body", "the body did not fully arrive") from None
    try:
        return loads(raw) if raw.strip() else {}
    except JsonTooDeep as exc:
        raise invalid("body", str(exc)) from None
    except ValueError:
        raise invalid("body", "the body is not valid JSON") from None


async def json_object(request: Request, limit: int = MAX_CONTROL_BODY_BYTES) -> dict[str, Any]:
    """The request's JSON body, which must be an object (of at most ``limit`` bytes)."""
    body = await json_body(request, limit)
    if not isinstance(body, dict):
        raise invalid("body", "the body must be a JSON object")
    return body
