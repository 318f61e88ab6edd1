"""Garbage collection: mark and sweep over a graph of references, with leases.

Objects are named by keys `<kind>:<name>` (for example `blob:sha256:…`, `layer:<chain id>`).
Upper layers record roots (objects kept for their own sake, like images) and edges (an image needs
its config blob and its top layer, a layer needs its parent and its blob). Collection keeps what a
root reaches and asks each kind's Sweeper to remove the rest.

Content being written has no edges yet, so writers hold a lease: a shared lock on `gc.lock` for
as long as the operation runs. Collection takes the lock exclusively, so it never sweeps between
"blob written" and "image recorded". A crash drops the lock; what the crashed writer left is garbage.
"""
from __future__ import annotations

import fcntl
import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from berth.store.db import Database

SCHEMA = [
    "CREATE TABLE IF NOT EXISTS gc_roots (key TEXT PRIMARY KEY)",
    "CREATE TABLE IF NOT EXISTS gc_refs (src TEXT NOT NULL, dst TEXT NOT NULL, PRIMARY KEY (src, dst))",
    "CREATE INDEX IF NOT EXISTS gc_refs_dst ON gc_refs (dst)",
]


def key(kind: str, name: str) -> str:
    return f"{kind}:{name}"


class Sweeper(Protocol):
    """The objects of one kind that exist, and how to remove one (returning the bytes freed)."""

    def names(self) -> Iterable[str]: ...

    def remove(self, name: str) -> int: ...


@dataclass
class Collected:
    removed: dict[str, list[str]] = field(default_factory=dict)
    reclaimed: int = 0


class References:
    """Roots and edges in the metadata database; every method joins the caller's transaction."""

    def __init__(self, db: Database, lock_path: Path) -> None:
        self.db = db
        self.lock_path = lock_path

    def add_root(self, conn: sqlite3.Connection, root: str, children: Iterable[str]) -> None:
        conn.execute("INSERT OR IGNORE INTO gc_roots (key) VALUES (?)", (root,))
        self.add_edges(conn, root, children)

    def remove_root(self, conn: sqlite3.Connection, root: str) -> None:
        conn.execute("DELETE FROM gc_roots WHERE key = ?", (root,))
        conn.execute("DELETE FROM gc_refs WHERE src = ?", (root,))

    def add_edges(self, conn: sqlite3.Connection, src: str, children: Iterable[str]) -> None:
        conn.executemany("INSERT OR IGNORE INTO gc_refs (src, dst) VALUES (?, ?)",
                         [(src, child) for child in children])

    def referrers(self, target: str) -> list[str]:
        return [row[0] for row in self.db.query("SELECT src FROM gc_refs WHERE dst = ?", (target,))]

    def reachable(self) -> set[str]:
        """Every key a root reaches (the roots included)."""
        rows = self.db.query(
            "WITH RECURSIVE live(key) AS (SELECT key FROM gc_roots "
            "UNION SELECT gc_refs.dst FROM gc_refs JOIN live ON gc_refs.src = live.key) "
            "SELECT key FROM live")
        return {row[0] for row in rows}

    @contextmanager
    def lease(self) -> Iterator[None]:
        """Protect content written inside the block from collection until the block ends."""
        with self._flock(fcntl.LOCK_SH) as held:
            assert held
            yield

    @contextmanager
    def _flock(self, mode: int) -> Iterator[bool]:
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            try:
                fcntl.flock(fd, mode)
            except BlockingIOError:
                yield False
                return
            yield True
        finally:
            os.close(fd)

    def collect(self, sweepers: Mapping[str, Sweeper], wait: bool = True) -> Collected | None:
        """Remove every object no root reaches. With wait=False, give up (None) while a lease is held."""
        mode = fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB
        with self._flock(mode) as held:
            if not held:
                return None
            live = self.reachable()
            result = Collected()
            for kind, sweeper in sweepers.items():
                for name in list(sweeper.names()):
                    if key(kind, name) in live:
                        continue
                    result.reclaimed += sweeper.remove(name)
                    result.removed.setdefault(kind, []).append(name)
            with self.db.transaction() as conn:
                conn.executemany("DELETE FROM gc_refs WHERE src = ?",
                                 [(key(kind, name),) for kind, names in result.removed.items() for name in names])
            return result
