"""Container I/O on the client side: docker's multiplexed frames, the raw terminal, and the
copy loop of an attached (hijacked) connection."""
from __future__ import annotations

import os
import struct
import sys

from berth import detachkeys
from berth.cli.errors import CLIError

TYPE_CHECKING = False  # what typing.TYPE_CHECKING is, without importing typing (start-up time)
if TYPE_CHECKING:
    import threading
    from collections.abc import Callable, Iterable, Iterator
    from typing import Any

    from berth.cli.client import Hijacked

DEFAULT_DETACH_KEYS = detachkeys.DEFAULT
_HEADER = struct.Struct(">BxxxI")


class FrameDecoder:
    """Split docker's multiplexed stream (8-byte header: stream, 0, 0, 0, big-endian size)."""

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, data: bytes) -> Iterator[tuple[int, bytes]]:
        self._buffer += data
        while len(self._buffer) >= _HEADER.size:
            stream, size = _HEADER.unpack_from(self._buffer)
            end = _HEADER.size + size
            if len(self._buffer) < end:
                return
            payload, self._buffer = self._buffer[_HEADER.size:end], self._buffer[end:]
            yield stream, payload


def encode_frame(stream: int, payload: bytes) -> bytes:
    """One multiplexed frame (the inverse of FrameDecoder, used by tests and tools)."""
    return _HEADER.pack(stream, len(payload)) + payload


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


class OutputSink:
    """Writes container output to our stdout/stderr, raw (tty) or demultiplexed."""

    def __init__(self, tty: bool) -> None:
        self.tty = tty
        self._frames = FrameDecoder()
        self.broken = False

    def write(self, data: bytes) -> None:
        if self.broken:
            return
        try:
            if self.tty:
                write_all(1, data)
                return
            for stream, payload in self._frames.feed(data):
                write_all(2 if stream == 2 else 1, payload)
        except BrokenPipeError:
            self.broken = True


def copy_output(chunks: Iterable[bytes], tty: bool) -> None:
    """Copy a streamed body (logs) to stdout/stderr."""
    sink = OutputSink(tty)
    for chunk in chunks:
        sink.write(chunk)


def parse_detach_keys(spec: str) -> bytes:
    """`ctrl-p,ctrl-q` -> b"\\x10\\x11" (see berth.detachkeys); a bad spec is the user's error."""
    try:
        return detachkeys.parse(spec)
    except ValueError as err:
        raise CLIError(str(err)) from None


def pump(conn: Hijacked, *, tty: bool, stdin: bool, detach_keys: bytes = b"",
         on_resize: Callable[[], None] | None = None) -> bool:
    """Copy stdin to the connection and its output to stdout/stderr until the output ends.

    At stdin's end the write side is shut down (the container sees EOF). Returns True when the
    user typed the detach sequence (tty only).
    """
    sink = OutputSink(tty)
    detached = None
    if stdin:
        import threading  # only here: importing it costs every other command start-up time

        detached = threading.Event()
        threading.Thread(target=_copy_stdin, args=(conn, detach_keys if tty else b"", detached),
                         daemon=True).start()
    previous = None
    if on_resize is not None and tty:
        import signal  # only here: it imports enum, which costs other commands start-up time

        previous = signal.signal(signal.SIGWINCH, _resizer(on_resize))
    try:
        while True:
            try:
                data = conn.recv()
            except OSError:
                break
            if not data:
                break
            sink.write(data)
    finally:
        if previous is not None:
            signal.signal(signal.SIGWINCH, previous)
    return detached is not None and detached.is_set()


def _resizer(on_resize: Callable[[], None]) -> Callable[..., None]:
    """A SIGWINCH handler that only wakes a thread, which then calls `on_resize` (an API request).

    Doing the request in the handler itself would nest when signals come close together (the kernel
    sends one per size change) and two requests would interleave on one connection.
    """
    import threading

    wake_read, wake_write = os.pipe()

    def serve() -> None:
        while os.read(wake_read, 64):
            on_resize()

    threading.Thread(target=serve, name="resize", daemon=True).start()
    def wake(*_: object) -> None:
        os.write(wake_write, b"!")

    return wake


def _copy_stdin(conn: Hijacked, detach_keys: bytes, detached: threading.Event) -> None:
    detach = detachkeys.DetachScanner(detach_keys)
    try:
        while data := os.read(0, 32768):
            data, done = detach.feed(data)
            if data:
                conn.send(data)
            if done:
                detached.set()
                conn.sock.shutdown(2)
                return
    except OSError:
        return
    conn.close_write()


def stdin_is_tty() -> bool:
    return os.isatty(0)


class RawTerminal:
    """Puts the terminal on stdin in raw mode for the duration of a `with` (when enabled and stdin is
    one). A class, not a @contextmanager: contextlib costs the CLI start-up time."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._saved: list[Any] | None = None

    def __enter__(self) -> None:
        if not self.enabled or not os.isatty(0):
            return
        import termios
        import tty

        self._saved = termios.tcgetattr(0)
        tty.setraw(0, termios.TCSANOW)  # keep what the user typed before the terminal went raw

    def __exit__(self, *exc_info: object) -> None:
        if self._saved is not None:
            import termios

            termios.tcsetattr(0, termios.TCSADRAIN, self._saved)
            self._saved = None


def terminal_size() -> tuple[int, int] | None:
    """(height, width) of the terminal on stdout (or stdin), or None without one."""
    for fd in (1, 0):
        try:
            size = os.get_terminal_size(fd)
        except OSError:
            continue
        return size.lines, size.columns
    return None


def refuse_terminal_output(what: str = "save") -> None:
    """Binary output must not go to a terminal (docker's wording)."""
    if sys.stdout.isatty():
        raise CLIError(f"cowardly refusing to {what} to a terminal. Use the -o flag or redirect")
