"""Match a request's method and path to an operation of the contract.

Routes come only from ``openapi.yaml``. Templates with more literal segments are tried first,
so ``/syncs/latest/status`` wins over ``/syncs/{syncId}/status``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from mockserver.errors import MethodNotAllowed, NotFound
from mockserver.spec import Operation


@dataclass(slots=True, frozen=True)
class Match:
    """The operation a request addresses, with its raw path parameters."""

    operation: Operation
    path_params: Mapping[str, str]


class Router:
    """Finds the operation for ``(method, path)``; 404 for no path, 405 for a wrong method."""

    __slots__ = ("_by_depth", "_found")

    #: How many ``(method, path)`` answers :meth:`match` remembers (cleared when full).
    MEMO_SIZE = 4096

    def __init__(self, operations: Iterable[Operation]) -> None:
        # Most literal segments first; among equals, longer templates first. Stable order
        # keeps the match deterministic whatever order the document lists paths in.
        ordered = sorted(operations, key=lambda op: (-op.literal_segments, -len(op.path), op.path))
        # A parameter matches one segment, never a "/": only templates with as many
        # segments as the path can match it, so each path tries only those.
        self._by_depth: dict[int, list[Operation]] = {}
        for operation in ordered:
            self._by_depth.setdefault(operation.path.count("/"), []).append(operation)
        # Clients call the same few paths again and again; a remembered match skips the
        # patterns. Matches are immutable (nobody writes to ``path_params``), so sharing is
        # safe; misses (404/405) are not remembered, so the memo holds real paths only.
        self._found: dict[tuple[str, str], Match] = {}

    def match(self, method: str, path: str) -> Match:
        """The operation ``method path`` addresses; NotFound or MethodNotAllowed if none."""
        key = (method, path)
        found = self._found.get(key)
        if found is None:
            found = self._match(method, path)
            if len(self._found) >= self.MEMO_SIZE:
                self._found.clear()
            self._found[key] = found
        return found

    def _match(self, method: str, path: str) -> Match:
        allowed: list[str] = []
        matched_path: str | None = None
        # One trailing slash is allowed (``/companies/``) and is not a segment.
        depth = path.count("/") - (len(path) > 1 and path.endswith("/"))
        for operation in self._by_depth.get(depth, ()):
            found = operation.pattern.match(path)
            if found is None:
                continue
            if matched_path is not None and operation.path != matched_path:
                # A less specific template also matches; the more specific one owns the path.
                continue
            matched_path = operation.path
            if operation.method == method:
                return Match(operation, MappingProxyType(found.groupdict()))
            allowed.append(operation.method)
        if allowed:
            raise MethodNotAllowed(
                f"Method {method} is not allowed on {path}.",
                headers={"Allow": ", ".join(sorted(set(allowed)))},
            )
        raise NotFound(f"No resource was found at {path}.")

    def operation_id(self, method: str, path: str) -> str | None:
        """The operationId ``(method, path)`` addresses, or None when it addresses none."""
        try:
            return self.match(method, path).operation.operation_id
        except (NotFound, MethodNotAllowed):
            return None
