"""The content store's small interfaces (after containerd): read, write and manage blobs by digest."""
from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO, Protocol


class Writer(Protocol):
    """A blob being written: hashed while it is written, named by its digest on commit."""

    size: int

    def write(self, data: bytes) -> int: ...

    def commit(self, expected: str | None = None) -> str: ...

    def abort(self) -> None: ...


class Provider(Protocol):
    def exists(self, digest: str) -> bool: ...

    def size(self, digest: str) -> int: ...

    def open(self, digest: str) -> BinaryIO: ...

    def read(self, digest: str) -> bytes: ...


class Ingester(Protocol):
    def writer(self) -> Writer: ...


class Manager(Protocol):
    def digests(self) -> Iterator[str]: ...

    def delete(self, digest: str) -> bool: ...
