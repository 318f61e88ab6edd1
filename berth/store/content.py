"""The content store's small interfaces (after containerd): read blobs by digest (Provider), write
them through named, resumable ingests (Ingester), list and delete them (Manager). The layer and
image services depend on these, not on the blob store that implements them."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, Protocol

from berth.store.gc import Sweeper


@dataclass
class Info:
    """A stored blob: its digest, its size, and when it was written."""

    digest: str
    size: int
    created: float


@dataclass
class IngestStatus:
    """How far an ingest got: `offset` bytes written of `total` (None: unknown)."""

    ref: str
    offset: int
    total: int | None
    expected: str | None
    started: float
    updated: float


class Writer(Protocol):
    """An ingest being written: hashed while written, named by its digest on commit."""

    ref: str
    size: int

    def write(self, data: bytes) -> int: ...

    def commit(self, expected: str | None = None) -> str: ...

    def close(self) -> None:
        """Stop writing; a named ingest keeps its data for the next writer of its ref."""

    def abort(self) -> None:
        """Stop writing and drop the data."""


class Provider(Protocol):
    def exists(self, digest: str) -> bool: ...

    def size(self, digest: str) -> int: ...

    def open(self, digest: str) -> BinaryIO: ...

    def read(self, digest: str) -> bytes: ...


class Ingester(Protocol):
    def writer(self, ref: str | None = None, expected: str | None = None, total: int | None = None) -> Writer:
        """Open the ingest `ref` (resuming it) or an anonymous one."""

    def status(self, ref: str) -> IngestStatus: ...

    def ingests(self) -> list[IngestStatus]: ...

    def abort(self, ref: str) -> None: ...


class Manager(Protocol):
    def digests(self) -> Iterator[str]: ...

    def info(self, digest: str) -> Info: ...

    def delete(self, digest: str) -> bool: ...


class ContentStore(Provider, Ingester, Manager, Protocol):
    """All three, as the layer and image services use them."""

    def put(self, data: bytes, expected: str | None = None) -> str:
        """A small blob at once (an image config)."""

    def verify(self, digest: str) -> None:
        """Raise unless the blob is present and intact."""

    def sweeper(self) -> Sweeper:
        """Garbage collection's view of the blobs and ingests."""
