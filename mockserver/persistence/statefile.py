"""The state file behind ``--state``: one SQLite database (standard ``sqlite3``, WAL mode).

Layout (schema version 1, in ``PRAGMA user_version``; ``PRAGMA application_id`` marks the file
as codat-mock's):

* ``meta(key, value)``: JSON values (the world's sync duration, the clock, the fault rules,
  the rate limits, the webhooks) and the world's RNG position (bytes);
* ``tenants(seq, client_id, settings)``: each tenant in order of first use, with its texts and
  visible accounts;
* ``companies(seq, client_id, company_id, body)``: each company with everything under it, in
  creation order.

Every write is one transaction, committed before the answer that caused it leaves. In WAL mode
a commit is a ``write()`` to the WAL file, which the operating system keeps when the process is
killed (``synchronous=NORMAL`` only leaves out the ``fsync`` that guards against power loss).
The file is opened in exclusive locking mode, so a second server on the same file is refused,
and the lock dies with the process that held it.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from mockserver.errors import CodatMockError
from mockserver.jsonio import dumps
from mockserver.store.world import WorldRows

#: The layout this code writes and reads.
SCHEMA_VERSION = 1
#: ``PRAGMA application_id`` of a codat-mock state file ("CMok").
APPLICATION_ID = 0x434D6F6B
_SQLITE_HEADER = b"SQLite format 3\x00"

_SCHEMA = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value NOT NULL)",
    "CREATE TABLE tenants (seq INTEGER PRIMARY KEY, client_id TEXT NOT NULL UNIQUE,"
    " settings TEXT NOT NULL)",
    "CREATE TABLE companies (seq INTEGER PRIMARY KEY, client_id TEXT NOT NULL,"
    " company_id TEXT NOT NULL, body TEXT NOT NULL, UNIQUE (client_id, company_id))",
)


class StateFileError(CodatMockError):
    """The state file cannot be used; the message names the file and the reason."""


@dataclass(slots=True)
class Saved:
    """What a state file holds."""

    #: JSON values by key (``world``, ``clock``, ``faults``, ``rateLimit``, ``webhooks``).
    meta: dict[str, Any]
    #: ``(client_id, settings)`` in order of first use.
    tenants: list[tuple[str, dict[str, Any]]]
    #: ``(client_id, company snapshot)`` in creation order.
    companies: list[tuple[str, dict[str, Any]]]


class StateFile:
    """An open, locked state file. Thread-safe: one writer at a time."""

    def __init__(self, path: Path, connection: sqlite3.Connection, *, fresh: bool) -> None:
        self.path = path
        #: Whether the file was empty when opened (nothing to restore).
        self.fresh = fresh
        self._db = connection
        self._lock = threading.Lock()

    @classmethod
    def open(cls, path: Path, *, synchronous: str = "NORMAL") -> StateFile:
        """Open (or create) the state file at ``path`` and lock it for this process.

        Refuses, with :class:`StateFileError`, a path in a missing or read-only directory, a
        read-only file, a file that is not SQLite or not codat-mock's, one from a newer
        schema, a corrupt one, and one another process holds. Nothing is ever overwritten.
        """
        path = Path(path).expanduser()
        _check_path(path)
        try:
            db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=0)
        except sqlite3.Error as exc:
            raise StateFileError(f"{path}: cannot open: {exc}") from None
        try:
            fresh = _prepare(db, path, synchronous)
        except sqlite3.OperationalError as exc:
            db.close()
            if "locked" in str(exc) or "busy" in str(exc):
                raise StateFileError(
                    f"{path}: the file is locked by another process (is another codat-mock "
                    "serving it?); one server per state file"
                ) from None
            raise StateFileError(f"{path}: cannot use the file: {exc}") from None
        except sqlite3.DatabaseError as exc:
            db.close()
            raise StateFileError(f"{path}: the file is corrupt or not a database: {exc}") from None
        except StateFileError:
            db.close()
            raise
        return cls(path, db, fresh=fresh)

    def read(self) -> Saved:
        """Everything the file holds."""
        with self._lock:
            try:
                meta = {
                    key: value if isinstance(value, bytes) else _loads(value)
                    for key, value in self._db.execute("SELECT key, value FROM meta")
                }
                tenants = [
                    (str(client_id), _loads(settings))
                    for client_id, settings in self._db.execute(
                        "SELECT client_id, settings FROM tenants ORDER BY seq"
                    )
                ]
                companies = [
                    (str(client_id), _loads(body))
                    for client_id, body in self._db.execute(
                        "SELECT client_id, body FROM companies ORDER BY seq"
                    )
                ]
            except sqlite3.DatabaseError as exc:
                raise StateFileError(f"{self.path}: the file is corrupt: {exc}") from None
            except ValueError as exc:
                raise StateFileError(f"{self.path}: a record is not JSON: {exc}") from None
        return Saved(meta, tenants, companies)

    def write(self, world: WorldRows | None, meta: Mapping[str, Any]) -> None:
        """Write the changed records and meta values in one transaction, committed on return."""
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                if world is not None:
                    _write_world(db, world)
                if meta:
                    db.executemany(
                        "INSERT INTO meta (key, value) VALUES (?, ?) "
                        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                        [(key, _meta_value(value)) for key, value in meta.items()],
                    )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def close(self) -> None:
        """Close the file (releasing its lock)."""
        with self._lock:
            self._db.close()


def _meta_value(value: Any) -> str | bytes:
    """JSON text, or bytes as they are (the RNG's position: compact, written often)."""
    return value if isinstance(value, bytes) else dumps(value).decode()


def _loads(text: str) -> Any:
    # The file's own records, written by dumps: parsed without jsonio's depth check, which
    # guards requests and would add a third to a restore's time.
    return orjson.loads(text)


def _write_world(db: sqlite3.Connection, world: WorldRows) -> None:
    if world.everything:
        db.execute("DELETE FROM companies")
        db.execute("DELETE FROM tenants")
    for client_id in world.dropped:
        db.execute("DELETE FROM companies WHERE client_id = ?", (client_id,))
        db.execute("DELETE FROM tenants WHERE client_id = ?", (client_id,))
    if world.tenants:
        db.executemany(
            "INSERT INTO tenants (client_id, settings) VALUES (?, ?) "
            "ON CONFLICT (client_id) DO UPDATE SET settings = excluded.settings",
            [(client_id, dumps(settings).decode()) for client_id, settings in world.tenants],
        )
    db.executemany(
        "INSERT INTO companies (client_id, company_id, body) VALUES (?, ?, ?) "
        "ON CONFLICT (client_id, company_id) DO UPDATE SET body = excluded.body",
        _company_rows(world.companies),
    )


def _company_rows(
    companies: Iterable[tuple[str, dict[str, Any]]],
) -> Iterable[tuple[str, str, str]]:
    for client_id, body in companies:
        yield client_id, str(body["id"]), dumps(body).decode()


def _check_path(path: Path) -> None:
    """Refuse what SQLite would misreport or silently create."""
    if path.is_dir():
        raise StateFileError(f"{path}: is a directory; --state takes a file path")
    parent = path.parent
    if not parent.is_dir():
        raise StateFileError(f"{path}: the directory {parent} does not exist")
    if path.exists():
        # The mode bits too: root may write anything, but a file marked read-only is a
        # user's way of saying "keep this as it is".
        if not os.access(path, os.R_OK | os.W_OK) or not path.stat().st_mode & 0o222:
            raise StateFileError(f"{path}: the file is read-only; the mock writes every change")
        with path.open("rb") as handle:
            header = handle.read(len(_SQLITE_HEADER))
        if header and header != _SQLITE_HEADER:
            raise StateFileError(f"{path}: not an SQLite database (not a codat-mock state file)")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise StateFileError(
            f"{path}: the directory {parent} is read-only; SQLite keeps its journal beside the file"
        )


def _prepare(db: sqlite3.Connection, path: Path, synchronous: str) -> bool:
    """Lock the file, check (or lay out) the schema; whether it was empty."""
    # Exclusive locking before the first access: the lock is held from the first
    # transaction until the connection closes (or the process dies), and WAL then needs no
    # shared-memory file.
    db.execute("PRAGMA locking_mode = EXCLUSIVE")
    db.execute("BEGIN EXCLUSIVE")
    try:
        app_id = db.execute("PRAGMA application_id").fetchone()[0]
        version = db.execute("PRAGMA user_version").fetchone()[0]
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
        if app_id != APPLICATION_ID:
            if tables or version:
                raise StateFileError(
                    f"{path}: an SQLite database, but not a codat-mock state file "
                    f"(application_id {app_id:#x})"
                )
            for statement in _SCHEMA:
                db.execute(statement)
            db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            fresh = True
        elif version != SCHEMA_VERSION:
            newer = "a newer" if version > SCHEMA_VERSION else "an older"
            raise StateFileError(
                f"{path}: written by {newer} codat-mock (state schema {version}; this version "
                f"reads schema {SCHEMA_VERSION}); use a matching codat-mock or a new file"
            )
        else:
            check = db.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise StateFileError(f"{path}: the file is corrupt: {check}")
            fresh = False
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    # journal_mode cannot change inside a transaction; the exclusive lock is held already.
    mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise StateFileError(f"{path}: cannot switch the file to WAL mode (got {mode})")
    db.execute(f"PRAGMA synchronous = {synchronous}")
    return fresh
