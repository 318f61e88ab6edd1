"""Content-addressed blobs under `<root>/blobs/sha256/<hex>`: hashed while written, verified on read.

A blob is written to `<root>/blobs/ingest/`, fsynced, and renamed into place only once its digest is
known (and matches what the caller expected), so a crash leaves no half-written blob under its name.
"""
from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from berth.atomicfile import fsync_dir
from berth.errdefs import NotFound
from berth.store import digest as digests
from berth.store.digest import DigestMismatch

CHUNK = 1 << 20


class BlobNotFound(NotFound, LookupError):
    def __init__(self, digest: str) -> None:
        super().__init__(f"blob {digest} not found")
        self.digest = digest


class BlobWriter:
    """An open ingest file; `commit()` names it by its content's digest."""

    def __init__(self, store: BlobStore) -> None:
        self._store = store
        fd, self._tmp = tempfile.mkstemp(prefix="ingest-", dir=store.ingest_dir)
        self._file = os.fdopen(fd, "wb", buffering=0)
        self._hasher = digests.new_hasher()
        self.size = 0
        self._done = False

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
        try:
            if expected is not None and expected != actual:
                raise DigestMismatch(expected, actual)
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            target = self._store.path(actual)
            if target.exists():
                os.unlink(self._tmp)
            else:
                os.chmod(self._tmp, 0o444)
                os.rename(self._tmp, target)
                fsync_dir(target.parent)
        except BaseException:
            self.abort()
            raise
        self._done = True
        return actual

    def abort(self) -> None:
        if self._done:
            return
        self._done = True
        self._file.close()
        try:
            os.unlink(self._tmp)
        except FileNotFoundError:
            pass

    def __enter__(self) -> BlobWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.abort()


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
    """Blobs by digest; implements the Provider, Ingester and Manager protocols. Thread-safe."""

    def __init__(self, root: Path) -> None:
        self.dir = root / "blobs" / digests.ALGORITHM
        self.ingest_dir = root / "blobs" / "ingest"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.ingest_dir.mkdir(parents=True, exist_ok=True)

    def path(self, digest: str) -> Path:
        return self.dir / digests.hex_of(digest)

    def writer(self) -> BlobWriter:
        return BlobWriter(self)

    def put(self, data: bytes, expected: str | None = None) -> str:
        with self.writer() as writer:
            writer.write(data)
            return writer.commit(expected)

    def exists(self, digest: str) -> bool:
        return self.path(digest).exists()

    def size(self, digest: str) -> int:
        try:
            return self.path(digest).stat().st_size
        except FileNotFoundError:
            raise BlobNotFound(digest) from None

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
    """Garbage collection's view of the blobs: every blob, plus ingest files a crashed writer left."""

    def __init__(self, store: BlobStore) -> None:
        self._store = store

    def names(self) -> Iterator[str]:
        yield from self._store.digests()
        for entry in os.scandir(self._store.ingest_dir):
            yield entry.name

    def remove(self, name: str) -> int:
        path = self._store.path(name) if digests.is_digest(name) else self._store.ingest_dir / name
        try:
            size = path.stat().st_size
            os.unlink(path)
        except FileNotFoundError:
            return 0
        return size
