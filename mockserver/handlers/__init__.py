"""HTTP handlers, one module per API area; each function is named after its operationId."""

from __future__ import annotations

from mockserver.handlers import companies, connections, integrations, settings, sync
from mockserver.handlers.registry import Call, Handler, Registry, RegistryError
from mockserver.spec import Spec

HANDLER_MODULES = (companies, connections, integrations, settings, sync)


def build_registry(spec: Spec) -> Registry:
    """The registry of every handler, checked complete against ``spec``."""
    return Registry.from_modules(HANDLER_MODULES, spec)


__all__ = ["HANDLER_MODULES", "Call", "Handler", "Registry", "RegistryError", "build_registry"]
