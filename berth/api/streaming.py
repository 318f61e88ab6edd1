"""Byte plumbing of hijacked attach/exec connections."""
from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator, Awaitable, Callable

from berth import detachkeys
from berth.api.http import HijackedReader
from berth.daemon.streams import StdinFunnel, iterate

RAW_STREAM = "application/vnd.docker.raw-stream"
MULTIPLEXED_STREAM = "application/vnd.docker.multiplexed-stream"
_FRAME_HEADER = struct.Struct(">BxxxI")
READ_SIZE = 32768
REPLAY_DELAY = 0.05  # seconds between a hijacked response's head and the output it replays


def frame(stream: int, data: bytes, tty: bool) -> bytes:
    """Docker's stdcopy framing (8-byte header per chunk) unless the stream is a TTY's raw bytes."""
    return data if tty else _FRAME_HEADER.pack(stream, len(data)) + data


async def pump_session(
    reader: HijackedReader,
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
    the client types the detach keys on a TTY (without one, as in dockerd, every byte is input), or
    (with no output wanted) when the client hangs up.
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
        keys = detachkeys.parse(detach_keys or detachkeys.DEFAULT, noun="escape")
        scanner = detachkeys.DetachScanner(keys if tty else b"")
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
