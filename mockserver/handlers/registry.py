"""The operation -> handler registry, checked complete against the contract at startup."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType, ModuleType
from typing import TYPE_CHECKING, Any

from mockserver.errors import CodatMockError

if TYPE_CHECKING:
    from mockserver.auth import Client
    from mockserver.spec import Operation, Spec
    from mockserver.store import Tenant, World


class RegistryError(CodatMockError, RuntimeError):
    """A handler is registered twice, or an operation of the contract has none."""


@dataclass(slots=True)
class Call:
    """What a handler gets: the validated request and the caller's slice of the world."""

    operation: Operation
    client: Client
    tenant: Tenant
    world: World
    spec: Spec
    path: Mapping[str, Any]
    query: Mapping[str, Any]
    #: Query parameters the contract does not declare (last value of each), for the few the
    #: real API accepts anyway, such as the sync flow's ``redirectUrl``.
    extra_query: Mapping[str, str]
    body: Any
    has_body: bool
    url_path: str


Handler = Callable[[Call], Any]


class Registry:
    """operationId -> handler. Duplicates are refused; completeness is checked by ``check``."""

    __slots__ = ("_handlers",)

    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}

    def add(self, operation_id: str, handler: Handler) -> None:
        if operation_id in self._handlers:
            raise RegistryError(f"two handlers for {operation_id!r}")
        self._handlers[operation_id] = handler

    @classmethod
    def from_modules(cls, modules: Iterable[ModuleType], spec: Spec) -> Registry:
        """Register, for every operation of ``spec``, the function named after its operationId
        in snake_case, found in exactly one of ``modules``; then check nothing is missing."""
        registry = cls()
        by_name = {op.handler_name: op.operation_id for op in spec.operations.values()}
        for module in modules:
            for name in getattr(module, "__all__", ()):
                if name not in by_name:
                    raise RegistryError(
                        f"{module.__name__}.{name} is exported as a handler but the contract "
                        "has no such operation"
                    )
                registry.add(by_name[name], getattr(module, name))
        registry.check(spec)
        return registry

    def check(self, spec: Spec) -> None:
        missing = sorted(set(spec.operations) - set(self._handlers))
        if missing:
            raise RegistryError("operations without a handler: " + ", ".join(missing))

    def get(self, operation_id: str) -> Handler:
        return self._handlers[operation_id]

    @property
    def handlers(self) -> Mapping[str, Handler]:
        return MappingProxyType(self._handlers)
