"""Resolve paths inside a directory as if it were `/`: symlinks and `..` can never lead out of it.

Every step is an `openat` relative to a directory descriptor with O_NOFOLLOW, so nothing a hostile
archive plants (a symlink to /etc, a `../../` name) makes a write land outside the root.
"""
from __future__ import annotations

import os
import stat

from berth.errdefs import InvalidArgument

MAX_SYMLINK_HOPS = 40
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class PathEscapes(InvalidArgument, ValueError):
    """A name that climbs out of the root with `..`."""


def split(name: str) -> list[str]:
    """The components of an archive member name, relative to the root; refuses names that climb out."""
    parts: list[str] = []
    for part in name.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                raise PathEscapes(f"{name!r}: path escapes the root")
            parts.pop()
        else:
            parts.append(part)
    return parts


class RootDir:
    """An open directory that confines path resolution to itself."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = os.fspath(path)
        self.fd = os.open(self.path, _DIR_FLAGS)

    def close(self) -> None:
        os.close(self.fd)

    def __enter__(self) -> RootDir:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open_dir(self, parts: list[str], create: bool = False) -> int:
        """A new descriptor of the directory at `parts` (symlinks resolved inside the root).

        With create=True missing directories are made (mode 0755). The caller closes the descriptor.
        """
        stack = [os.dup(self.fd)]
        pending = list(reversed(parts))
        hops = 0
        try:
            while pending:
                part = pending.pop()
                if part in ("", "."):
                    continue
                if part == "..":
                    if len(stack) > 1:
                        os.close(stack.pop())
                    continue
                try:
                    st = os.lstat(part, dir_fd=stack[-1])
                except FileNotFoundError:
                    if not create:
                        raise
                    os.mkdir(part, 0o755, dir_fd=stack[-1])
                    st = os.lstat(part, dir_fd=stack[-1])
                if stat.S_ISLNK(st.st_mode):
                    hops += 1
                    if hops > MAX_SYMLINK_HOPS:
                        raise OSError(40, f"too many levels of symbolic links in {'/'.join(parts)}")
                    target = os.readlink(part, dir_fd=stack[-1])
                    if target.startswith("/"):
                        while len(stack) > 1:
                            os.close(stack.pop())
                    pending.extend(reversed(target.split("/")))
                    continue
                if not stat.S_ISDIR(st.st_mode):
                    raise NotADirectoryError(f"{'/'.join(parts)}: {part} is not a directory")
                stack.append(os.open(part, _DIR_FLAGS, dir_fd=stack[-1]))
            result = stack.pop()
            return result
        finally:
            for fd in stack:
                os.close(fd)

    def open_parent(self, name: str, create: bool = False) -> tuple[int, str]:
        """(descriptor of the parent directory, last component) for an archive member name."""
        parts = split(name)
        if not parts:
            raise PathEscapes(f"{name!r}: names the root itself")
        return self.open_dir(parts[:-1], create=create), parts[-1]
