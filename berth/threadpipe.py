"""Bridges between asyncio byte streams and blocking file code in a worker thread (a leaf module).

Tar, hashing and compression work on files, in worker threads, so the event loop never blocks on
them; a request body or a response body is an async stream. These connect the two through a pipe.
"""
from __future__ import annotations

import asyncio
import fcntl
import os
from collections.abc import AsyncIterator, Callable
from typing import BinaryIO, TypeVar

PIPE_CHUNK = 1 << 20  # bytes per hop between the event loop and a worker thread
T = TypeVar("T")


def _widen(pipe_fd: int) -> None:
    """Let the pipe hold PIPE_CHUNK bytes, so each hop between threads moves that much."""
    try:
        fcntl.fcntl(pipe_fd, fcntl.F_SETPIPE_SZ, PIPE_CHUNK)
    except OSError:
        pass  # above /proc/sys/fs/pipe-max-size: the default size works, only slower


async def coalesced(chunks: AsyncIterator[bytes], size: int = PIPE_CHUNK) -> AsyncIterator[bytes]:
    """The same bytes in pieces of at least `size` (the last may be shorter): fewer thread hops."""
    pending: list[bytes] = []
    count = 0
    async for chunk in chunks:
        pending.append(chunk)
        count += len(chunk)
        if count >= size:
            yield b"".join(pending)
            pending, count = [], 0
    if pending:
        yield b"".join(pending)


def produce_in_thread(write: Callable[[BinaryIO], None]) -> AsyncIterator[bytes]:
    """Run `write(file)` in a worker thread and yield what it writes, through a pipe."""
    read_fd, write_fd = os.pipe()
    _widen(read_fd)

    def produce() -> None:
        with open(write_fd, "wb") as out:
            write(out)

    async def chunks() -> AsyncIterator[bytes]:
        producer = asyncio.create_task(asyncio.to_thread(produce))
        with open(read_fd, "rb", buffering=0) as source:
            while data := await asyncio.to_thread(source.read, PIPE_CHUNK):
                yield data
        await producer

    return chunks()


async def consume_in_thread(chunks: AsyncIterator[bytes], consume: Callable[[BinaryIO], T]) -> T:
    """Run `consume(file)` in a worker thread while the request body streams into `file` (a pipe)."""
    read_fd, write_fd = os.pipe()
    _widen(write_fd)
    source = open(read_fd, "rb")
    worker = asyncio.create_task(asyncio.to_thread(_consume_and_close, consume, source))
    try:
        with open(write_fd, "wb", buffering=0) as sink:
            async for chunk in coalesced(chunks):
                if worker.done():
                    break  # the consumer stopped early (bad input): its error is what matters
                await asyncio.to_thread(sink.write, chunk)
    except BrokenPipeError:
        pass
    return await worker


def _consume_and_close(consume: Callable[[BinaryIO], T], source: BinaryIO) -> T:
    with source:
        return consume(source)
