"""Byte plumbing of hijacked attach/exec connections and of log streams."""
from __future__ import annotations

import asyncio
import fcntl
import os
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import BinaryIO, TypeVar

from berth import detachkeys
from berth.daemon.streams import StdinFunnel, iterate

RAW_STREAM = "application/vnd.docker.raw-stream"
MULTIPLEXED_STREAM = "application/vnd.docker.multiplexed-stream"
_FRAME_HEADER = struct.Struct(">BxxxI")
READ_SIZE = 32768
REPLAY_DELAY = 0.05  # seconds between a hijacked response's head and the output it replays
PIPE_CHUNK = 1 << 20  # bytes per hop between the event loop and a worker thread
T = TypeVar("T")


def frame(stream: int, data: bytes, tty: bool) -> bytes:
    """Docker's stdcopy framing (8-byte header per chunk) unless the stream is a TTY's raw bytes."""
    return data if tty else _FRAME_HEADER.pack(stream, len(data)) + data


async def pump_session(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    *,
    output: asyncio.Queue[tuple[int, bytes] | None] | None,
    stdin: StdinFunnel | None,
    tty: bool,
    close_stdin_at_eof: bool,
    detach_keys: str | None,
    streams: set[int],
    on_end: Callable[[], Awaitable[None]] | None = None,
    replay: AsyncIterator[tuple[int, bytes]] | None = None,
) -> None:
    """Copy output to the client and the client's input to the process until either side ends.

    `replay` is output from before the session (attach's `logs`), sent ahead of the live `output`.
    The session ends when the output ends (the process exited, or only the replay was wanted), when
    the client sends the detach keys, or (with no output wanted) when the client hangs up.
    """
    async def copy_output() -> None:
        if replay is not None:
            # A client such as docker-py reads the 101 response through a buffer and then reads the
            # socket itself: bytes that reach it with the response head are lost. The replay is ready
            # at once, so it waits a moment; live output comes later anyway.
            await asyncio.sleep(REPLAY_DELAY)
            async for stream, data in replay:
                writer.write(frame(stream, data, tty))
                await writer.drain()
        if output is None:
            return
        async for stream, data in iterate(output):
            if stream in streams:
                writer.write(frame(stream, data, tty))
                await writer.drain()

    async def copy_input() -> None:
        assert stdin is not None
        scanner = detachkeys.DetachScanner(detachkeys.parse(detach_keys or detachkeys.DEFAULT, noun="escape"))
        while data := await reader.read(READ_SIZE):
            data, detach = scanner.feed(data)
            if data:
                await stdin.write(data)
            if detach:
                return
        if close_stdin_at_eof:
            await stdin.close()
        if output is not None:
            await asyncio.Future()  # input is done; the session lasts as long as the output

    tasks = []
    if output is not None or replay is not None:
        tasks.append(asyncio.create_task(copy_output()))
    if stdin is not None:
        tasks.append(asyncio.create_task(copy_input()))
    try:
        done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED) if tasks else (set(), set())
        for task in pending:
            task.cancel()
        for task in done:
            if task.exception() and not isinstance(task.exception(), ConnectionError):
                raise task.exception()  # type: ignore[misc]
    finally:
        if on_end is not None:
            await on_end()
        try:
            writer.close()
        except (ConnectionError, RuntimeError):
            pass


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
