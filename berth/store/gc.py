"""Garbage collection: mark and sweep over a graph of references, with leases.

Objects are named by keys `<kind>:<name>` (for example `blob:sha256:…`, `layer:<chain id>`).
Upper layers record roots (objects kept for their own sake, like images) and edges (an image needs
its config blob and its top layer, a layer needs its parent and its blob). Collection keeps what a
root reaches and asks each kind's Sweeper to remove the rest.

Content being written or pulled has no edges yet, so its writer holds a named lease (`load-…`,
`pull-…`) for as long as the operation runs, and adds each object it makes or reuses to the lease
*before* the object appears or is used. A collection lists what exists first, then counts as live
what a root reaches and what a lease holds, and removes the rest: it never waits for a writer and
never removes what one is working on. A lease names the process that took it; a lease whose
process is gone (a crash, a reboot) or whose time is up holds nothing, and the next collection
drops it, so what a crashed writer left is garbage (but a named ingest stays there to be resumed
until it has been idle for a day: berth.store.blobs.INGEST_EXPIRY).
"""
from __future__ import annotations

import os
import sqlite3
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Protocol

from berth.linux import processes
from berth.store.db import Database

SCHEMA = [
    "CREATE TABLE IF NOT EXISTS gc_roots (key TEXT PRIMARY KEY)",
    "CREATE TABLE IF NOT EXISTS gc_refs (src TEXT NOT NULL, dst TEXT NOT NULL, PRIMARY KEY (src, dst))",
    "CREATE INDEX IF NOT EXISTS gc_refs_dst ON gc_refs (dst)",
    "CREATE TABLE IF NOT EXISTS gc_leases (id TEXT PRIMARY KEY, pid INTEGER NOT NULL, boot TEXT NOT NULL, "
    "created REAL NOT NULL, expires REAL)",
    "CREATE TABLE IF NOT EXISTS gc_lease_resources (lease TEXT NOT NULL, key TEXT NOT NULL, PRIMARY KEY (lease, key))",
]

# The lease the running operation writes under (set by References.lease; worker threads that
# asyncio.to_thread starts inherit it).
_current_lease: ContextVar[str | None] = ContextVar("berth_lease", default=None)


def key(kind: str, name: str) -> str:
    return f"{kind}:{name}"


class Sweeper(Protocol):
    """The objects of one kind that exist, and how to remove one (returning the bytes freed)."""

    def names(self) -> Iterable[str]: ...

    def remove(self, name: str) -> int: ...


@dataclass
class Lease:
    id: str
    pid: int
    created: float
    expires: float | None
    resources: list[str]


@dataclass
class Collected:
    removed: dict[str, list[str]] = field(default_factory=dict)
    reclaimed: int = 0


class References:
    """Roots and edges in the metadata database; every method joins the caller's transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def add_root(self, conn: sqlite3.Connection, root: str, children: Iterable[str]) -> None:
        conn.execute("INSERT OR IGNORE INTO gc_roots (key) VALUES (?)", (root,))
        self.add_edges(conn, root, children)

    def remove_root(self, conn: sqlite3.Connection, root: str) -> None:
        conn.execute("DELETE FROM gc_roots WHERE key = ?", (root,))
        conn.execute("DELETE FROM gc_refs WHERE src = ?", (root,))

    def add_edges(self, conn: sqlite3.Connection, src: str, children: Iterable[str]) -> None:
        conn.executemany("INSERT OR IGNORE INTO gc_refs (src, dst) VALUES (?, ?)",
                         [(src, child) for child in children])

    def roots(self, prefix: str) -> list[str]:
        """The roots whose keys start with `prefix`."""
        return [row[0] for row in self.db.query("SELECT key FROM gc_roots WHERE substr(key, 1, ?) = ?",
                                                (len(prefix), prefix))]

    def referrers(self, target: str) -> list[str]:
        return [row[0] for row in self.db.query("SELECT src FROM gc_refs WHERE dst = ?", (target,))]

    def reachable(self) -> set[str]:
        """Every key a root reaches (the roots included)."""
        rows = self.db.query(
            "WITH RECURSIVE live(key) AS (SELECT key FROM gc_roots "
            "UNION SELECT gc_refs.dst FROM gc_refs JOIN live ON gc_refs.src = live.key) "
            "SELECT key FROM live")
        return {row[0] for row in rows}

    # --- leases ----------------------------------------------------------------------------------
    @contextmanager
    def lease(self, name: str, expires_in: float | None = None) -> Iterator[str]:
        """A lease named `name-<random>` for the block: what the block protects survives until it ends."""
        lease_id = self.create_lease(name, expires_in)
        token = _current_lease.set(lease_id)
        try:
            yield lease_id
        finally:
            _current_lease.reset(token)
            self.delete_lease(lease_id)

    def create_lease(self, name: str, expires_in: float | None = None) -> str:
        """A lease held by this process until deleted (or until `expires_in` seconds pass)."""
        lease_id = f"{name}-{uuid.uuid4().hex[:12]}"
        now = time.time()
        with self.db.transaction() as conn:
            conn.execute("INSERT INTO gc_leases (id, pid, boot, created, expires) VALUES (?, ?, ?, ?, ?)",
                         (lease_id, os.getpid(), _boot_id(), now, now + expires_in if expires_in else None))
        return lease_id

    def delete_lease(self, lease_id: str) -> None:
        """What the lease held is garbage at the next collection unless a root reaches it."""
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM gc_lease_resources WHERE lease = ?", (lease_id,))
            conn.execute("DELETE FROM gc_leases WHERE id = ?", (lease_id,))

    def protect(self, *keys: str, lease_id: str | None = None) -> None:
        """Add objects to a lease (by default the running operation's): call it before the object
        appears, or before relying on one that exists. Outside any lease, nothing to do."""
        lease_id = lease_id or _current_lease.get()
        if lease_id is None:
            return
        with self.db.transaction() as conn:
            conn.executemany("INSERT OR IGNORE INTO gc_lease_resources (lease, key) VALUES (?, ?)",
                             [(lease_id, k) for k in keys])

    def release(self, *keys: str, lease_id: str | None = None) -> None:
        """Take objects out of a lease (by default the running operation's) before it ends: once no
        root reaches them either, the next collection removes them."""
        lease_id = lease_id or _current_lease.get()
        if lease_id is None:
            return
        with self.db.transaction() as conn:
            conn.executemany("DELETE FROM gc_lease_resources WHERE lease = ? AND key = ?",
                             [(lease_id, k) for k in keys])

    def leases(self) -> list[Lease]:
        held: dict[str, list[str]] = {}
        for lease_id, resource in self.db.query("SELECT lease, key FROM gc_lease_resources"):
            held.setdefault(lease_id, []).append(resource)
        return [Lease(lease_id, pid, created, expires, held.get(lease_id, []))
                for lease_id, pid, boot, created, expires in self.db.query(
                    "SELECT id, pid, boot, created, expires FROM gc_leases ORDER BY created")]

    def _leased(self) -> set[str]:
        """What the live leases hold; leases of processes that are gone, or past their time, are dropped."""
        live, stale = set(), []
        boot, now = _boot_id(), time.time()
        for lease_id, pid, lease_boot, expires in self.db.query("SELECT id, pid, boot, expires FROM gc_leases"):
            if lease_boot == boot and processes.exists(pid) and (expires is None or expires > now):
                live.add(lease_id)
            else:
                stale.append(lease_id)
        for lease_id in stale:
            self.delete_lease(lease_id)
        return {resource for lease_id, resource in self.db.query("SELECT lease, key FROM gc_lease_resources")
                if lease_id in live}

    def collect(self, sweepers: Mapping[str, Sweeper]) -> Collected:
        """Remove every object no root reaches and no lease holds. Never waits for a writer's
        operation, only for its short transactions: what exists is listed first (a writer leases a
        new object before it appears, so one made after the listing is not a candidate); the live
        set is read and the dead removed in one write transaction, so a writer that leases an
        existing object to reuse it either gets in first (and the object stays) or finds it gone
        when it looks after leasing it (and makes it again)."""
        existing = {kind: list(sweeper.names()) for kind, sweeper in sweepers.items()}
        result = Collected()
        with self.db.transaction() as conn:
            live = self.reachable() | self._leased()
            for kind, names in existing.items():
                for name in names:
                    if key(kind, name) in live:
                        continue
                    result.reclaimed += sweepers[kind].remove(name)
                    result.removed.setdefault(kind, []).append(name)
            conn.executemany("DELETE FROM gc_refs WHERE src = ?",
                             [(key(kind, name),) for kind, names in result.removed.items() for name in names])
        return result


def _boot_id() -> str:
    try:
        with open("/proc/sys/kernel/random/boot_id") as boot:
            return boot.read().strip()
    except OSError:
        return ""
