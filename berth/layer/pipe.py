"""An in-memory pipe between two threads: one writes chunks, the other reads them as a stream."""
from __future__ import annotations

import io
import queue
import threading
from collections.abc import Iterator

from berth.errdefs import BerthError

_END = b""


class ChunkPipe:
    """Bounded, so a fast writer waits for a slow reader. `fail()` passes the writer's error across."""

    def __init__(self, depth: int = 8) -> None:
        self._queue: queue.Queue[bytes | BaseException] = queue.Queue(depth)
        self.reader = _PipeReader(self._queue)

    def write(self, data: bytes) -> int:
        if data:
            self._queue.put(bytes(data))
        return len(data)

    def close(self) -> None:
        self._queue.put(_END)

    def fail(self, error: BaseException) -> None:
        self._queue.put(error)


class PipeBroken(BerthError, OSError):
    """The writing side of a ChunkPipe failed; its error is the cause."""


class _PipeReader(io.RawIOBase):
    def __init__(self, chunks: queue.Queue[bytes | BaseException]) -> None:
        self._chunks = chunks
        self._pending = memoryview(b"")
        self._ended = False

    def readable(self) -> bool:
        return True

    def _next(self) -> bool:
        if self._ended:
            return False
        item = self._chunks.get()
        if isinstance(item, BaseException):
            self._ended = True
            raise PipeBroken(str(item)) from item
        if not item:
            self._ended = True
            return False
        self._pending = memoryview(item)
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        if not self._pending and not self._next():
            return 0
        count = min(len(buffer), len(self._pending))
        buffer[:count] = self._pending[:count]
        self._pending = self._pending[count:]
        return count

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            return b"".join(iter(lambda: self.read(1 << 20), b""))
        if not self._pending and not self._next():
            return b""
        data = self._pending[:size]
        self._pending = self._pending[size:]
        return data.tobytes()

    def drain(self) -> None:
        """Consume what is left so the writer is never blocked forever."""
        try:
            while self._next():
                self._pending = memoryview(b"")
        except PipeBroken:
            pass


def read_ahead(chunks: Iterator[bytes], depth: int = 8) -> Iterator[bytes]:
    """The same chunks, produced by a worker thread up to `depth` ahead of the consumer.

    Reading (which releases the GIL) then overlaps what the consumer does with each chunk, such as
    hashing and sending it. Stopping early (closing the generator) stops the worker too.
    """
    items: queue.Queue[bytes | BaseException] = queue.Queue(depth)
    stopped = threading.Event()

    def produce() -> None:
        try:
            for chunk in chunks:
                while not stopped.is_set():
                    try:
                        items.put(chunk, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stopped.is_set():
                    return
            items.put(_END)
        except BaseException as error:  # noqa: BLE001 - handed to the consumer, raised there
            items.put(error)

    worker = threading.Thread(target=produce, name="read-ahead", daemon=True)
    worker.start()
    try:
        while (item := items.get()) != _END:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stopped.set()
