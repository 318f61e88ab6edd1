"""The daemon's side of the monitors: start the zygote, spawn monitors, talk to them (asyncio)."""
from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import berth
from berth.errdefs import BerthError
from berth.monitor import request as zygote_request
from berth.monitor import statedir
from berth.monitor.frames import HEADER, FrameType, encode
from berth.monitor.request import MonitorRequest
from berth.monitor.sockpath import short_socket_path
from berth.monitor.statedir import read_exit

__all__ = ["Channel", "SpawnError", "connect", "read_exit", "spawn", "start_zygote"]

MAX_REPLY = 65536


class SpawnError(BerthError):
    """The monitor could not start the process (Docker's exit codes: 125, 126 or 127)."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


class Channel:
    """A connection to one monitor: frames of the process's output in, stdin and resizes out."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, sock: socket.socket) -> Channel:
        reader, writer = await asyncio.open_unix_connection(sock=sock)
        return cls(reader, writer)

    async def read_frame(self) -> tuple[FrameType, bytes] | None:
        """The next frame (STDOUT, STDERR, or finally EXIT), or None once the monitor hung up."""
        try:
            header = await self.reader.readexactly(HEADER.size)
            kind, length = HEADER.unpack(header)
            return FrameType(kind), await self.reader.readexactly(length)
        except (asyncio.IncompleteReadError, ConnectionError):
            return None

    async def send_stdin(self, data: bytes) -> None:
        await self._send(FrameType.STDIN, data)

    async def close_stdin(self) -> None:
        await self._send(FrameType.CLOSE_STDIN)

    async def resize(self, h: int, w: int) -> None:
        await self._send(FrameType.RESIZE, json.dumps({"h": h, "w": w}).encode())

    async def close(self) -> None:
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except ConnectionError:
            pass

    async def _send(self, kind: FrameType, payload: bytes = b"") -> None:
        self.writer.write(encode(kind, payload))
        await self.writer.drain()


async def spawn(zygote_socket: str | Path, request: MonitorRequest) -> tuple[dict, Channel]:
    """Ask the zygote for a monitor that runs `request`; return its reply and our channel to it.

    Raises SpawnError when the process could not be started (the reply carried an error).
    """
    loop = asyncio.get_running_loop()
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as request_sock:
        request_sock.setblocking(False)
        try:
            with short_socket_path(os.fspath(zygote_socket)) as reachable:
                await loop.sock_connect(request_sock, reachable)
            # One small message on a fresh connection: the kernel takes it without blocking.
            socket.send_fds(request_sock, [zygote_request.encode(request)], [theirs.fileno()])
        finally:
            theirs.close()
        data = await loop.sock_recv(request_sock, MAX_REPLY)
    if not data:
        ours.close()
        raise SpawnError("monitor exited before it replied", 125)
    reply = json.loads(data)
    if "error" in reply:
        ours.close()
        raise SpawnError(reply["error"], reply["exit_code"])
    return reply, await Channel.open(ours)


async def connect(state_dir: str | Path) -> Channel:
    """Reconnect to the live monitor of `state_dir` (e.g. after a daemon restart).

    Raises FileNotFoundError or ConnectionRefusedError when no monitor runs there any more; then
    read_exit(state_dir) tells how the process ended.
    """
    path = os.path.join(state_dir, statedir.ATTACH_SOCKET)
    with short_socket_path(path) as reachable:
        reader, writer = await asyncio.open_unix_connection(reachable)
    return Channel(reader, writer)


def start_zygote(socket_path: str | Path, stderr: int | None = None) -> subprocess.Popen:
    """Start the zygote and wait until it listens on `socket_path`.

    Call it from the daemon's main thread: the zygote dies with the thread that started it.
    """
    package_root = str(Path(berth.__file__).resolve().parent.parent)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")])))
    zygote = subprocess.Popen(
        [sys.executable, "-m", "berth.monitor.zygote", "--socket", os.fspath(socket_path)],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr, env=env,
    )
    assert zygote.stdout is not None
    ready = zygote.stdout.readline()
    zygote.stdout.close()
    if ready != b"ready\n":
        zygote.wait()
        raise RuntimeError(f"monitor zygote failed to start (exit status {zygote.returncode})")
    return zygote
