"""Seed data: integrations, branding, default configuration, default texts, visible accounts.

Loaded once at startup from ``fixtures/`` (JSON or YAML), optionally overlaid by a user's own
directory. A bad fixture is a startup error that names the file and the field.

Each fixture lives in its own file named after it (``integrations``, ``branding``,
``configuration``, ``texts``, ``visible_accounts``) with a ``.yaml``, ``.yml`` or ``.json``
suffix. The loader checks what it can on its own (types, required fields, key formats, cross
references between files) and, when given a :data:`SchemaCheck`, also puts every object
before the contract's component schema.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, TypeAlias

import yaml

from mockserver.auth import client_id_for
from mockserver.errors import CodatMockError
from mockserver.fixture_shapes import (
    BRANDING,
    CONFIGURATION,
    INTEGRATION,
    LOCALIZATION,
    PLATFORM_KEY,
    VISIBLE_ACCOUNTS,
    Problem,
    Shape,
    child,
)
from mockserver.yamlio import YamlLoader

__all__ = [
    "FIXTURE_NAMES",
    "LOCALES",
    "FixtureError",
    "Fixtures",
    "SchemaCheck",
    "default_directory",
    "load_fixtures",
]

#: Checks a value against a named component schema of the contract ("Integration",
#: "Branding", "Configuration", "Localization", "VisibleAccounts") and returns readable
#: problems; an empty list means the value is valid.
SchemaCheck: TypeAlias = Callable[[str, Any], list[str]]

#: The fixture files, by name (without suffix), in the order they are read.
FIXTURE_NAMES = (
    "integrations", "branding", "configuration", "texts", "visible_accounts", "world",
)  # fmt: skip
#: Fixture files a folder may leave out: the seeded world (companies, connections, syncs).
OPTIONAL_NAMES = frozenset({"world"})
#: The locales the text endpoints accept.
LOCALES = ("en-us", "fr-fr")
_SUFFIXES = (".yaml", ".yml", ".json")


@dataclass(slots=True, frozen=True)
class Fixtures:
    """The seed data, validated. Every value is plain JSON (dicts, lists, str, ...)."""

    #: Integration objects, each valid under the contract's ``Integration`` schema.
    integrations: list[dict[str, Any]]
    #: platformKey -> Branding object (valid under ``Branding``).
    branding: dict[str, dict[str, Any]]
    #: The default ``Configuration`` object for a new company (``companyId`` is filled in later).
    configuration: dict[str, Any]
    #: locale ("en-us", "fr-fr") -> text key -> ``{"text": str | None, "required": bool}``.
    texts: dict[str, dict[str, dict[str, Any]]]
    #: platformKey -> the default list of visible account names.
    visible_accounts: dict[str, list[str]]
    #: The seeded world: tenants as ``GET /_mock/state`` lists them, each with its
    #: ``clientId`` (an ``apiKey`` in the file is turned into its client id). The store checks
    #: them as it checks any snapshot, naming :attr:`world_source` and the field.
    world: list[dict[str, Any]] = field(default_factory=list)
    #: The file(s) the seeded world came from.
    world_source: str = "fixtures"


class FixtureError(CodatMockError, ValueError):
    """A fixture could not be read or is invalid.

    The message has one line per problem, each starting with the file and the field path,
    e.g. ``fixtures/integrations.yaml: integrations[3].key: must be four lowercase letters``.
    """

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


def default_directory() -> Path:
    """The project's own ``fixtures/`` folder (through ``mockserver/data``, which links to it
    in a checkout and holds a copy in an installed wheel)."""
    return Path(__file__).parent / "data" / "fixtures"


# --- Reading files ---


class _StrictYamlLoader(YamlLoader):
    """The safe loader, except that a key given twice in one mapping is an error.

    PyYAML would otherwise keep the last value and hide the mistake.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # "<<: *anchor" merges may legitimately repeat keys
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, Hashable):
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"found the key {key!r} twice", key_node.start_mark
                    )
                seen.add(key)
        return super().construct_mapping(node, deep)


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise ValueError(f"found the key {key!r} twice")
        found[key] = value
    return found


@dataclass(slots=True, frozen=True)
class _Source:
    """One fixture file as read: its name, how messages show it, and its data."""

    name: str
    display: str
    data: Any


@dataclass(slots=True)
class _Report:
    """Problems collected so far, so that one run reports all of them."""

    problems: list[str] = field(default_factory=list)

    def add(self, display: str, path: str, message: str) -> None:
        self.problems.append(f"{display}: {path}: {message}")

    def extend(self, display: str, found: Iterable[Problem]) -> None:
        for path, message in found:
            self.add(display, path, message)

    def raise_if_any(self) -> None:
        if self.problems:
            raise FixtureError(self.problems)


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _plain(value: Any, path: str, out: list[Problem]) -> Any:
    """A fresh copy of ``value`` made of JSON types only; anything else is a problem.

    Copying also undoes YAML anchors and aliases, which would otherwise leave several
    entries sharing (and later mutating) one list.
    """
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, list):
        return [_plain(item, f"{path}[{i}]", out) for i, item in enumerate(value)]
    if isinstance(value, dict):
        copy: dict[str, Any] = {}
        for key, item in value.items():
            if isinstance(key, str):
                copy[key] = _plain(item, child(path, key), out)
            else:
                out.append((path, f"the key {key!r} must be a string (quote it)"))
        return copy
    if isinstance(value, (datetime, date, time)):
        out.append((path, "YAML read this as a date or time; quote it to keep it a string"))
    else:
        out.append((path, f"a {type(value).__name__} is not JSON data"))
    return None


def _read_file(name: str, path: Path, report: _Report) -> _Source | None:
    display = _display(path)
    kind = "JSON" if path.suffix == ".json" else "YAML"
    try:
        text = path.read_text(encoding="utf-8")
        if kind == "JSON":
            raw = json.loads(text, object_pairs_hook=_json_object)
        else:
            raw = yaml.load(text, Loader=_StrictYamlLoader)
    except (OSError, UnicodeDecodeError) as exc:
        report.add(display, name, f"cannot be read: {exc}")
        return None
    except (yaml.YAMLError, ValueError) as exc:
        report.add(display, name, f"is not valid {kind}: {' '.join(str(exc).split())}")
        return None
    if raw is None:
        report.add(display, name, "the file is empty")
        return None
    found: list[Problem] = []
    data = _plain(raw, name, found)
    report.extend(display, found)
    return None if found else _Source(name, display, data)


def _read_directory(directory: Path, *, complete: bool, report: _Report) -> dict[str, _Source]:
    """Every fixture file in ``directory``; ``complete`` demands all of them."""
    display = _display(directory)
    if not directory.is_dir():
        report.add(display, "directory", "does not exist or is not a directory")
        return {}
    for entry in sorted(directory.iterdir()):
        # A misspelt file name would otherwise be skipped without a word.
        if entry.suffix in _SUFFIXES and entry.stem not in FIXTURE_NAMES:
            expected = ", ".join(FIXTURE_NAMES)
            report.add(_display(entry), entry.stem, f"is not a fixture file ({expected})")
    sources: dict[str, _Source] = {}
    for name in FIXTURE_NAMES:
        present = [
            directory / f"{name}{s}" for s in _SUFFIXES if (directory / f"{name}{s}").is_file()
        ]
        if len(present) > 1:
            names = ", ".join(p.name for p in present)
            report.add(display, name, f"found in more than one file ({names}); keep one")
        elif present:
            source = _read_file(name, present[0], report)
            if source is not None:
                sources[name] = source
        elif complete and name not in OPTIONAL_NAMES:
            report.add(display, name, f"missing: expected {name}.yaml, .yml or .json")
    return sources


# --- Checking, merging and cross-checking ---


@dataclass(slots=True, frozen=True)
class _Kind:
    """A kind of fixture object: its component schema in the contract and its shape here."""

    schema: str
    shape: Shape


_AN_INTEGRATION = _Kind("Integration", INTEGRATION)
_A_BRANDING = _Kind("Branding", BRANDING)
_A_CONFIGURATION = _Kind("Configuration", CONFIGURATION)
_A_LOCALIZATION = _Kind("Localization", LOCALIZATION)
_A_VISIBLE_LIST = _Kind("VisibleAccounts", VISIBLE_ACCOUNTS)
_LOCALE = re.compile("|".join(map(re.escape, LOCALES)))
_AS_PLATFORM = "a platform key (four lowercase letters)"
_AS_LOCALE = f"a locale ({' or '.join(LOCALES)})"


def _deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """``extra`` laid over ``base``: mappings merge key by key, anything else is replaced."""
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


@dataclass(slots=True)
class _Merged:
    """The seed data while it is assembled, with the file each entry came from."""

    report: _Report
    validate: SchemaCheck | None
    integrations: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: integration key -> (file, index in that file's list)
    integration_from: dict[str, tuple[str, int]] = field(default_factory=dict)
    branding: dict[str, dict[str, Any]] = field(default_factory=dict)
    visible: dict[str, list[str]] = field(default_factory=dict)
    #: "branding.<key>" or "visible_accounts.<key>" -> file
    keyed_from: dict[str, str] = field(default_factory=dict)
    texts: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    configuration: dict[str, Any] = field(default_factory=dict)
    configuration_from: list[str] = field(default_factory=list)
    world: list[dict[str, Any]] = field(default_factory=list)
    world_from: list[str] = field(default_factory=list)

    def add_layer(self, sources: dict[str, _Source]) -> None:
        """Check one directory's files and lay them over what is already here."""
        if source := sources.get("integrations"):
            self._add_integrations(source)
        for name, kind, target in (
            ("branding", _A_BRANDING, self.branding),
            ("visible_accounts", _A_VISIBLE_LIST, self.visible),
        ):
            if source := sources.get(name):
                for key, value in self._entries(source, PLATFORM_KEY, _AS_PLATFORM).items():
                    path = child(name, key)
                    if self._check(source, kind, value, path):
                        target[key] = value
                        self.keyed_from[path] = source.display
        if source := sources.get("texts"):
            for locale, texts in self._entries(source, _LOCALE, _AS_LOCALE).items():
                path = child("texts", locale)
                if not isinstance(texts, dict):
                    self.report.add(source.display, path, "must be a mapping of text key to text")
                    continue
                for key, entry in texts.items():
                    if self._check(source, _A_LOCALIZATION, entry, child(path, key)):
                        self.texts.setdefault(locale, {})[key] = entry
        if source := sources.get("world"):
            self._add_world(source)
        source = sources.get("configuration")
        if source and self._check(source, _A_CONFIGURATION, source.data, "configuration"):
            self.configuration = _deep_merge(self.configuration, source.data)
            self.configuration_from.append(source.display)

    def _check(self, source: _Source, kind: _Kind, value: Any, path: str) -> bool:
        """Check one object by hand and, if that passes, against the contract."""
        found: list[Problem] = []
        kind.shape.check(value, path, found)
        if not found and self.validate is not None:
            # The contract describes a visible-accounts list wrapped in its response object.
            wrapped = {"visibleAccounts": value} if kind is _A_VISIBLE_LIST else value
            found = [(path, problem) for problem in self.validate(kind.schema, wrapped)]
        self.report.extend(source.display, found)
        return not found

    def _entries(self, source: _Source, pattern: re.Pattern[str], what: str) -> dict[str, Any]:
        """The file's top-level mapping, keeping the entries whose key matches ``pattern``."""
        if not isinstance(source.data, dict):
            self.report.add(source.display, source.name, "must be a mapping")
            return {}
        for key in source.data:
            if not pattern.fullmatch(key):
                where = child(source.name, key)
                self.report.add(source.display, where, f"the key must be {what}")
        return {k: v for k, v in source.data.items() if pattern.fullmatch(k)}

    def _add_world(self, source: _Source) -> None:
        """The seeded tenants, each keyed by ``apiKey`` or ``clientId``; what they hold is
        checked by the store, as any snapshot is."""
        data = source.data
        tenants = data.get("tenants") if isinstance(data, dict) else None
        if not isinstance(tenants, list):
            self.report.add(source.display, "world.tenants", "must be a list of tenants")
            return
        for index, tenant in enumerate(tenants):
            path = f"world.tenants[{index}]"
            if not isinstance(tenant, dict):
                self.report.add(source.display, path, "must be a mapping")
                continue
            keys = [key for key in ("apiKey", "clientId") if key in tenant]
            value = tenant.get(keys[0]) if len(keys) == 1 else None
            if not isinstance(value, str) or not value.strip():
                message = "needs exactly one of apiKey or clientId, a non-empty string"
                self.report.add(source.display, path, message)
                continue
            client_id = client_id_for(value) if keys[0] == "apiKey" else value
            rest = {k: v for k, v in tenant.items() if k not in ("apiKey", "clientId")}
            self.world.append({"clientId": client_id, "companies": [], **rest})
        self.world_from.append(source.display)

    def _add_integrations(self, source: _Source) -> None:
        if not isinstance(source.data, list):
            self.report.add(source.display, "integrations", "must be a list of integrations")
            return
        first_at: dict[str, int] = {}
        for index, item in enumerate(source.data):
            path = f"integrations[{index}]"
            if not self._check(source, _AN_INTEGRATION, item, path):
                continue
            key = item["key"]
            if key in first_at:
                message = f"{key!r} is already used by integrations[{first_at[key]}]"
                self.report.add(source.display, f"{path}.key", message)
                continue
            first_at[key] = index
            # A replaced entry keeps its place in the list; a new key goes to the end.
            self.integrations[key] = item
            self.integration_from[key] = (source.display, index)

    def cross_check(self) -> None:
        """Rules that span files: unique ids, branding and lists only for known platforms."""
        report = self.report
        for id_field in ("integrationId", "sourceId"):
            owner: dict[str, str] = {}
            for key, item in self.integrations.items():
                value = str(item[id_field]).lower()
                if value in owner:
                    display, index = self.integration_from[key]
                    message = f"{value} is also the {id_field} of integration {owner[value]}"
                    report.add(display, f"integrations[{index}].{id_field}", message)
                owner.setdefault(value, key)
        for name, entries in (("branding", self.branding), ("visible_accounts", self.visible)):
            for key in entries:
                if key not in self.integrations:
                    path = child(name, key)
                    report.add(self.keyed_from[path], path, "no integration has this key")
        for key, branding in self.branding.items():
            if (integration := self.integrations.get(key)) is None:
                continue
            # Leaving sourceId out of a branding entry means "the integration's".
            expected = str(integration["sourceId"])
            if str(branding.setdefault("sourceId", expected)).lower() != expected.lower():
                path = child("branding", key)
                where = self.integration_from[key][0]
                message = f"must equal integration {key}'s sourceId {expected} (in {where})"
                report.add(self.keyed_from[path], f"{path}.sourceId", message)
        if len(self.configuration_from) > 1:
            # Each layer was valid alone; what the merge produced must be valid as well.
            merged = _Source("configuration", " + ".join(self.configuration_from), None)
            self._check(merged, _A_CONFIGURATION, self.configuration, "configuration")


def files_signature(*directories: Path | None) -> tuple[object, ...]:
    """What identifies one version of the fixture folders (``None``: the project's own):
    every file's name, size and modification time. A cache keyed on it never serves stale
    seed data."""
    signature: list[object] = []
    for directory in directories:
        folder = directory if directory is not None else default_directory()
        try:
            entries = sorted(folder.iterdir())
        except OSError:
            signature.append((str(folder), None))
            continue
        for entry in entries:
            try:
                stat = entry.stat()
            except OSError:
                continue
            signature.append((str(entry), stat.st_size, stat.st_mtime_ns))
    return tuple(signature)


def load_fixtures(
    directory: Path | None = None,
    overlay: Path | None = None,
    *,
    validate: SchemaCheck | None = None,
) -> Fixtures:
    """Read, check and merge the seed data.

    ``directory`` holds the five fixture files (default: the repository's ``fixtures/``).
    ``overlay`` is an optional directory with any of the five files of the user's own:
    integrations replace or add by ``key``; branding and visible accounts replace or add per
    platform key; texts per locale and text key; the configuration is deep-merged.
    ``validate`` is called with a component schema name and each object; its problems are
    reported like the loader's own.

    Raises :class:`FixtureError` listing every problem found, each with its file and field.
    """
    report = _Report()
    base = directory if directory is not None else default_directory()
    layers = [_read_directory(base, complete=True, report=report)]
    if overlay is not None:
        layers.append(_read_directory(overlay, complete=False, report=report))
    # Past an unreadable file, later checks would only report gaps it left behind.
    report.raise_if_any()
    merged = _Merged(report, validate)
    for layer in layers:
        merged.add_layer(layer)
    report.raise_if_any()
    merged.cross_check()
    report.raise_if_any()
    return Fixtures(
        integrations=list(merged.integrations.values()),
        branding=merged.branding,
        configuration=merged.configuration,
        texts=merged.texts,
        visible_accounts=merged.visible,
        world=merged.world,
        world_source=" + ".join(merged.world_from) or "fixtures",
    )
