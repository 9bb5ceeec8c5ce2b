"""Check a request against its operation before the handler runs, and (in strict mode) the
response before it leaves.

Request problems become one 400 whose ``validation.errors`` names every problem found; a body
that is not JSON is a 400 of its own, a non-JSON content type a 415. Response problems become a
loud :class:`ContractViolation` (500) that names the field, so the mock cannot drift from the
contract unnoticed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mockserver.errors import (
    ApiError,
    BadRequest,
    ContractViolation,
    UnsupportedMediaType,
    ValidationItem,
)
from mockserver.jsonio import JsonTooDeep, loads
from mockserver.spec import Operation, Parameter, Problem

INVALID_REQUEST = "Error processing request - not valid."
_INTEGER = re.compile(r"^[+-]?\d+$")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


@dataclass(slots=True)
class ValidRequest:
    """A request that passed validation: parameters coerced to their JSON types, body parsed."""

    path: dict[str, Any] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    body: Any = None
    has_body: bool = False


def is_json_media_type(content_type: str | None) -> bool:
    """``application/json`` or any ``+json`` type, parameters (charset) ignored."""
    if not content_type:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def validate_request(
    operation: Operation,
    path_params: Mapping[str, str],
    query_params: Mapping[str, list[str]],
    content_type: str | None,
    body: bytes,
) -> ValidRequest:
    """Validate everything about a request that the contract states; raise on any problem."""
    problems: list[Problem] = []
    valid = ValidRequest()
    for param in operation.parameters_in("path"):
        raw = path_params.get(param.name)
        _check_param(param, [raw] if raw is not None else [], valid.path, problems)
    for param in operation.parameters_in("query"):
        _check_param(param, list(query_params.get(param.name, [])), valid.query, problems)
    _check_body(operation, content_type, body, valid, problems)
    if problems:
        raise BadRequest(
            INVALID_REQUEST,
            validation=[
                ValidationItem(p.location or None, p.message, "contract") for p in problems
            ],
        )
    return valid


def _check_param(
    param: Parameter, raws: list[str], out: dict[str, Any], problems: list[Problem]
) -> None:
    where = f"{param.location}.{param.name}"
    if not raws:
        if param.required:
            problems.append(
                Problem(where, f"the {param.location} parameter {param.name!r} is required")
            )
        elif "default" in param.schema:
            out[param.name] = param.schema["default"]
        return
    if len(raws) > 1:
        problems.append(Problem(where, f"{param.name!r} is given {len(raws)} times; give it once"))
        return
    value, error = _coerce(raws[0], param.kind)
    if error is None:
        error = _format_range(value, param.schema.get("format"))
    if error:
        problems.append(Problem(where, error))
        return
    found = param.validator.problems(value, where)
    if found:
        problems.extend(found)
        return
    if param.schema.get("format") == "uuid" and isinstance(value, str):
        # Ids are case-insensitive GUIDs; the store keeps the lowercase form.
        value = value.lower()
    out[param.name] = value


_INTEGER_FORMATS = {"int32": 2**31, "int64": 2**63}


def _format_range(value: Any, fmt: Any) -> str | None:
    """The bounds an integer format implies (JSON Schema validators leave them unchecked)."""
    bound = _INTEGER_FORMATS.get(fmt) if isinstance(fmt, str) else None
    if bound is not None and isinstance(value, int) and not -bound <= value < bound:
        return f"{value} is outside the range of {fmt}"
    return None


def _coerce(raw: str, kind: str) -> tuple[Any, str | None]:
    """Turn a raw parameter string into the JSON value its schema describes."""
    if kind == "integer":
        if not _INTEGER.match(raw.strip()):
            return None, f"{raw!r} is not an integer"
        return int(raw), None
    if kind == "number":
        if not _NUMBER.match(raw.strip()):
            return None, f"{raw!r} is not a number"
        return float(raw), None
    if kind == "boolean":
        lowered = raw.strip().lower()
        if lowered not in ("true", "false"):
            return None, f"{raw!r} is not a boolean (true or false)"
        return lowered == "true", None
    return raw, None


def _check_body(
    operation: Operation,
    content_type: str | None,
    body: bytes,
    valid: ValidRequest,
    problems: list[Problem],
) -> None:
    if not body.strip():
        # Every request body in this contract is optional; handlers decide what an absent
        # body means (create-company, for one, still needs a name).
        return
    if not is_json_media_type(content_type):
        raise UnsupportedMediaType(
            f"Unsupported content type {content_type or '(none)'!r}; send application/json."
        )
    try:
        parsed = loads(body)
    except JsonTooDeep as exc:
        raise BadRequest(
            INVALID_REQUEST,
            validation=[ValidationItem("body", str(exc), "json")],
        ) from None
    except ValueError:
        raise BadRequest(
            "The request body is not valid JSON.",
            validation=[ValidationItem("body", "the body could not be parsed as JSON", "json")],
        ) from None
    valid.body = parsed
    valid.has_body = True
    if operation.body is None:
        # set-configuration declares no body; the SDK sends an empty POST. Accept an empty
        # object as well, and refuse anything with content rather than silently ignore it.
        if operation.method in ("POST", "PUT", "PATCH") and parsed not in ({}, None):
            problems.append(Problem("body", f"{operation.operation_id} takes no request body"))
        return
    problems.extend(operation.body.problems(parsed, "body"))


def response_problems(operation: Operation, status: int, body: Any) -> list[Problem]:
    """How a response breaks the contract (empty when it keeps it)."""
    spec = operation.responses.get(status)
    if spec is None:
        documented = ", ".join(str(code) for code in sorted(operation.responses))
        return [
            Problem(
                "status",
                f"{status} is not a documented response of {operation.operation_id} ({documented})",
            )
        ]
    if spec.validator is None:
        return []
    return spec.validator.problems(body, "response")


def check_response(operation: Operation, status: int, body: Any) -> None:
    """Strict mode: raise a :class:`ContractViolation` naming every broken field."""
    problems = response_problems(operation, status, body)
    if problems:
        detail = "; ".join(str(p) for p in problems[:10])
        raise ContractViolation(
            f"codat-mock broke its contract in the {status} response of "
            f"{operation.operation_id}: {detail}",
            validation=[
                ValidationItem(p.location or None, p.message, "contract") for p in problems
            ],
        )


_PLACES = ("path.", "query.", "body.", "header.")


def locate(err: ApiError, operation: Operation) -> ApiError:
    """Place the items of an error raised behind the handler (the store names bare fields)
    in the request: ``path.``/``query.`` for the operation's parameters, ``body.`` otherwise."""
    path_names = {p.name for p in operation.parameters_in("path")}

    def place(item_id: str | None) -> str | None:
        if not item_id or item_id == "body" or item_id.startswith(_PLACES):
            return item_id
        head = item_id.split(".", 1)[0].split("[", 1)[0]
        if head in path_names:
            return f"path.{item_id}"
        if head in operation.query_names:
            return f"query.{item_id}"
        return f"body.{item_id}"

    return err.relocate(place)
