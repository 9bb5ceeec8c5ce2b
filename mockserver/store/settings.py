"""Sync Flow settings of one tenant: the flow's texts per locale, and visible accounts per platform.

Both are the fixture defaults overlaid by the tenant's own changes, so a reset (of one key, or
of a platform's list) simply drops the change and the default shows through again.

Texts follow PATCH semantics: a key mapped to ``{"text": ...}`` sets that text, a key mapped to
``null`` resets it, keys not mentioned stay as they are. An unknown key, or an empty text for a
key the defaults mark ``required``, refuses the whole change (nothing is applied).
"""

from __future__ import annotations

import copy
from typing import Any

from mockserver.errors import BadRequest, ValidationItem
from mockserver.store.limits import (
    MAX_ACCOUNT_NAME,
    MAX_LABEL,
    MAX_TEXT,
    MAX_VISIBLE_ACCOUNTS,
    check_count,
    check_length,
)
from mockserver.store.restore import Fields, SnapshotError, check_text, join


class TextSettings:
    """The Sync Flow texts of one tenant."""

    def __init__(self, defaults: dict[str, dict[str, dict[str, Any]]]) -> None:
        self._defaults = defaults
        #: locale -> key -> the tenant's text (``None`` is a deliberate empty text).
        self._overrides: dict[str, dict[str, str | None]] = {}

    def texts(self, locale: str) -> dict[str, Any]:
        """The LocalizationInfo for ``locale`` (empty for a locale with no default texts)."""
        result = copy.deepcopy(self._defaults.get(locale, {}))
        for key, text in self._overrides.get(locale, {}).items():
            entry = {name: value for name, value in result[key].items() if name != "text"}
            if text is not None:  # an empty text has no ``text`` field in Codat's shape
                entry["text"] = text
            result[key] = entry
        return result

    def update(self, locale: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Apply ``changes`` to ``locale`` (all or nothing) and return the new LocalizationInfo."""
        defaults = self._defaults.get(locale, {})
        sets: dict[str, str | None] = {}
        resets: list[str] = []
        problems: list[ValidationItem] = []
        for key, value in changes.items():
            default = defaults.get(key)
            if default is None:
                problems.append(
                    ValidationItem(key, f"'{key}' is not a Sync Flow text key for {locale}.")
                )
            elif value is None:
                resets.append(key)
            elif not isinstance(value, dict):
                problems.append(
                    ValidationItem(key, "Must be an object with a 'text' property, or null.")
                )
            elif "text" in value and value["text"] is None:
                # The contract says a null text means the default; the SDK sends exactly
                # this (it cannot send a null for the whole key), so it resets the key.
                resets.append(key)
            elif "text" in value:
                text = value["text"]
                if not isinstance(text, str):
                    problems.append(ValidationItem(key, "'text' must be a string or null."))
                elif len(text) > MAX_TEXT:
                    problems.append(
                        ValidationItem(
                            f"{key}.text", f"At most {MAX_TEXT} characters ({len(text)} given)."
                        )
                    )
                elif default.get("required") and not text.strip():
                    problems.append(
                        ValidationItem(key, f"'{key}' is required and cannot be empty.")
                    )
                else:
                    sets[key] = text
            # An object without "text" (say, only "required") changes nothing: whether a text
            # is required is Codat's rule, not the client's.
        if problems:
            raise BadRequest(problems[0].message, validation=problems)
        overrides = self._overrides.setdefault(locale, {})
        for key in resets:
            overrides.pop(key, None)
        overrides.update(sets)
        return self.texts(locale)

    def to_json(self) -> dict[str, Any]:
        """The tenant's changes, JSON-able."""
        return copy.deepcopy(self._overrides)

    def load_json(self, data: dict[str, Any], at: str = "texts") -> None:
        """Replace the tenant's changes with a :meth:`to_json` snapshot (SnapshotError names
        a locale or key the defaults do not have, or a text that is not one)."""
        overrides: dict[str, dict[str, str | None]] = {}
        for locale, texts in data.items():
            defaults = self._defaults.get(locale)
            if defaults is None:
                raise SnapshotError(join(at, locale), "is not a locale with Sync Flow texts")
            where = join(at, locale)
            if not isinstance(texts, dict):
                raise SnapshotError(where, "must be an object")
            overrides[locale] = {}
            for key, text in texts.items():
                if key not in defaults:
                    raise SnapshotError(join(where, key), "is not a Sync Flow text key")
                overrides[locale][key] = (
                    None if text is None else check_text(join(where, key), text, MAX_TEXT)
                )
        self._overrides = overrides


class VisibleAccountSettings:
    """Which accounts the Sync Flow shows, per platform, for one tenant."""

    def __init__(self, defaults: dict[str, list[str]]) -> None:
        self._defaults = defaults
        self._overrides: dict[str, list[str]] = {}

    def get(self, platform_key: str) -> dict[str, Any]:
        """The VisibleAccounts object for ``platform_key`` (the caller checks the key exists)."""
        visible = self._overrides.get(platform_key, self._defaults.get(platform_key, []))
        return {"visibleAccounts": list(visible)}

    def update(self, platform_key: str, visible: list[str] | None) -> dict[str, Any]:
        """Set the visible accounts (``None`` resets to the default) and return the result."""
        if visible is None:
            self._overrides.pop(platform_key, None)
        else:
            check_count(len(visible), "visibleAccounts", MAX_VISIBLE_ACCOUNTS, "accounts")
            bad = [i for i, name in enumerate(visible) if not isinstance(name, str)]
            if bad:
                raise BadRequest(
                    "Visible account names must be strings.",
                    validation=[
                        ValidationItem(f"visibleAccounts[{i}]", "Must be a string.") for i in bad
                    ],
                )
            for i, name in enumerate(visible):
                check_length(name, f"visibleAccounts[{i}]", MAX_ACCOUNT_NAME)
            self._overrides[platform_key] = list(visible)
        return self.get(platform_key)

    def to_json(self) -> dict[str, Any]:
        """The tenant's changes, JSON-able."""
        return {key: list(value) for key, value in self._overrides.items()}

    def load_json(self, data: dict[str, Any], at: str = "visibleAccounts") -> None:
        """Replace the tenant's changes with a :meth:`to_json` snapshot (SnapshotError names
        what is not a list of account names)."""
        lists = Fields(data, at)
        self._overrides = {
            check_text(join(at, key), key, MAX_LABEL): lists.strings(
                key, count=MAX_VISIBLE_ACCOUNTS, limit=MAX_ACCOUNT_NAME
            )
            for key in data
        }
