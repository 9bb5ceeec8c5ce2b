"""The webhook part of the control API, mounted under ``/_mock``.

=========================================  ====================================================
``POST /webhooks``                         register a consumer ``{"url", "secret"?,
                                           "events"?, "clientId"?}``; answers it, secret
                                           included
``GET /webhooks``                          ``{"consumers": [...]}``
``DELETE /webhooks/{consumerId}``          unregister (pending messages are cancelled);
                                           answers the consumer
``GET /webhooks/deliveries``               ``{"deliveries": [...]}``, every attempt, filters
                                           ``messageId``, ``consumerId``, ``eventType``,
                                           ``outcome``
``DELETE /webhooks/deliveries``            forget finished messages and their attempts
``GET /webhooks/messages``                 ``{"messages": [...]}``, one per message and
                                           consumer, with its payload
``GET``/``POST``/``DELETE /webhooks/faults``  delivery fault rules (``{"rules": [...]}``)
``DELETE /webhooks/faults/{ruleId}``       remove one rule
=========================================  ====================================================
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mockserver.control_kit import control_routes_from, invalid, json_body
from mockserver.jsonio import json_response
from mockserver.webhooks.delivery import WebhookHub
from mockserver.webhooks.faults import delivery_rule_from

Endpoint = Callable[[Request], Awaitable[Response]]

_OUTCOMES = ("pending", "delivered", "failed", "cancelled")


def webhook_routes(hub: WebhookHub, correlation_id: Callable[[], str]) -> list[Route]:
    """The ``/webhooks`` routes bound to ``hub``; errors carry ids from ``correlation_id``."""

    async def add_consumer(request: Request) -> Response:
        body = await json_body(request)
        # Registration resolves the receiver's name: off the event loop.
        consumer = await run_in_threadpool(hub.consumers.add_from_json, body)
        return json_response(consumer.to_json())

    async def list_consumers(_: Request) -> Response:
        return json_response({"consumers": [c.to_json() for c in hub.consumers.all()]})

    async def remove_consumer(request: Request) -> Response:
        return json_response(hub.remove_consumer(request.path_params["consumer_id"]).to_json())

    async def list_deliveries(request: Request) -> Response:
        params = request.query_params
        outcome = params.get("outcome")
        if outcome is not None and outcome not in _OUTCOMES:
            raise invalid("outcome", f"outcome is one of {', '.join(_OUTCOMES)}")
        attempts = hub.deliveries(
            message_id=params.get("messageId"),
            consumer_id=params.get("consumerId"),
            event_type=params.get("eventType"),
            outcome=outcome,
        )
        return json_response({"deliveries": [a.to_json() for a in attempts]})

    async def clear_deliveries(_: Request) -> Response:
        hub.clear_deliveries()
        return json_response({"deliveries": [a.to_json() for a in hub.deliveries()]})

    async def list_messages(_: Request) -> Response:
        return json_response({"messages": [m.to_json() for m in hub.messages()]})

    async def list_faults(_: Request) -> Response:
        return json_response({"rules": [r.to_json() for r in hub.faults.rules()]})

    async def add_fault(request: Request) -> Response:
        body = await json_body(request)
        items = body if isinstance(body, list) else [body]
        rules = [delivery_rule_from(item) for item in items]
        added = [hub.faults.add(rule).to_json() for rule in rules]
        return json_response({"rules": added} if isinstance(body, list) else added[0])

    async def clear_faults(_: Request) -> Response:
        hub.faults.clear()
        return json_response({"rules": []})

    async def remove_fault(request: Request) -> Response:
        return json_response(hub.faults.remove(request.path_params["rule_id"]).to_json())

    async def list_quiet(_: Request) -> Response:
        return json_response({"clientIds": hub.consumers.quiet_clients()})

    async def make_quiet(request: Request) -> Response:
        hub.consumers.quiet(request.path_params["client_id"])
        return json_response({"clientIds": hub.consumers.quiet_clients()})

    async def end_quiet(request: Request) -> Response:
        hub.consumers.quiet(request.path_params["client_id"], on=False)
        return json_response({"clientIds": hub.consumers.quiet_clients()})

    # Literal paths come before /webhooks/{consumer_id}, which would otherwise match them.
    routes: list[tuple[str, Endpoint, list[str]]] = [
        ("/webhooks", add_consumer, ["POST"]),
        ("/webhooks", list_consumers, ["GET"]),
        ("/webhooks/deliveries", list_deliveries, ["GET"]),
        ("/webhooks/deliveries", clear_deliveries, ["DELETE"]),
        ("/webhooks/messages", list_messages, ["GET"]),
        ("/webhooks/faults", list_faults, ["GET"]),
        ("/webhooks/faults", add_fault, ["POST"]),
        ("/webhooks/faults", clear_faults, ["DELETE"]),
        ("/webhooks/faults/{rule_id}", remove_fault, ["DELETE"]),
        ("/webhooks/quiet", list_quiet, ["GET"]),
        ("/webhooks/quiet/{client_id}", make_quiet, ["PUT"]),
        ("/webhooks/quiet/{client_id}", end_quiet, ["DELETE"]),
        ("/webhooks/{consumer_id}", remove_consumer, ["DELETE"]),
    ]
    return control_routes_from(routes, correlation_id)
