"""Write a directory tree as a tar stream (layer diffs, `export`).

The tree is walked through directory descriptors with O_NOFOLLOW, so a running container that swaps
a directory for a symlink cannot make the walk read outside its root. With overlay=True the tree is
an overlayfs upper directory and its whiteouts (0/0 character devices) and opaque directories
(trusted.overlay.opaque=y) are written as OCI whiteouts (`.wh.name`, `.wh..wh..opq`).
"""
from __future__ import annotations

import os
import stat
import tarfile
from typing import Protocol

from berth.layer.apply import OPAQUE, OPAQUE_XATTR, WHITEOUT_PREFIX, XATTR_PAX_PREFIX

CHUNK = 1 << 20
BLOCK = 512
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_SKIPPED_XATTRS = ("trusted.overlay.", "security.selinux")


class Sink(Protocol):
    def write(self, data: bytes) -> int: ...


def is_whiteout(st: os.stat_result) -> bool:
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == 0


def is_opaque(dir_fd: int) -> bool:
    try:
        return os.getxattr(dir_fd, OPAQUE_XATTR) == b"y"
    except OSError:
        return False


class TreeTarWriter:
    """Writes one tar; entries are sorted by name, directories before their contents."""

    def __init__(self, out: Sink, overlay: bool, clamp_mtime: int | None = None) -> None:
        """`clamp_mtime`: no entry's time later than this (a reproducible build's SOURCE_DATE_EPOCH)."""
        self._out = out
        self._overlay = overlay
        self._clamp = clamp_mtime
        self._links: dict[tuple[int, int], str] = {}

    def write_tree(self, root: str | os.PathLike) -> None:
        fd = os.open(root, _DIR_FLAGS)
        try:
            self._walk(fd, "")
        finally:
            os.close(fd)
        self._out.write(b"\0" * (2 * BLOCK))

    def _walk(self, dir_fd: int, prefix: str) -> None:
        for name in sorted(os.listdir(dir_fd)):
            st = os.lstat(name, dir_fd=dir_fd)
            path = prefix + name
            if self._overlay and is_whiteout(st):
                self._whiteout(prefix + WHITEOUT_PREFIX + name, st)
            elif stat.S_ISDIR(st.st_mode):
                child = os.open(name, _DIR_FLAGS, dir_fd=dir_fd)
                try:
                    self._header(self._info(path + "/", st, tarfile.DIRTYPE), _xattrs(child))
                    if self._overlay and is_opaque(child):
                        self._whiteout(path + "/" + OPAQUE, st)
                    self._walk(child, path + "/")
                finally:
                    os.close(child)
            elif stat.S_ISREG(st.st_mode):
                self._regular(dir_fd, name, path, st)
            elif not stat.S_ISSOCK(st.st_mode):
                self._special(dir_fd, name, path, st)

    def _info(self, name: str, st: os.stat_result, kind: bytes) -> tarfile.TarInfo:
        info = tarfile.TarInfo(name)
        info.type = kind
        info.mode = stat.S_IMODE(st.st_mode)
        info.uid, info.gid = st.st_uid, st.st_gid
        info.uname = info.gname = ""
        info.mtime = int(st.st_mtime) if self._clamp is None else min(int(st.st_mtime), self._clamp)
        return info

    def _header(self, info: tarfile.TarInfo, xattrs: dict[str, str]) -> None:
        info.pax_headers = {XATTR_PAX_PREFIX + key: value for key, value in xattrs.items()}
        self._out.write(info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape"))

    def _whiteout(self, name: str, st: os.stat_result) -> None:
        info = self._info(name, st, tarfile.REGTYPE)
        info.mode &= 0o777
        self._header(info, {})

    def _regular(self, dir_fd: int, name: str, path: str, st: os.stat_result) -> None:
        identity = (st.st_dev, st.st_ino)
        if st.st_nlink > 1 and identity in self._links:
            info = self._info(path, st, tarfile.LNKTYPE)
            info.linkname = self._links[identity]
            self._header(info, {})
            return
        if st.st_nlink > 1:
            self._links[identity] = path
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
        try:
            info = self._info(path, st, tarfile.REGTYPE)
            info.size = st.st_size
            self._header(info, _xattrs(fd))
            self._content(fd, st.st_size)
        finally:
            os.close(fd)

    def _content(self, fd: int, size: int) -> None:
        """Exactly `size` bytes (a file that changed meanwhile is cut or zero-filled), then padding."""
        remaining = size
        while remaining:
            chunk = os.read(fd, min(CHUNK, remaining))
            if not chunk:
                chunk = b"\0" * min(CHUNK, remaining)
            self._out.write(chunk)
            remaining -= len(chunk)
        if size % BLOCK:
            self._out.write(b"\0" * (BLOCK - size % BLOCK))

    def _special(self, dir_fd: int, name: str, path: str, st: os.stat_result) -> None:
        if stat.S_ISLNK(st.st_mode):
            info = self._info(path, st, tarfile.SYMTYPE)
            info.linkname = os.readlink(name, dir_fd=dir_fd)
        elif stat.S_ISFIFO(st.st_mode):
            info = self._info(path, st, tarfile.FIFOTYPE)
        else:
            info = self._info(path, st, tarfile.CHRTYPE if stat.S_ISCHR(st.st_mode) else tarfile.BLKTYPE)
            info.devmajor, info.devminor = os.major(st.st_rdev), os.minor(st.st_rdev)
        self._header(info, _xattrs(f"/proc/self/fd/{dir_fd}/{name}"))


def _xattrs(target: int | str) -> dict[str, str]:
    """Extended attributes worth carrying in a layer (not overlayfs' own, not SELinux labels)."""
    follow = isinstance(target, int)
    try:
        names = os.listxattr(target, follow_symlinks=follow)
    except OSError:
        return {}
    result = {}
    for key in sorted(names):
        if key.startswith(_SKIPPED_XATTRS):
            continue
        try:
            value = os.getxattr(target, key, follow_symlinks=follow)
        except OSError:
            continue
        result[key] = value.decode("utf-8", "surrogateescape")
    return result


def write_tree(root: str | os.PathLike, out: Sink, overlay: bool = False, clamp_mtime: int | None = None) -> None:
    """Write the tree at `root` to `out` as a tar stream (no time later than `clamp_mtime`)."""
    TreeTarWriter(out, overlay, clamp_mtime).write_tree(root)


class ArchiveWriter:
    """Writes a tar of named files and directories (image archives), streaming file content."""

    def __init__(self, out: Sink, mtime: int = 0) -> None:
        self._out = out
        self._mtime = mtime

    def _entry(self, name: str, kind: bytes, mode: int, size: int = 0) -> None:
        info = tarfile.TarInfo(name)
        info.type, info.mode, info.size, info.mtime = kind, mode, size, self._mtime
        info.uname = info.gname = ""
        self._out.write(info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape"))

    def add_directory(self, name: str) -> None:
        self._entry(name.rstrip("/") + "/", tarfile.DIRTYPE, 0o755)

    def add_bytes(self, name: str, data: bytes) -> None:
        self._entry(name, tarfile.REGTYPE, 0o644, len(data))
        self._out.write(data)
        self._pad(len(data))

    def add_stream(self, name: str, size: int, source: Readable) -> None:
        """A file of `size` bytes read from `source`; a source that ends early is an error."""
        self._entry(name, tarfile.REGTYPE, 0o644, size)
        remaining = size
        while remaining:
            chunk = source.read(min(CHUNK, remaining))
            if not chunk:
                raise OSError(f"{name}: source ended {remaining} bytes early")
            self._out.write(chunk)
            remaining -= len(chunk)
        if source.read(1):
            raise OSError(f"{name}: source is longer than {size} bytes")
        self._pad(size)

    def _pad(self, size: int) -> None:
        if size % BLOCK:
            self._out.write(b"\0" * (BLOCK - size % BLOCK))

    def close(self) -> None:
        self._out.write(b"\0" * (2 * BLOCK))


class Readable(Protocol):
    def read(self, size: int = -1) -> bytes: ...
