"""The control API under ``/_mock``: separate from the Codat surface, never in openapi.yaml,
never faulted, never journaled.

It tells a test where the mock stands (health, who am I, the clock, the journal, the report)
and moves the world (faults, the clock, resets, snapshots, forced sync outcomes, a merchant
deauthorizing a connection). Its errors use the same ErrorMessage shape as the API's. Its own
small OpenAPI document is served at ``/_mock/openapi.json``.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mockserver.auth import authenticate
from mockserver.clock import Clock, ClockRangeError, isoformat, parse_datetime
from mockserver.control_kit import control_routes_from, invalid, json_body, json_object
from mockserver.errors import BadRequest, NotFound
from mockserver.faults import FaultBook, FaultRuleError, rule_from
from mockserver.faults.ratelimit import RateLimitConfig, RateLimiter
from mockserver.journal import Journal
from mockserver.journal_filters import request_filters
from mockserver.jsonio import JSON_MEDIA_TYPE, dumps, json_response
from mockserver.report import build_report
from mockserver.settings import MAX_SNAPSHOT_BYTES
from mockserver.store import World
from mockserver.webhooks import WebhookHub, webhook_routes
from mockserver.yamlio import load_yaml

CONTROL_OPENAPI = Path(__file__).resolve().parent / "control_openapi.yaml"
Endpoint = Callable[[Request], Awaitable[Response]]
#: GET /_mock/world shows at most this many companies per tenant (the newest).
MAX_WORLD_COMPANIES = 1000


@functools.lru_cache(maxsize=4)
def control_openapi(path: Path = CONTROL_OPENAPI) -> bytes:
    """The control API's OpenAPI document as JSON, parsed once per process (and per path)."""
    return dumps(load_yaml(path.read_text(encoding="utf-8")))


def control_routes(
    *,
    clock: Clock,
    world: World,
    faults: FaultBook,
    journal: Journal,
    rate_limiter: RateLimiter,
    webhooks: WebhookHub,
    correlation_id: Callable[[], str],
    reset: Callable[[], None],
) -> list[Route]:
    """The ``/_mock`` routes over one app's components; ``reset`` resets them all."""
    document = control_openapi()

    # -- where the mock stands ------------------------------------------------------------

    async def health(_: Request) -> Response:
        return json_response({"status": "ok"})

    async def openapi(_: Request) -> Response:
        return Response(document, media_type=JSON_MEDIA_TYPE)

    async def whoami(request: Request) -> Response:
        client = authenticate(request.headers.get("authorization"))
        return json_response({"clientId": client.client_id})

    # -- the clock -------------------------------------------------------------------------

    async def get_clock(_: Request) -> Response:
        return json_response(_clock_view(clock))

    async def post_clock(request: Request) -> Response:
        body = await json_object(request)
        if "advance" in body:
            seconds = body["advance"]
            if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
                raise invalid("advance", "advance takes a number of seconds, zero or more")
            try:
                clock.advance(float(seconds))
            except ClockRangeError as exc:
                raise invalid("advance", str(exc)) from None
            except (OverflowError, ValueError):
                raise invalid("advance", "advance takes a finite number of seconds") from None
        elif "set" in body:
            try:
                instant = parse_datetime(str(body["set"]))
            except (OverflowError, ValueError):
                raise invalid("set", "set takes an ISO 8601 date-time") from None
            try:
                clock.set(instant)
            except ClockRangeError as exc:
                raise invalid("set", str(exc)) from None
        elif body.get("realTime") is True:
            clock.resume_real_time()
        else:
            raise invalid("body", 'send {"advance": seconds}, {"set": iso} or {"realTime": true}')
        webhooks.clock_moved()  # retries may have fallen due
        return json_response(_clock_view(clock))

    # -- faults ----------------------------------------------------------------------------

    async def list_faults(_: Request) -> Response:
        return json_response({"rules": [rule.to_json() for rule in faults.rules()]})

    async def add_fault(request: Request) -> Response:
        body = await json_body(request)
        items = body if isinstance(body, list) else [body]
        try:
            rules = [rule_from(item) for item in items]
        except FaultRuleError as exc:
            raise invalid("rule", str(exc)) from None
        added = [active.to_json() for active in faults.add_all(rules)]
        return json_response({"rules": added} if isinstance(body, list) else added[0])

    async def clear_faults(_: Request) -> Response:
        faults.clear()
        return json_response({"rules": []})

    async def remove_fault(request: Request) -> Response:
        removed = faults.remove(request.path_params["rule_id"])
        return json_response(removed.to_json())

    # -- the journal and the verdict -----------------------------------------------------

    async def list_requests(request: Request) -> Response:
        page = journal.page(**request_filters(request.query_params))
        return json_response(
            {
                "requests": [entry.to_json() for entry in page.entries],
                "hasMore": page.has_more,
                "lastSeq": page.last_seq,
            }
        )

    async def get_request(request: Request) -> Response:
        seq = request.path_params["seq"]
        known = seq.isascii() and seq.isdigit() and len(seq) <= 19
        entry = journal.get(int(seq)) if known else None
        if entry is None:
            raise NotFound(f"No request {seq} is in the journal.")
        return json_response(entry.to_json())

    async def clear_requests(_: Request) -> Response:
        journal.clear()
        return json_response({"requests": []})

    async def report(request: Request) -> Response:
        window = request.query_params.get("window")
        try:
            seconds = float(window) if window is not None else 60.0
        except ValueError:
            raise invalid("window", "window takes a number of seconds") from None
        # One client's requests, and those after a sequence number: a run's own share of a
        # journal that others write to as well.
        filters = request_filters(request.query_params)
        entries = journal.entries(
            client_id=filters.get("client_id"), since_seq=filters["since_seq"]
        )
        return json_response(build_report(entries, window_seconds=seconds))

    # -- the world ---------------------------------------------------------------------------

    async def reset_world(request: Request) -> Response:
        client_id = (await json_object(request)).get("clientId")
        if client_id is None:
            reset()
            return json_response({"status": "reset"})
        if not isinstance(client_id, str):
            raise invalid("clientId", "clientId takes a client's id (GET /_mock/whoami)")
        # One client's data only: faults, journal, clock and webhooks stay as they are.
        world.reset(client_id)
        return json_response({"status": "reset", "clientId": client_id})

    async def get_state(_: Request) -> Response:
        return json_response(world.snapshot())

    async def get_world(request: Request) -> Response:
        shown = request.query_params.get("companies", "100")
        if not (shown.isascii() and shown.isdigit() and int(shown) <= MAX_WORLD_COMPANIES):
            raise invalid("companies", f"companies takes 0 to {MAX_WORLD_COMPANIES}")
        overview = world.overview(companies=int(shown))
        return json_response({"now": isoformat(clock.now()), **overview})

    async def put_state(request: Request) -> Response:
        body = await json_object(request, MAX_SNAPSHOT_BYTES)
        world.load(body)
        return json_response(world.snapshot())

    async def force_outcome(request: Request) -> Response:
        body = await json_object(request)
        code = body.get("syncStatusCode")
        if isinstance(code, bool) or not isinstance(code, int):
            raise invalid("syncStatusCode", "syncStatusCode takes a documented integer code")
        message = body.get("message")
        if message is not None and not isinstance(message, str):
            raise invalid("message", "message takes a string")
        sync_id = request.path_params["sync_id"].lower()
        try:
            result = world.sync_owner(sync_id).force_sync_outcome(sync_id, code, message)
        except BadRequest as err:
            # The store calls the code statusCode; here it is the request's syncStatusCode.
            raise err.relocate(
                lambda item: "syncStatusCode" if item == "statusCode" else item
            ) from None
        return json_response(result)

    async def deauthorize(request: Request) -> Response:
        company_id, connection_id = _connection_ids(request)
        owner = world.connection_owner(company_id, connection_id)
        return json_response(owner.deauthorize_connection(company_id, connection_id))

    async def delete_connection(request: Request) -> Response:
        # The merchant removes the connection: the store forgets it and consumers get
        # connection.deleted.
        company_id, connection_id = _connection_ids(request)
        owner = world.connection_owner(company_id, connection_id)
        return json_response(owner.delete_connection(company_id, connection_id))

    # -- rate limits -------------------------------------------------------------------------

    async def get_rate_limit(_: Request) -> Response:
        return json_response(rate_limiter.config.to_json())

    async def put_rate_limit(request: Request) -> Response:
        body = await json_object(request)
        try:
            config = RateLimitConfig.from_json(body, base=rate_limiter.config)
        except (TypeError, ValueError) as exc:
            raise invalid("body", str(exc)) from None
        rate_limiter.configure(config)
        return json_response(rate_limiter.config.to_json())

    async def rate_limit_status(_: Request) -> Response:
        return json_response(rate_limiter.status())

    routes = [
        ("/health", health, ["GET"]),
        ("/openapi.json", openapi, ["GET"]),
        ("/whoami", whoami, ["GET"]),
        ("/clock", get_clock, ["GET"]),
        ("/clock", post_clock, ["POST"]),
        ("/faults", list_faults, ["GET"]),
        ("/faults", add_fault, ["POST"]),
        ("/faults", clear_faults, ["DELETE"]),
        ("/faults/{rule_id}", remove_fault, ["DELETE"]),
        ("/requests", list_requests, ["GET"]),
        ("/requests", clear_requests, ["DELETE"]),
        ("/requests/{seq}", get_request, ["GET"]),
        ("/report", report, ["GET"]),
        ("/reset", reset_world, ["POST"]),
        ("/state", get_state, ["GET"]),
        ("/state", put_state, ["PUT"]),
        ("/world", get_world, ["GET"]),
        ("/syncs/{sync_id}/outcome", force_outcome, ["POST"]),
        (
            "/companies/{company_id}/connections/{connection_id}/deauthorize",
            deauthorize,
            ["POST"],
        ),
        ("/companies/{company_id}/connections/{connection_id}", delete_connection, ["DELETE"]),
        ("/rate-limit", get_rate_limit, ["GET"]),
        ("/rate-limit", put_rate_limit, ["PUT"]),
        ("/rate-limit/status", rate_limit_status, ["GET"]),
    ]
    return control_routes_from(routes, correlation_id) + webhook_routes(webhooks, correlation_id)


def _connection_ids(request: Request) -> tuple[str, str]:
    params = request.path_params
    return params["company_id"].lower(), params["connection_id"].lower()


def _clock_view(clock: Clock) -> dict[str, Any]:
    return {"now": isoformat(clock.now()), "frozen": clock.is_frozen}
