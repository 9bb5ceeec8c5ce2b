"""Tests of mockserver/persistence/statefile.py: every file the mock must refuse at startup is
refused with a message naming it, and left exactly as it was."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from mockserver import cli
from mockserver.app import create_app
from mockserver.persistence import SCHEMA_VERSION, StateFile, StateFileError
from mockserver.persistence.statefile import APPLICATION_ID
from mockserver.settings import Settings
from mockserver.spec import Spec


def refused(path: Path, fragment: str) -> None:
    """Opening ``path`` fails naming it and saying ``fragment``; the file is unchanged."""
    before = path.read_bytes() if path.is_file() else None
    with pytest.raises(StateFileError) as raised:
        StateFile.open(path)
    assert str(path) in str(raised.value)
    assert fragment in str(raised.value)
    assert (path.read_bytes() if path.is_file() else None) == before


def test_a_new_file_is_laid_out_and_marked(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    file = StateFile.open(path)
    assert file.fresh
    file.close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()
    reopened = StateFile.open(path)
    assert not reopened.fresh
    reopened.close()


def test_a_path_in_a_missing_directory(tmp_path: Path) -> None:
    refused(tmp_path / "nowhere" / "state.db", "does not exist")
    assert not (tmp_path / "nowhere").exists()


def test_a_directory(tmp_path: Path) -> None:
    refused(tmp_path, "is a directory")


def test_a_read_only_file(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    StateFile.open(path).close()
    path.chmod(0o444)
    refused(path, "read-only")


def test_a_file_that_is_not_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("these are my notes, not a database\n")
    refused(path, "not an SQLite database")


def test_another_programs_database(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE accounts (id INTEGER)")
    db.commit()
    db.close()
    refused(path, "not a codat-mock state file")


def test_a_newer_schema(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    StateFile.open(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    refused(path, "newer codat-mock")


def test_a_corrupt_file(tmp_path: Path, spec: Spec) -> None:
    path = tmp_path / "state.db"
    file = StateFile.open(path)
    file.write(None, {f"key-{n}": "x" * 500 for n in range(200)})  # several pages
    file.close()
    data = bytearray(path.read_bytes())
    data[4096 + 100 : 4096 * 3] = b"\xff" * (4096 * 2 - 100)  # pages 2 and 3 overwritten
    path.write_bytes(bytes(data))
    refused(path, "corrupt")


def test_a_file_locked_by_another_process(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    StateFile.open(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        refused(path, "locked by another process")
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_a_second_server_on_one_file_is_refused(tmp_path: Path, spec: Spec) -> None:
    settings = Settings(state=tmp_path / "state.db")
    first = create_app(settings, spec=spec)
    with pytest.raises(StateFileError, match="one server per state file"):
        create_app(settings, spec=spec)
    first.state.mock.durable.file.close()
    create_app(settings, spec=spec).state.mock.durable.file.close()  # free again


def test_serve_refuses_a_bad_state_file_in_one_line_from_the_flag_or_its_variable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere" / "state.db"
    assert cli.main(["serve", "--port", "0", "--state", str(missing)], environ={}) == 2
    assert f"cannot start: {missing}: the directory" in capsys.readouterr().err
    notes = tmp_path / "notes.txt"
    notes.write_text("not a database")
    environ = {"CODAT_MOCK_STATE": str(notes)}
    assert cli.main(["serve", "--port", "0"], environ=environ) == 2
    assert f"cannot start: {notes}: not an SQLite database" in capsys.readouterr().err
    assert notes.read_text() == "not a database"
