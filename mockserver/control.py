"""The control API under ``/_mock``: separate from the Codat surface, never in openapi.yaml.

It tells a test where the mock stands (health, who am I, what time is it) and moves the
world (the clock, a reset). Its errors use the same ErrorMessage shape as the API's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mockserver.auth import authenticate
from mockserver.clock import isoformat, parse_datetime
from mockserver.errors import ApiError, BadRequest, ValidationItem, error_body
from mockserver.jsonio import json_response, loads

if TYPE_CHECKING:
    from mockserver.app import MockState


def control_routes(state: MockState) -> list[Route]:
    """The ``/_mock`` routes bound to one app's state."""

    def guarded(handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            try:
                return await handler(request)  # type: ignore[no-any-return]
            except ApiError as err:
                return json_response(
                    error_body(err, state.correlation_id()), err.status, err.headers
                )

        return endpoint

    async def health(_: Request) -> Response:
        return json_response({"status": "ok"})

    async def whoami(request: Request) -> Response:
        client = authenticate(request.headers.get("authorization"))
        return json_response({"clientId": client.client_id})

    async def get_clock(_: Request) -> Response:
        return json_response(_clock_view(state))

    async def post_clock(request: Request) -> Response:
        body = await _json_object(request)
        if "advance" in body:
            seconds = body["advance"]
            if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
                raise _invalid("advance", "advance takes a number of seconds, zero or more")
            state.clock.advance(float(seconds))
        elif "set" in body:
            try:
                state.clock.set(parse_datetime(str(body["set"])))
            except ValueError:
                raise _invalid("set", "set takes an ISO 8601 date-time") from None
        elif body.get("realTime") is True:
            state.clock.resume_real_time()
        else:
            raise _invalid("body", 'send {"advance": seconds}, {"set": iso} or {"realTime": true}')
        return json_response(_clock_view(state))

    async def reset(_: Request) -> Response:
        state.reset()
        return json_response({"status": "reset"})

    return [
        Route("/health", guarded(health), methods=["GET"]),
        Route("/whoami", guarded(whoami), methods=["GET"]),
        Route("/clock", guarded(get_clock), methods=["GET"]),
        Route("/clock", guarded(post_clock), methods=["POST"]),
        Route("/reset", guarded(reset), methods=["POST"]),
    ]


def _clock_view(state: MockState) -> dict[str, Any]:
    return {"now": isoformat(state.clock.now()), "frozen": state.clock.is_frozen}


def _invalid(field: str, message: str) -> BadRequest:
    return BadRequest(
        "Error processing request - not valid.",
        validation=[ValidationItem(field, message, "control")],
    )


async def _json_object(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = loads(raw) if raw.strip() else {}
    except ValueError:
        raise _invalid("body", "the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise _invalid("body", "the body must be a JSON object")
    return body
