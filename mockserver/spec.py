"""The contract, loaded once: ``openapi.yaml`` becomes one :class:`Operation` per operationId.

Everything the HTTP layer needs to route and validate comes from here: method and path
template, parameters with their schemas, the request body schema, and the schema of every
documented response. JSON Schema validators are compiled once, when the spec loads, and
reused for every request (compiling is the slow part; validating is cheap).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import jsonschema_rs
import orjson
import yaml

from mockserver.errors import CodatMockError
from mockserver.yamlio import load_yaml

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

# mockserver/data/ links to the project's openapi.yaml and fixtures/ in a checkout, and holds
# copies of them in an installed wheel, so the package finds its contract either way.
DEFAULT_SPEC_PATH = Path(__file__).parent / "data" / "openapi.yaml"


class SpecError(CodatMockError, RuntimeError):
    """The contract cannot be loaded or is inconsistent with what the server needs."""


@dataclass(slots=True, frozen=True)
class Problem:
    """One way an instance breaks a schema: where (a dotted path) and what."""

    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


class SchemaValidator:
    """A compiled JSON Schema, resolved against the whole document's ``components``."""

    __slots__ = ("_validator", "pointer")

    def __init__(
        self, pointer: str, schema: Mapping[str, Any], components: Mapping[str, Any]
    ) -> None:
        self.pointer = pointer
        # The schema becomes the root of a document that also carries ``components``, so its
        # ``#/components/...`` references resolve exactly as they do in openapi.yaml.
        root = {**schema, "$schema": JSON_SCHEMA_DIALECT, "components": components}
        self._validator = jsonschema_rs.validator_for(root, validate_formats=True)

    def is_valid(self, instance: Any) -> bool:
        return bool(self._validator.is_valid(instance))

    def problems(self, instance: Any, prefix: str = "") -> list[Problem]:
        """Every problem with ``instance``; the location is a dotted path below ``prefix``."""
        found = []
        for err in self._validator.iter_errors(instance):
            parts = [prefix] if prefix else []
            parts.extend(str(p) for p in err.instance_path)
            if isinstance(err.kind, jsonschema_rs.ValidationErrorKind.Required):
                # A missing field is a problem *of that field*, not of the object holding it.
                parts.append(str(err.kind.property))
            found.append(Problem(".".join(parts), str(err.message)))
        return found


@dataclass(slots=True, frozen=True)
class Parameter:
    """A path, query or header parameter of one operation."""

    name: str
    location: str
    required: bool
    schema: Mapping[str, Any]
    validator: SchemaValidator

    @property
    def kind(self) -> str:
        """The JSON type the raw string must be coerced to before validation."""
        kind = self.schema.get("type", "string")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "string")
        return str(kind)


@dataclass(slots=True, frozen=True)
class ResponseSpec:
    """A documented response: its status and (when it has a JSON body) the body's validator."""

    status: int
    validator: SchemaValidator | None


@dataclass(slots=True, frozen=True)
class Operation:
    """One operation of the contract."""

    operation_id: str
    method: str
    path: str
    parameters: tuple[Parameter, ...]
    body: SchemaValidator | None
    responses: Mapping[int, ResponseSpec]
    pattern: re.Pattern[str] = field(compare=False)
    #: The names of the query parameters the contract declares (asked on every request, so
    #: worked out once).
    query_names: frozenset[str] = field(init=False, compare=False)
    #: The parameters by location (``path``, ``query``, ...), in document order.
    _by_location: Mapping[str, tuple[Parameter, ...]] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        by_location: dict[str, tuple[Parameter, ...]] = {}
        for param in self.parameters:
            by_location[param.location] = (*by_location.get(param.location, ()), param)
        object.__setattr__(self, "_by_location", by_location)
        names = frozenset(p.name for p in by_location.get("query", ()))
        object.__setattr__(self, "query_names", names)

    @property
    def handler_name(self) -> str:
        """The handler's function name: the operationId in snake_case."""
        return self.operation_id.replace("-", "_")

    @property
    def literal_segments(self) -> int:
        """How many path segments are literal; routes with more literals match first."""
        return sum(1 for part in self.path.split("/") if part and "{" not in part)

    def parameters_in(self, location: str) -> tuple[Parameter, ...]:
        """The operation's parameters in ``location``, in document order."""
        return self._by_location.get(location, ())


class Spec:
    """The loaded contract: the raw document and its operations, validators compiled."""

    def __init__(self, document: dict[str, Any], *, source: Path | None = None) -> None:
        self.document = document
        self.source = source
        self.components: Mapping[str, Any] = document.get("components") or {}
        self._validators: dict[str, SchemaValidator] = {}
        self._resolved: dict[str, Any] = {}
        self.operations: dict[str, Operation] = {}
        for operation in self._build_operations():
            if operation.operation_id in self.operations:
                raise SpecError(f"duplicate operationId {operation.operation_id!r}")
            self.operations[operation.operation_id] = operation

    @classmethod
    def load(cls, path: Path | None = None) -> Spec:
        """Load and compile ``openapi.yaml`` (the project's own by default).

        A Spec is never changed once built, so apps share it: each version of a file (its
        path, size and modification time) is parsed and compiled once per process.
        """
        source = path or DEFAULT_SPEC_PATH
        try:
            stat = source.stat()
        except OSError as exc:
            raise SpecError(f"cannot load the contract from {source}: {exc}") from exc
        return _load(source, stat.st_size, stat.st_mtime_ns)

    @cached_property
    def yaml_text(self) -> str:
        """The document as served at ``/openapi.yaml`` (the file as written, when known)."""
        if self.source is not None:
            return self.source.read_text(encoding="utf-8")
        return str(yaml.safe_dump(self.document, sort_keys=False))

    @cached_property
    def json_bytes(self) -> bytes:
        """The document as served at ``/openapi.json``."""
        return orjson.dumps(self.document)

    def validator(self, pointer: str) -> SchemaValidator:
        """The compiled validator for a JSON pointer into the document (cached)."""
        found = self._validators.get(pointer)
        if found is None:
            node = self._lookup(pointer)
            if not isinstance(node, dict):
                raise SpecError(f"{pointer} is not a schema object")
            found = SchemaValidator(pointer, node, self.components)
            self._validators[pointer] = found
        return found

    def schema_validator(self, name: str) -> SchemaValidator:
        """The validator of ``components/schemas/<name>``."""
        if name not in (self.components.get("schemas") or {}):
            raise SpecError(f"no schema named {name!r} in the contract")
        return self.validator(f"#/components/schemas/{name}")

    def check(self, schema_name: str, value: Any) -> list[str]:
        """Problems of ``value`` under a component schema, as text (for fixture loading)."""
        return [str(p) for p in self.schema_validator(schema_name).problems(value)]

    def resolved(self, pointer: str) -> Any:
        """The schema at ``pointer`` with every local ``$ref`` inlined (cycles left as refs).

        Cached: callers treat the result as read-only.
        """
        found = self._resolved.get(pointer)
        if found is None:
            found = self._resolved[pointer] = _inline(self._lookup(pointer), self, ())
        return found

    def _lookup(self, pointer: str) -> Any:
        if not pointer.startswith("#/"):
            raise SpecError(f"only local references are supported, not {pointer!r}")
        node: Any = self.document
        for part in pointer[2:].split("/"):
            key = unquote(part).replace("~1", "/").replace("~0", "~")
            try:
                node = node[int(key)] if isinstance(node, list) else node[key]
            except (KeyError, IndexError, ValueError) as exc:
                raise SpecError(f"unresolvable reference {pointer!r}") from exc
        return node

    def _deref(self, node: Any, here: str) -> tuple[Any, str]:
        """Follow a ``$ref`` (if any) and return the target with its pointer."""
        while isinstance(node, dict) and "$ref" in node:
            here = str(node["$ref"])
            node = self._lookup(here)
        return node, here

    def _build_operations(self) -> Iterator[Operation]:
        for path, item in (self.document.get("paths") or {}).items():
            # JSON pointers travel as URI fragments: escape per RFC 6901, then percent-encode
            # the braces of path templates.
            escaped = path.replace("~", "~0").replace("/", "~1")
            path_pointer = "#/paths/" + quote(escaped, safe="~")
            shared = item.get("parameters") or []
            for method in HTTP_METHODS:
                if method not in item:
                    continue
                raw = item[method]
                op_pointer = f"{path_pointer}/{method}"
                if "operationId" not in raw:
                    raise SpecError(f"{method.upper()} {path} has no operationId")
                yield Operation(
                    operation_id=str(raw["operationId"]),
                    method=method.upper(),
                    path=path,
                    parameters=self._parameters(
                        [(p, f"{path_pointer}/parameters/{i}") for i, p in enumerate(shared)]
                        + [
                            (p, f"{op_pointer}/parameters/{i}")
                            for i, p in enumerate(raw.get("parameters") or [])
                        ]
                    ),
                    body=self._body(raw, op_pointer),
                    responses=self._responses(raw, op_pointer),
                    pattern=_path_pattern(path),
                )

    def _parameters(self, raw: list[tuple[Any, str]]) -> tuple[Parameter, ...]:
        # Operation-level parameters override path-level ones with the same name and place.
        merged: dict[tuple[str, str], Parameter] = {}
        for node, pointer in raw:
            param, here = self._deref(node, pointer)
            merged[(param["in"], param["name"])] = Parameter(
                name=str(param["name"]),
                location=str(param["in"]),
                required=bool(param.get("required", param["in"] == "path")),
                schema=self.resolved(f"{here}/schema"),
                validator=self.validator(f"{here}/schema"),
            )
        return tuple(merged.values())

    def _body(self, raw: Mapping[str, Any], op_pointer: str) -> SchemaValidator | None:
        if "requestBody" not in raw:
            return None
        body, here = self._deref(raw["requestBody"], f"{op_pointer}/requestBody")
        if "application/json" not in (body.get("content") or {}):
            return None
        return self.validator(f"{here}/content/application~1json/schema")

    def _responses(self, raw: Mapping[str, Any], op_pointer: str) -> dict[int, ResponseSpec]:
        found: dict[int, ResponseSpec] = {}
        for code, node in (raw.get("responses") or {}).items():
            if not str(code).isdigit():
                continue
            response, here = self._deref(node, f"{op_pointer}/responses/{code}")
            content = response.get("content") or {}
            validator = None
            if "application/json" in content and "schema" in content["application/json"]:
                validator = self.validator(f"{here}/content/application~1json/schema")
            found[int(code)] = ResponseSpec(int(code), validator)
        return found


def _inline(node: Any, spec: Spec, chain: tuple[str, ...]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            if ref in chain:
                return {"$ref": ref}
            target = _inline(spec._lookup(ref), spec, (*chain, ref))
            siblings = {k: _inline(v, spec, chain) for k, v in node.items() if k != "$ref"}
            return {**target, **siblings} if isinstance(target, dict) else target
        return {k: _inline(v, spec, chain) for k, v in node.items()}
    if isinstance(node, list):
        return [_inline(v, spec, chain) for v in node]
    return node


def _path_pattern(template: str) -> re.Pattern[str]:
    """A regex for a path template: each ``{name}`` matches one non-empty segment."""
    pattern = ""
    for piece in re.split(r"(\{[^}/]+\})", template):
        if piece.startswith("{") and piece.endswith("}"):
            pattern += f"(?P<{piece[1:-1]}>[^/]+)"
        else:
            pattern += re.escape(piece)
    return re.compile(f"^{pattern}/?\\Z")  # \Z: "$" would also match before a final newline


@functools.lru_cache(maxsize=8)
def _load(source: Path, size: int, mtime_ns: int) -> Spec:
    """One version of a contract file, parsed and compiled (``size`` and ``mtime_ns`` are
    only part of the cache key)."""
    try:
        document = load_yaml(source.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise SpecError(f"cannot load the contract from {source}: {exc}") from exc
    if not isinstance(document, dict) or "paths" not in document:
        raise SpecError(f"{source} is not an OpenAPI document")
    return Spec(document, source=source)
