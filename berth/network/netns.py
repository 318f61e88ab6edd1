"""Network namespaces as files, as `ip netns add` makes them: a namespace bind-mounted on a path
lives on with no process in it, so a container's network can be wired before its process starts
and a runtime (berth's, runc, crun) joins it by that path.

Work inside a namespace is done by the calling thread entering it for a moment (`entered`): a
netlink or inet socket made there stays bound to that namespace after the thread has come back.
Namespaces belong to threads, so this never moves the rest of the process; it must not be used on
a thread that runs an event loop (a coroutine would run in the wrong namespace meanwhile).
"""
from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

from berth.linux import syscalls

_THREAD_NETNS = "/proc/thread-self/ns/net"


@contextlib.contextmanager
def entered(path: str) -> Iterator[None]:
    """Run the body with this thread in the network namespace at `path` (a namespace file, or
    /proc/PID/ns/net), then back in its own."""
    own = os.open(_THREAD_NETNS, os.O_RDONLY | os.O_CLOEXEC)
    try:
        target = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            syscalls.setns(target, syscalls.CLONE_NEWNET)
        finally:
            os.close(target)
        try:
            yield
        finally:
            syscalls.setns(own, syscalls.CLONE_NEWNET)
    finally:
        os.close(own)


def create(path: Path) -> None:
    """A new network namespace (only `lo`, down), kept at `path`. The work is done on a thread of
    its own, which unshares its namespace and is gone after."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(0o444)
    failure: list[BaseException] = []

    def make() -> None:
        try:
            syscalls.unshare(syscalls.CLONE_NEWNET)
            syscalls.mount(_THREAD_NETNS, str(path), None, syscalls.MS_BIND)
        except BaseException as error:  # noqa: BLE001 - handed to the caller's thread
            failure.append(error)

    thread = threading.Thread(target=make, name="netns-create")
    thread.start()
    thread.join()
    if failure:
        path.unlink(missing_ok=True)
        raise failure[0]


def remove(path: Path) -> None:
    """Let go of the namespace at `path`: it ends with the last process and socket in it."""
    with contextlib.suppress(OSError):
        syscalls.umount2(str(path), syscalls.MNT_DETACH)
    path.unlink(missing_ok=True)
