"""Helpers for the SDK suites: constants, a mock per module, SDK clients, the wire log."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TypeVar

import httpx
import pytest
from codat_sync_for_commerce import CodatSyncCommerce
from codat_sync_for_commerce.models import errors, shared
from codat_sync_for_commerce.types import OptionalNullable
from codat_sync_for_commerce.types.basemodel import Unset
from codat_sync_for_commerce.utils.retries import RetryConfig

from mockserver.auth import authorization_for
from mockserver.routing import Router
from mockserver.server import MockServer
from mockserver.spec import Spec

T0 = datetime(2026, 3, 2, 9, 0, 0, tzinfo=timezone.utc)
T0_TEXT = "2026-03-02T09:00:00Z"
API_KEY = "sdk-key-alpha"
OTHER_KEY = "sdk-key-beta"
#: The mock's default sync duration is 30 s; moving the clock this far finishes a sync.
PAST_SYNC_DURATION = 31.0
#: The default configuration fixture's schedule start: where a first "latest" sync begins.
SCHEDULE_START = "2024-01-01T00:00:00Z"
OVERLAP_MESSAGE = "Date overlaps with a previous sync date range."

_T = TypeVar("_T")


def present(value: _T | None) -> _T:
    """The SDK types every 200 body as optional; a missing one is a test failure."""
    assert value is not None
    return value


def given(value: OptionalNullable[_T]) -> _T:
    """A field the SDK types as optional *and* nullable, which must be set and non-null."""
    assert value is not None
    assert not isinstance(value, Unset)
    return value


# -- recording what goes over the wire -------------------------------------------------------


@dataclass(slots=True, frozen=True)
class Exchange:
    """One request the SDK sent and the status it got back."""

    operation_id: str
    params: dict[str, str]
    body: bytes
    status: int


@dataclass(slots=True)
class Wire:
    """An httpx response hook that names each exchange by the contract's operationId."""

    router: Router
    exchanges: list[Exchange] = field(default_factory=list)

    @classmethod
    def for_spec(cls, spec: Spec) -> Wire:
        return cls(Router(spec.operations.values()))

    def record(self, response: httpx.Response) -> None:
        request = response.request
        match = self.router.match(request.method, request.url.path)
        self.exchanges.append(
            Exchange(
                operation_id=match.operation.operation_id,
                params=dict(request.url.params),
                body=request.content,
                status=response.status_code,
            )
        )

    async def record_async(self, response: httpx.Response) -> None:
        self.record(response)

    def sent(self, operation_id: str) -> list[Exchange]:
        return [e for e in self.exchanges if e.operation_id == operation_id]


# -- the server and SDK clients --------------------------------------------------------------


@contextmanager
def sdk_client(
    mock: MockServer,
    authorization: str,
    wire: Wire | None = None,
    *,
    retry: RetryConfig | None = None,
    timeout_ms: int | None = None,
    on_response: Callable[[httpx.Response], None] | None = None,
) -> Iterator[CodatSyncCommerce]:
    """An SDK pointed at the mock, with its own clients (closed on exit, ignoring proxies).

    Each SDK gets clients of its own: the SDK closes its clients when it is garbage
    collected, so sharing one between two SDK objects would close it under the other.
    ``retry=None`` switches retries off; the SDK's default (an hour of backoff) is never used.
    ``wire`` records every response; ``on_response`` is any other response hook.
    """
    hooks: list[Callable[[httpx.Response], None]] = []
    if wire is not None:
        hooks.append(wire.record)
    if on_response is not None:
        hooks.append(on_response)
    client = httpx.Client(trust_env=False, event_hooks={"response": hooks})
    async_client = httpx.AsyncClient(trust_env=False)
    sdk = CodatSyncCommerce(
        security=shared.Security(auth_header=authorization),
        server_url=mock.url,
        client=client,
        async_client=async_client,
        retry_config=retry,
        timeout_ms=timeout_ms,
    )
    try:
        yield sdk
    finally:
        client.close()
        asyncio.run(async_client.aclose())


def whoami(mock: MockServer, api_key: str) -> str:
    """The clientId the mock derives from ``api_key`` (the visible-accounts GET needs it)."""
    response = httpx.get(
        f"{mock.url}/_mock/whoami",
        headers={"Authorization": authorization_for(api_key)},
        trust_env=False,
    )
    assert response.status_code == 200
    client_id: str = response.json()["clientId"]
    return client_id


def error_of(excinfo: pytest.ExceptionInfo[errors.ErrorMessage]) -> errors.ErrorMessageData:
    return excinfo.value.data
