"""Where network state lives: records by kind and key, each with a version, written by compare-and-swap.

A local daemon keeps them as JSON files under the data root's `network/`; a store shared between
hosts (etcd, for overlay networks) answers the same calls. A writer reads a record and its version
and writes back only if nobody wrote in between, so two writers never lose each other's change.
"""
from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from berth.atomicfile import write_atomic
from berth.errdefs import Conflict, InvalidArgument

Record = dict[str, Any]


class StaleVersion(Conflict):
    """Someone else wrote the record since it was read: read it again and retry."""


class NetworkStore(Protocol):
    def get(self, kind: str, key: str) -> tuple[Record, int] | None:
        """The record and its version (None: there is none)."""

    def put(self, kind: str, key: str, record: Record, version: int) -> int:
        """Write `record` if the stored version is still `version` (0: it must not exist yet); the new
        version. Raises StaleVersion otherwise."""

    def delete(self, kind: str, key: str) -> None:
        """Remove the record (no error if there is none)."""

    def list(self, kind: str) -> dict[str, Record]:
        """Every record of `kind`, by key."""


class LocalStore:
    """Records as files `<root>/<kind>/<key>.json` ({"version": N, "record": {...}}), written atomically;
    a compare-and-swap holds an exclusive lock on `<root>/.lock`, so writers in other threads and
    processes (two stores on the same root) take turns. Records of the `volatile` kinds describe
    running containers, which a power loss ends anyway: they are written without waiting for the
    disk (still whole or not at all, also when the daemon is killed)."""

    def __init__(self, root: Path, volatile: frozenset[str] = frozenset()) -> None:
        self.root = root
        self.volatile = volatile

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.root / ".lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _path(self, kind: str, key: str) -> Path:
        for part in (kind, key):
            if not part or "/" in part or "\0" in part or part.startswith("."):
                raise InvalidArgument(f"invalid network store key: {kind}/{key}")
        return self.root / kind / f"{key}.json"

    def get(self, kind: str, key: str) -> tuple[Record, int] | None:
        try:
            stored = json.loads(self._path(kind, key).read_text())
        except FileNotFoundError:
            return None
        return stored["record"], stored["version"]

    def put(self, kind: str, key: str, record: Record, version: int) -> int:
        path = self._path(kind, key)
        with self._locked():
            current = self.get(kind, key)
            if (current[1] if current else 0) != version:
                raise StaleVersion(f"{kind}/{key} changed since version {version}")
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, json.dumps({"version": version + 1, "record": record}).encode(),
                         durable=kind not in self.volatile)
            return version + 1

    def delete(self, kind: str, key: str) -> None:
        with self._locked():
            self._path(kind, key).unlink(missing_ok=True)

    def list(self, kind: str) -> dict[str, Record]:
        directory = self.root / kind
        if not directory.is_dir():
            return {}
        found = {}
        for path in sorted(directory.glob("*.json")):
            if (entry := self.get(kind, path.stem)) is not None:
                found[path.stem] = entry[0]
        return found
