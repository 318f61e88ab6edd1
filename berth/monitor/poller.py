"""The monitor's event loop primitive: epoll with a callback per file, the part of `selectors` the
monitor uses.

A monitor is forked from the zygote, and every page of shared Python it runs for the first time
becomes its own copy: `selectors` (keys as named tuples, a mapping view, fd lookups) cost each idle
container monitor about 100 KiB more than this (bench/monitor_memory.py).
"""
from __future__ import annotations

import select

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    FileLike = Any  # an fd, or an object with fileno()
    Callback = Callable[[Any, int], None]

READ = select.EPOLLIN
WRITE = select.EPOLLOUT


def _fd(fileobj: FileLike) -> int:
    return fileobj if isinstance(fileobj, int) else fileobj.fileno()


class Poller:
    """Files watched for READ and/or WRITE, each with the callback that handles it."""

    def __init__(self) -> None:
        self._epoll = select.epoll()
        self._watched: dict[int, tuple[FileLike, int, Callback]] = {}

    def register(self, fileobj: FileLike, events: int, callback: Callback) -> None:
        fd = _fd(fileobj)
        self._epoll.register(fd, events)
        self._watched[fd] = (fileobj, events, callback)

    def modify(self, fileobj: FileLike, events: int, callback: Callback) -> None:
        fd = _fd(fileobj)
        self._epoll.modify(fd, events)
        self._watched[fd] = (fileobj, events, callback)

    def unregister(self, fileobj: FileLike) -> None:
        """Stop watching; call it before the file is closed."""
        fd = _fd(fileobj)
        self._epoll.unregister(fd)
        del self._watched[fd]

    def watching(self, fileobj: FileLike) -> bool:
        return _fd(fileobj) in self._watched

    def events(self, fileobj: FileLike) -> int:
        return self._watched[_fd(fileobj)][1]

    def entries(self) -> list[tuple[FileLike, Callback]]:
        return [(fileobj, callback) for fileobj, _, callback in self._watched.values()]

    def select(self, timeout: float | None = None) -> list[tuple[FileLike, Callback, int]]:
        """The ready files with their callbacks and READ/WRITE events (None: wait without a limit).

        A hang-up or an error counts as both readable and writable, as in `selectors`, so that the
        callback meets the end of file or the error itself.
        """
        ready = []
        for fd, happened in self._epoll.poll(-1 if timeout is None else timeout):
            fileobj, _, callback = self._watched[fd]
            ready.append((fileobj, callback, (READ if happened & ~WRITE else 0) | (WRITE if happened & ~READ else 0)))
        return ready
