"""A running container's live streams: output fanned out to attached clients, stdin funnelled in.

The monitor holds the container's stdio; the daemon keeps one channel to it per container. Attached
clients subscribe to an OutputHub and write into a StdinFunnel, which buffers until the container runs
(docker attaches before it starts).
"""
from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Protocol

STDOUT = 1
STDERR = 2
EXIT = 3  # the monitor's last frame: the exit record
QUEUE_LIMIT = 4096  # chunks; a client that falls this far behind loses output rather than stall others


class MonitorChannel(Protocol):
    async def read_frame(self) -> tuple[int, bytes] | None: ...
    async def send_stdin(self, data: bytes) -> None: ...
    async def close_stdin(self) -> None: ...
    async def resize(self, height: int, width: int) -> None: ...
    async def close(self) -> None: ...


async def relay(channel: MonitorChannel, hub: OutputHub, stdin: StdinFunnel) -> dict | None:
    """Connect `stdin` to the monitor and publish its output on `hub` until the exit frame.

    Returns the exit record, or None when the channel ended without one (the monitor is gone).
    """
    await stdin.connect(channel)
    try:
        while (frame := await channel.read_frame()) is not None:
            kind, payload = frame
            if kind in (STDOUT, STDERR):
                hub.publish(kind, payload)
            elif kind == EXIT:
                return json.loads(payload)
    except (ConnectionError, OSError):
        pass
    finally:
        await channel.close()
    return None


class OutputHub:
    """Copies each output chunk to every subscriber; `close` ends all their streams."""

    def __init__(self) -> None:
        self._subscribers: set[asyncio.Queue[tuple[int, bytes] | None]] = set()
        self.closed = False

    def subscribe(self) -> asyncio.Queue[tuple[int, bytes] | None]:
        queue: asyncio.Queue[tuple[int, bytes] | None] = asyncio.Queue(QUEUE_LIMIT)
        if self.closed:
            queue.put_nowait(None)
        else:
            self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[tuple[int, bytes] | None]) -> None:
        self._subscribers.discard(queue)

    def publish(self, stream: int, data: bytes) -> None:
        for queue in self._subscribers:
            if not queue.full():
                queue.put_nowait((stream, data))

    def close(self) -> None:
        self.closed = True
        for queue in self._subscribers:
            while queue.full():
                queue.get_nowait()
            queue.put_nowait(None)
        self._subscribers.clear()


async def iterate(queue: asyncio.Queue[tuple[int, bytes] | None]) -> AsyncIterator[tuple[int, bytes]]:
    while (item := await queue.get()) is not None:
        yield item


class StdinFunnel:
    """Where attached clients write; holds input until a channel to the running container exists."""

    def __init__(self) -> None:
        self._channel: MonitorChannel | None = None
        self._pending: list[bytes] = []
        self._closed = False

    async def connect(self, channel: MonitorChannel) -> None:
        self._channel = channel
        pending, self._pending = self._pending, []
        for data in pending:
            await channel.send_stdin(data)
        if self._closed:
            await channel.close_stdin()

    def disconnect(self) -> None:
        self._channel = None
        self._pending = []
        self._closed = False

    async def write(self, data: bytes) -> None:
        if self._channel is None:
            self._pending.append(data)
        else:
            await self._channel.send_stdin(data)

    async def close(self) -> None:
        if self._channel is None:
            self._closed = True
        else:
            await self._channel.close_stdin()
