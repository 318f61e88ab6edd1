"""A connected unix stream socket for the CLI, without importing the `socket` module.

`socket` costs every command some 7 ms of start-up (it builds enums of all its constants, and
imports selectors); the CLI needs one thing of it, a stream to the daemon's unix socket. Here that
stream is made by the C library's own socket(2) and connect(2), called through ctypes (public, and
some 4 ms cheaper to import), and read and written with os.read and os.write, which retry on EINTR
as socket's methods do. Errors are the OSError subclasses socket.socket raises. Linux only, as berth.
"""
from __future__ import annotations

import ctypes
import os

AF_UNIX = 1
SOCK_STREAM = 1
SOCK_CLOEXEC = 0o2000000
SHUT_WR = 1
SHUT_RDWR = 2

_libc = ctypes.CDLL(None, use_errno=True)  # the C library the interpreter runs on


class _UnixAddress(ctypes.Structure):
    _fields_ = [("sun_family", ctypes.c_ushort), ("sun_path", ctypes.c_char * 108)]


def _failed(what: str) -> OSError:
    code = ctypes.get_errno()
    return OSError(code, f"{what}: {os.strerror(code)}")


class UnixStream:
    """The part of socket.socket's interface the CLI uses, on a connected stream."""

    def __init__(self, fd: int) -> None:
        self._fd = fd

    def fileno(self) -> int:
        return self._fd

    def recv(self, size: int) -> bytes:
        return os.read(self._fd, size)

    def sendall(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view):]

    def shutdown(self, how: int) -> None:
        if _libc.shutdown(self._fd, how) < 0:
            raise _failed("shutdown")

    def close(self) -> None:
        if self._fd >= 0:
            fd, self._fd = self._fd, -1
            os.close(fd)


def connect(path: str) -> UnixStream:
    """A stream connected to the unix socket at `path`."""
    raw = os.fsencode(path)
    if len(raw) >= 108:
        raise OSError("AF_UNIX path too long")
    fd = _libc.socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)
    if fd < 0:
        raise _failed("socket")
    address = _UnixAddress(AF_UNIX, raw)
    if _libc.connect(fd, ctypes.byref(address), ctypes.sizeof(address)) < 0:
        error = _failed(f"connect {path}")
        os.close(fd)
        raise error
    return UnixStream(fd)
