"""Reading a snapshot back: every field checked at the door, every problem named by its path.

A snapshot comes from outside (``PUT /_mock/state``, a ``--load`` file, a state database), so
the store trusts nothing in it: each record's ``from_json`` reads its fields through
:class:`Fields`, which checks the type, the bounds of :mod:`mockserver.store.limits` and the
calendar of :mod:`mockserver.clock`, and raises :class:`SnapshotError` naming the field
(``tenants[0].companies[2].syncs[0].duration``). Whatever passes can be served: no later
read of restored state can fail.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Collection
from datetime import datetime
from typing import Any, TypeVar

from mockserver.clock import check_instant, parse_datetime
from mockserver.errors import ApiError

_T = TypeVar("_T")
_MISSING: Any = object()


class SnapshotError(ValueError):
    """A snapshot that cannot be restored. ``field`` is the dotted path of the bad value."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}" if field else message)


def join(at: str, key: str | int) -> str:
    """The path of ``key`` below ``at``: ``a.b`` for names, ``a[0]`` for positions."""
    if isinstance(key, int):
        return f"{at}[{key}]"
    return f"{at}.{key}" if at else key


class Fields:
    """One JSON object of a snapshot, read field by field."""

    def __init__(self, data: object, at: str) -> None:
        if not isinstance(data, dict):
            raise SnapshotError(at, "must be an object")
        self._data: dict[str, Any] = data
        self.at = at

    def path(self, key: str) -> str:
        """The dotted path of the field ``key``."""
        return join(self.at, key)

    def raw(self, key: str, default: Any = _MISSING) -> Any:
        """The field's value as it is; ``default`` (or an error) when it is absent."""
        if key in self._data:
            return self._data[key]
        if default is _MISSING:
            raise SnapshotError(self.path(key), "is required")
        return default

    def text(self, key: str, limit: int, *, default: Any = _MISSING) -> str:
        """A string of at most ``limit`` characters."""
        return check_text(self.path(key), self.raw(key, default), limit)

    def optional_text(self, key: str, limit: int) -> str | None:
        """A string of at most ``limit`` characters, or null (also when absent)."""
        value = self.raw(key, None)
        return None if value is None else check_text(self.path(key), value, limit)

    def strings(self, key: str, *, count: int, limit: int, default: Any = _MISSING) -> list[str]:
        """A list of at most ``count`` strings of at most ``limit`` characters each."""
        items = self.items(key, default)
        if len(items) > count:
            raise SnapshotError(self.path(key), f"must hold at most {count} entries")
        return [check_text(join(self.path(key), i), value, limit) for i, value in items]

    def uuid(self, key: str) -> str:
        """An id: a UUID, kept in its lowercase hyphenated form."""
        value = self.raw(key)
        canonical = _canonical_uuid(value)
        if canonical is None:
            raise SnapshotError(self.path(key), "must be a UUID")
        return canonical

    def parent_id(self, key: str, parent: str | None) -> str:
        """The id of the record this one belongs to: a UUID, and ``parent`` when given."""
        found = self.uuid(key)
        if parent is not None and found != parent:
            raise SnapshotError(self.path(key), f"must be {parent}, its parent's id")
        return found

    def instant(self, key: str, *, calendar: bool = True) -> datetime:
        """An ISO 8601 date-time, within the mock's calendar unless ``calendar`` is false (for
        instants nothing is ever added to, which may lie a little outside it)."""
        return _instant(self.path(key), self.raw(key), calendar=calendar)

    def optional_instant(self, key: str) -> datetime | None:
        """An ISO 8601 date-time within the mock's calendar, or null (also when absent)."""
        value = self.raw(key, None)
        return None if value is None else _instant(self.path(key), value)

    def number(self, key: str, check: Callable[[object], float], default: Any = _MISSING) -> float:
        """A number that ``check`` accepts (``check`` raises ValueError saying why not)."""
        value = self.raw(key, default)
        if isinstance(value, float) and not math.isfinite(value):
            raise SnapshotError(self.path(key), "must be a finite number")
        try:
            return check(value)
        except ValueError as exc:
            raise SnapshotError(self.path(key), str(exc)) from None

    def flag(self, key: str, default: Any = _MISSING) -> bool:
        """A boolean."""
        value = self.raw(key, default)
        if not isinstance(value, bool):
            raise SnapshotError(self.path(key), "must be true or false")
        return value

    def choice(self, key: str, options: Collection[_T], *, nullable: bool = False) -> _T | None:
        """One of ``options`` (or null, when ``nullable``)."""
        value = self.raw(key, None if nullable else _MISSING)
        if value is None and nullable:
            return None
        # Only strings and integers can match (an unhashable value cannot be looked up, and
        # 2000.0 would match 2000 only to be rendered as a float).
        if type(value) not in (str, int) or value not in options:
            shown = ", ".join(str(option) for option in options)
            raise SnapshotError(self.path(key), f"must be one of {shown}")
        found: _T = value
        return found

    def objects(self, key: str, *, default: Any = _MISSING) -> list[Fields]:
        """A list of objects, each read with its own :class:`Fields`."""
        return [Fields(item, join(self.path(key), i)) for i, item in self.items(key, default)]

    def items(self, key: str, default: Any = _MISSING) -> list[tuple[int, Any]]:
        """A list's elements with their positions."""
        value = self.raw(key, default)
        if not isinstance(value, list):
            raise SnapshotError(self.path(key), "must be a list")
        return list(enumerate(value))

    def mapping(self, key: str, default: Any = _MISSING) -> dict[str, Any]:
        """An object, as a plain dict (the caller reads its values)."""
        value = self.raw(key, default)
        if not isinstance(value, dict):
            raise SnapshotError(self.path(key), "must be an object")
        return value

    def checked(self, key: str, check: Callable[[Any], _T], default: Any = _MISSING) -> _T:
        """The field as ``check`` (one of the store's own rules) accepts it; the rule's
        400 becomes a SnapshotError at this field."""
        try:
            return check(self.raw(key, default))
        except ApiError as err:
            detail = err.validation[0].message if err.validation else err.message
            raise SnapshotError(self.path(key), detail) from None


def check_text(where: str, value: Any, limit: int) -> str:
    """``value`` if it is a string of at most ``limit`` characters; SnapshotError at ``where``."""
    if not isinstance(value, str):
        raise SnapshotError(where, "must be a string")
    if len(value) > limit:
        raise SnapshotError(where, f"must be at most {limit} characters ({len(value)} given)")
    return value


def _canonical_uuid(value: Any) -> str | None:
    if not isinstance(value, str) or len(value) != 36:
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def _instant(where: str, value: Any, *, calendar: bool = True) -> datetime:
    if not isinstance(value, str) or len(value) > 64:
        raise SnapshotError(where, "must be an ISO 8601 date-time")
    try:
        parsed = parse_datetime(value)
    except (OverflowError, ValueError):
        raise SnapshotError(where, "must be an ISO 8601 date-time") from None
    if not calendar:
        return parsed
    try:
        return check_instant(parsed)
    except ValueError as exc:
        raise SnapshotError(where, str(exc)) from None
