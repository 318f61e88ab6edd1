"""Stream wrappers that watch what passes through them: how much, the last chunk, its hash."""
from __future__ import annotations

import hashlib
import io
import queue
import threading
import weakref
from collections.abc import Callable
from typing import BinaryIO

from berth.store import digest as digests

CHUNK = 1 << 20


class TailCheckingReader(io.RawIOBase):
    """Reads `stream`, counting bytes; `rest_is_padding()` tells if a tar ended where it should.

    It seeks forward only (by reading, so every byte is seen): enough for tarfile's "r:" mode, which
    then reads members' content straight from here instead of through its copying stream buffer.
    """

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self.size = 0
        self._last = b""

    def readable(self) -> bool:
        return True

    def _seen(self, data: bytes) -> None:
        self.size += len(data)
        self._last = data

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        data = self._stream.read(len(buffer))
        buffer[:len(data)] = data
        self._seen(bytes(data))
        return len(data)

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        self._seen(data)
        return data

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.size

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        target = offset if whence == io.SEEK_SET else self.size + offset if whence == io.SEEK_CUR else -1
        if target < self.size:
            raise io.UnsupportedOperation("this stream only seeks forward")
        while self.size < target:
            if not self.read(min(CHUNK, target - self.size)):
                break
        return self.size

    def rest_is_padding(self, offset: int) -> bool:
        """Read the rest of the stream; True if everything from `offset` on is zero bytes.

        A tar reader stops at the first zero block or at a header it cannot parse, and a buffering
        reader may have read past `offset`: those bytes must lie in the last chunk read.
        """
        buffered = self.size - offset
        only_zeros = 0 <= buffered <= len(self._last) and not self._last[len(self._last) - buffered:].strip(b"\0")
        while chunk := self.read(CHUNK):
            only_zeros = only_zeros and not chunk.strip(b"\0")
        return only_zeros


def _hash_chunks(chunks: queue.Queue[bytes | None], hasher: hashlib._Hash) -> None:
    while (chunk := chunks.get()) is not None:
        hasher.update(chunk)


class ParallelHasher:
    """sha256 computed in a worker thread, so hashing overlaps the caller's reads and writes (hashlib
    releases the GIL on large updates). `update` hands a chunk over; `digest` waits for the rest."""

    def __init__(self, depth: int = 16) -> None:
        self._chunks: queue.Queue[bytes | None] = queue.Queue(depth)
        self._hasher = digests.new_hasher()
        self._worker = threading.Thread(target=_hash_chunks, args=(self._chunks, self._hasher), name="hasher",
                                        daemon=True)
        self._worker.start()
        self._digest: str | None = None
        # A reader given up half-way (bad input) must not leave its worker waiting forever.
        weakref.finalize(self, self._chunks.put, None)

    def update(self, data: bytes) -> None:
        self._chunks.put(bytes(data))

    @property
    def digest(self) -> str:
        if self._digest is None:
            self._chunks.put(None)
            self._worker.join()
            self._digest = digests.from_hasher(self._hasher)
        return self._digest


class HashingReader(TailCheckingReader):
    """A TailCheckingReader that also hashes every byte read (a layer's diff ID) and shows it to `observe`."""

    def __init__(self, stream: BinaryIO, observe: Callable[[bytes], None] | None = None) -> None:
        super().__init__(stream)
        self._hasher = ParallelHasher()
        self._observe = observe

    def _seen(self, data: bytes) -> None:
        super()._seen(data)
        self._hasher.update(data)
        if self._observe is not None:
            self._observe(data)

    @property
    def digest(self) -> str:
        return self._hasher.digest
