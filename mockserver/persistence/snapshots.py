"""Snapshot files (``--load``): the JSON ``GET /_mock/state`` answers, read back at startup.

A snapshot passes the same checks as ``PUT /_mock/state``; a file that fails them stops the
server with a message naming the file and what is wrong in it.
"""

from __future__ import annotations

from pathlib import Path

from mockserver.errors import ApiError, CodatMockError
from mockserver.jsonio import loads
from mockserver.store.world import World


class SnapshotFileError(CodatMockError):
    """A snapshot file that cannot be loaded; the message names the file and the field."""


def load_snapshot_file(world: World, path: Path) -> None:
    """Replace ``world``'s tenants with the snapshot in ``path``."""
    try:
        data = loads(path.read_bytes())
    except OSError as exc:
        raise SnapshotFileError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise SnapshotFileError(f"{path}: not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise SnapshotFileError(f"{path}: a snapshot is a JSON object (GET /_mock/state)")
    try:
        world.load(data, source=str(path))
    except ApiError as exc:
        # The store's message names the file (as the source) and the field.
        raise SnapshotFileError(exc.message) from None
