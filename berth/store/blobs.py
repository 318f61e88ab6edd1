"""Content-addressed blobs under `<root>/blobs/sha256/<hex>`: hashed while written, verified on read.

A blob is written as an *ingest*, `<root>/blobs/ingest/<ref>/` (its data and a status record), and
renamed into place only once its digest is known (and matches what the caller expected), so a crash
leaves no half-written blob under its name. An ingest is named by its writer (`pull-<digest>`, say):
one writer at a time holds it (an flock on its data), `status` tells how far it got, and a writer
that opens a ref again after an interruption goes on from there (the data so far is hashed again).
Every blob and ingest is added to the running operation's lease (berth.store.gc) before it appears.
"""
from __future__ import annotations

import fcntl
import io
import json
import os
import re
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from berth.atomicfile import fsync_dir, write_atomic
from berth.errdefs import Conflict, InvalidArgument, NotFound
from berth.store import digest as digests
from berth.store.content import Info, IngestStatus
from berth.store.digest import DigestMismatch

CHUNK = 1 << 20
_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:@+-]{0,200}$")
_ANONYMOUS = "anonymous-"
# A named ingest that no lease holds (its writer crashed, or closed it to go on later) is kept for
# a later writer of its ref until it has had no write for this long; then garbage collection takes it.
INGEST_EXPIRY = 24 * 3600.0


class BlobNotFound(NotFound, LookupError):
    def __init__(self, digest: str) -> None:
        super().__init__(f"blob {digest} not found")
        self.digest = digest


class BlobWriter:
    """An open ingest; `commit()` names its content by its digest. A named ingest closed without a
    commit keeps its data for a later writer of the same ref; an anonymous one is dropped."""

    def __init__(self, store: BlobStore, ref: str | None, expected: str | None, total: int | None) -> None:
        self._store = store
        self.ref = ref or f"{_ANONYMOUS}{uuid.uuid4().hex}"
        self._named = ref is not None
        self._dir = store.ingest_path(self.ref)
        store.protect(f"blob:{self.ref}")
        self._dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._dir / "data", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise Conflict(f"ingest {self.ref} is being written by another writer") from None
        self._file = os.fdopen(fd, "r+b", buffering=0)
        self._hasher = digests.new_hasher()
        self.size = 0
        while chunk := self._file.read(CHUNK):  # a resumed ingest: its data so far counts
            self._hasher.update(chunk)
            self.size += len(chunk)
        status = store.status(self.ref) if (self._dir / "status.json").exists() else None
        self._started = status.started if status else time.time()
        self._expected = expected or (status.expected if status else None)
        self._total = total if total is not None else (status.total if status else None)
        self._save_status()
        self._done = False

    def _save_status(self) -> None:
        write_atomic(self._dir / "status.json", json.dumps({
            "ref": self.ref, "started": self._started, "expected": self._expected, "total": self._total,
        }).encode(), durable=False)

    @property
    def offset(self) -> int:
        """Bytes written so far, resumed ones included."""
        return self.size

    def write(self, data: bytes) -> int:
        self._hasher.update(data)
        view = memoryview(data)
        while view:
            written = self._file.write(view)
            view = view[written:]
        self.size += len(data)
        return len(data)

    @property
    def digest(self) -> str:
        return digests.from_hasher(self._hasher)

    def commit(self, expected: str | None = None) -> str:
        """Verify, fsync and rename the blob into place; returns its digest."""
        actual = self.digest
        expected = expected or self._expected
        try:
            if expected is not None and expected != actual:
                raise DigestMismatch(expected, actual)
            if self._total is not None and self._total != self.size:
                raise DigestMismatch(f"{self._total} bytes", f"{self.size} bytes")
            self._store.protect(f"blob:{actual}")
            os.fsync(self._file.fileno())
            target = self._store.path(actual)
            if not target.exists():
                os.chmod(self._dir / "data", 0o444)
                os.rename(self._dir / "data", target)
                fsync_dir(target.parent)
        except BaseException:
            self.abort()
            raise
        self._file.close()
        shutil.rmtree(self._dir, ignore_errors=True)
        self._done = True
        return actual

    def close(self) -> None:
        """Stop writing: a named ingest keeps what it has (see BlobStore.writer), an anonymous one goes."""
        if self._done:
            return
        if not self._named:
            self.abort()
            return
        self._done = True
        self._file.close()

    def abort(self) -> None:
        """Drop the ingest and its data."""
        if self._done:
            return
        self._done = True
        self._file.close()
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> BlobWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class VerifyingReader(io.RawIOBase):
    """Reads a blob and raises DigestMismatch at end of file if its content is not what its name says."""

    def __init__(self, path: Path, expected: str) -> None:
        self._file = open(path, "rb", buffering=0)
        self._expected = expected
        self._hasher = digests.new_hasher()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        count = self._file.readinto(buffer)
        if count:
            self._hasher.update(memoryview(buffer)[:count])
        elif buffer is not None and len(buffer):
            actual = digests.from_hasher(self._hasher)
            if actual != self._expected:
                raise DigestMismatch(self._expected, actual)
        return count

    def close(self) -> None:
        self._file.close()
        super().close()


class BlobStore:
    """Blobs by digest; implements the Provider, Ingester and Manager protocols (berth.store.content).
    Thread-safe. `protect(key)` adds an object to the running operation's lease (berth.store.gc)."""

    def __init__(self, root: Path, protect: Callable[[str], None] = lambda key: None) -> None:
        self.dir = root / "blobs" / digests.ALGORITHM
        self.ingest_dir = root / "blobs" / "ingest"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.ingest_dir.mkdir(parents=True, exist_ok=True)
        self.protect = protect

    def path(self, digest: str) -> Path:
        return self.dir / digests.hex_of(digest)

    def ingest_path(self, ref: str) -> Path:
        if not _REF.match(ref):
            raise InvalidArgument(f"invalid ingest ref {ref!r}")
        return self.ingest_dir / ref

    # --- Ingester --------------------------------------------------------------------------------
    def writer(self, ref: str | None = None, expected: str | None = None, total: int | None = None) -> BlobWriter:
        """Open the ingest `ref` (resuming what an earlier writer of it left) or an anonymous one;
        `expected` and `total` are checked at commit. Conflict while another writer holds `ref`."""
        return BlobWriter(self, ref, expected, total)

    def status(self, ref: str) -> IngestStatus:
        directory = self.ingest_path(ref)
        try:
            record = json.loads((directory / "status.json").read_text())
            data = (directory / "data").stat()
        except FileNotFoundError:
            raise NotFound(f"no ingest {ref}") from None
        return IngestStatus(ref, data.st_size, record.get("total"), record.get("expected"), record["started"],
                            data.st_mtime)

    def ingests(self) -> list[IngestStatus]:
        found = []
        for entry in sorted(os.scandir(self.ingest_dir), key=lambda e: e.name):
            try:
                found.append(self.status(entry.name))
            except (NotFound, InvalidArgument, KeyError, ValueError):
                continue
        return found

    def abort(self, ref: str) -> None:
        """Drop the ingest `ref` and its data (nothing if there is none)."""
        path = self.ingest_path(ref)
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:  # a temporary file an older berth left
            path.unlink(missing_ok=True)

    def put(self, data: bytes, expected: str | None = None) -> str:
        digest = digests.of_bytes(data)
        if expected is not None and expected != digest:
            raise DigestMismatch(expected, digest)
        self.protect(f"blob:{digest}")
        if self.exists(digest):
            return digest
        with self.writer() as writer:
            writer.write(data)
            return writer.commit(digest)

    def exists(self, digest: str) -> bool:
        return self.path(digest).exists()

    def size(self, digest: str) -> int:
        try:
            return self.path(digest).stat().st_size
        except FileNotFoundError:
            raise BlobNotFound(digest) from None

    def info(self, digest: str) -> Info:
        """Its size, and when its last byte was written (a blob is renamed into place whole, never changed)."""
        try:
            stat = self.path(digest).stat()
        except FileNotFoundError:
            raise BlobNotFound(digest) from None
        return Info(digest, stat.st_size, stat.st_mtime)

    def open(self, digest: str) -> BinaryIO:
        """A reader that checks the digest when it reaches the end of the blob."""
        try:
            return io.BufferedReader(VerifyingReader(self.path(digest), digest), CHUNK)  # type: ignore[return-value,type-var]
        except FileNotFoundError:
            raise BlobNotFound(digest) from None

    def read(self, digest: str) -> bytes:
        try:
            data = self.path(digest).read_bytes()
        except FileNotFoundError:
            raise BlobNotFound(digest) from None
        actual = digests.of_bytes(data)
        if actual != digest:
            raise DigestMismatch(digest, actual)
        return data

    def verify(self, digest: str) -> None:
        """Raise BlobNotFound or DigestMismatch unless the blob is present and intact."""
        with self.open(digest) as reader:
            while reader.read(CHUNK):
                pass

    def delete(self, digest: str) -> bool:
        try:
            os.unlink(self.path(digest))
            return True
        except FileNotFoundError:
            return False

    def digests(self) -> Iterator[str]:
        for entry in os.scandir(self.dir):
            name = f"{digests.ALGORITHM}:{entry.name}"
            if digests.is_digest(name):
                yield name

    def sweeper(self) -> BlobSweeper:
        return BlobSweeper(self)


class BlobSweeper:
    """Garbage collection's view of the blobs: every blob, every anonymous ingest (no writer can
    name it again) and every named ingest idle for longer than `expiry` seconds; a collection
    removes those no root reaches and no lease holds."""

    def __init__(self, store: BlobStore, expiry: float = INGEST_EXPIRY) -> None:
        self._store = store
        self._expiry = expiry

    def names(self) -> Iterator[str]:
        yield from self._store.digests()
        idle_since = time.time() - self._expiry
        for entry in os.scandir(self._store.ingest_dir):
            if entry.name.startswith(_ANONYMOUS) or not entry.is_dir() or _last_write(entry.path) < idle_since:
                yield entry.name

    def remove(self, name: str) -> int:
        if not digests.is_digest(name):  # an ingest no lease holds: its writer is gone
            path = self._store.ingest_dir / name
            size = sum(entry.stat().st_size for entry in path.glob("*")) if path.is_dir() else 0
            self._store.abort(name)
            return size
        try:
            size = self._store.path(name).stat().st_size
            os.unlink(self._store.path(name))
        except FileNotFoundError:
            return 0
        return size


def _last_write(directory: str) -> float:
    """When an ingest was last written or opened (its data's or its status record's mtime)."""
    times = []
    for name in ("data", "status.json", ""):
        try:
            times.append(os.stat(os.path.join(directory, name)).st_mtime)
        except FileNotFoundError:
            continue
    return max(times, default=0.0)
