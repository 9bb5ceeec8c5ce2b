"""What changed in the world since someone last took the changes.

The store stays the one in-memory truth; a durable copy (``--state``) only needs to know which
records to write again. Each mutation marks what it touched here, under the world's lock, and
the persistence layer takes the marks before the answer leaves. A world without a durable copy
has no :class:`Changes` at all, so marking costs nothing there.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class ChangeSet:
    """The marks taken at one moment."""

    #: ``(client_id, company_id)`` of every company written since, in the order first touched.
    companies: dict[tuple[str, str], None] = field(default_factory=dict)
    #: Client ids whose tenant-level state (texts, visible accounts, existence) changed.
    tenants: dict[str, None] = field(default_factory=dict)
    #: Client ids whose tenant was forgotten.
    dropped: set[str] = field(default_factory=set)
    #: The whole world was replaced (a reset or a snapshot import): write it all again.
    everything: bool = False
    #: The world's own values moved: the RNG (an id or a passcode was drawn), the sync
    #: duration.
    meta: bool = False

    def __bool__(self) -> bool:
        return bool(self.everything or self.meta or self.companies or self.tenants or self.dropped)


class Changes:
    """The marks made since the last :meth:`take`. Callers hold the world's lock."""

    def __init__(self) -> None:
        self._open = ChangeSet()

    def company(self, client_id: str, company_id: str) -> None:
        """A company (or a connection or sync under it) was created or changed."""
        self._open.companies[(client_id, company_id)] = None
        self._open.meta = True

    def tenant(self, client_id: str) -> None:
        """A tenant came into being, or its texts or visible accounts changed."""
        # A drop marked before stays: the file forgets the old tenant first, then writes this.
        self._open.tenants[client_id] = None

    def dropped(self, client_id: str) -> None:
        """A tenant was forgotten (it starts from the fixtures again on next use)."""
        self._open.dropped.add(client_id)
        self._open.tenants.pop(client_id, None)
        self._open.companies = {key: None for key in self._open.companies if key[0] != client_id}

    def meta(self) -> None:
        """The RNG moved without a record changing (a one-time passcode was drawn), or the
        sync duration changed."""
        self._open.meta = True

    def everything(self) -> None:
        """The whole world was replaced."""
        self._open = ChangeSet(everything=True, meta=True)

    def pending(self) -> bool:
        """Whether anything is marked."""
        return bool(self._open)

    def take(self) -> ChangeSet:
        """The marks so far; the next ones start afresh."""
        taken, self._open = self._open, ChangeSet()
        return taken
