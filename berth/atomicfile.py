"""The one way berth replaces a file that must never be seen torn (a leaf module: it imports only os).

The data is written to a temporary sibling whose name no other writer shares (pid and a random
part, so two threads or processes saving the same file at once never write into each other's
temporary file), fsynced, renamed over the target, and the directory is fsynced. A crash at any
instant leaves the old file or the new one; of two overlapping writers the last rename wins, and
either way the file is whole.
"""
from __future__ import annotations

import os


def fsync_dir(path: str | os.PathLike[str]) -> None:
    """Make a rename or unlink in directory `path` durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: str | os.PathLike[str], data: bytes, mode: int = 0o644, *, durable: bool = True) -> None:
    """Replace `path` with `data`: readers and a crash see the old content or the new, never a mix.

    `durable=False` skips the fsyncs, for files written anew on every use (a container's /etc
    files at each start): readers still never see a torn file, but a crash may lose the write."""
    target = os.fspath(path)
    directory, name = os.path.split(target)
    temp = os.path.join(directory, f".{name}.{os.getpid()}.{os.urandom(6).hex()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, mode)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fchmod(fd, mode)  # the umask does not narrow it
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.rename(temp, target)
    except BaseException:
        try:
            os.unlink(temp)
        except FileNotFoundError:
            pass
        raise
    if durable:
        fsync_dir(directory or ".")
