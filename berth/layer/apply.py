"""Unpack a layer tar into a directory in overlayfs form, never writing outside that directory.

OCI whiteouts become what overlayfs reads in a lower directory: `.wh.name` turns into a 0/0
character device `name`, `.wh..wh..opq` into the xattr trusted.overlay.opaque=y on its directory.
Owners, modes (setuid included), xattrs, device nodes, fifos, hardlinks, sparse files and times
are kept. The uncompressed stream is hashed on the way, giving the layer's diff ID.
"""
from __future__ import annotations

import errno
import os
import shutil
import stat
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from berth.errdefs import InvalidArgument
from berth.layer.filewrite import ShortContent, copy_to_file
from berth.layer.hashing import HashingReader
from berth.layer.rootdir import PathEscapes, RootDir, split
from berth.layer.tarsplit import SplitRecorder

WHITEOUT_PREFIX = ".wh."
OPAQUE = ".wh..wh..opq"
OPAQUE_XATTR = "trusted.overlay.opaque"
XATTR_PAX_PREFIX = "SCHILY.xattr."
_RESERVED_XATTR = "trusted.overlay."


OUT_OF_SPACE = (errno.ENOSPC, errno.EDQUOT)  # write errors that say nothing of the archive

class LayerError(InvalidArgument, ValueError):
    """A layer archive that cannot be applied; the message says why, and `reason` says it without
    calling the archive a layer (for `docker cp`, whose tar is not one)."""

    def __init__(self, reason: str, *, malformed: bool = True) -> None:
        super().__init__(f"invalid layer tar: {reason}" if malformed else reason)
        self.reason = reason


@dataclass(frozen=True)
class Applied:
    diff_id: str
    size: int  # bytes of files and symlink targets, each inode once, as Docker counts a layer's size
    tar_size: int  # bytes of the uncompressed tar


def apply_tar(stream: BinaryIO, target: Path, recorder: SplitRecorder | None = None, *,
              whiteouts: bool = True) -> Applied:
    """Unpack the uncompressed tar `stream` into the directory `target`.

    With a `recorder`, the tar's non-content bytes are recorded so the tar can be made again from
    `target` (see berth.layer.tarsplit); the caller then calls `recorder.finish()`. A tar that is
    not a layer (`docker cp` into a container) is unpacked with `whiteouts` False: its `.wh.` names
    are files like any other.
    """
    reader = HashingReader(stream, recorder.feed if recorder else None)
    size = 0
    directory_times: list[tuple[list[str], int]] = []
    end = 0
    with RootDir(target) as root:
        try:
            with tarfile.open(fileobj=reader, mode="r:") as tar:
                for member in tar:
                    size += _apply_member(root, tar, member, directory_times, recorder, whiteouts)
                end = tar.offset
        except (tarfile.TarError, EOFError, PathEscapes) as exc:
            raise LayerError(str(exc)) from None
        if not reader.rest_is_padding(end):
            raise LayerError("data after the end of the archive (corrupt header?)")
        for parts, mtime_ns in reversed(directory_times):
            try:
                fd = root.open_dir(parts)
            except (FileNotFoundError, NotADirectoryError):
                continue  # replaced by a later entry
            try:
                os.utime(fd, ns=(mtime_ns, mtime_ns))
            finally:
                os.close(fd)
    return Applied(reader.digest, size, reader.size)


def _apply_member(root: RootDir, tar: tarfile.TarFile, member: tarfile.TarInfo,
                  directory_times: list[tuple[list[str], int]], recorder: SplitRecorder | None,
                  whiteouts: bool) -> int:
    parts = split(member.name)
    if not parts:  # the root directory itself ("./")
        return 0
    try:
        parent, name = root.open_parent(member.name, create=True)
    except OSError as exc:
        raise LayerError(f"cannot apply {member.name!r}: {exc.strerror or exc}", malformed=False) from None
    try:
        return _apply_entry(root, parent, name, parts, tar, member, directory_times, recorder, whiteouts)
    except OSError as exc:
        if exc.errno in OUT_OF_SPACE:
            raise  # the disk's fault, not the archive's: the caller says so
        raise LayerError(f"cannot apply {member.name!r}: {exc.strerror or exc}", malformed=False) from None
    finally:
        os.close(parent)


def _apply_entry(root: RootDir, parent: int, name: str, parts: list[str], tar: tarfile.TarFile,
                 member: tarfile.TarInfo, directory_times: list[tuple[list[str], int]],
                 recorder: SplitRecorder | None, whiteouts: bool) -> int:
    if whiteouts and name == OPAQUE:
        os.setxattr(parent, OPAQUE_XATTR, b"y")
        return 0
    if whiteouts and name.startswith(WHITEOUT_PREFIX):
        if not name.startswith(WHITEOUT_PREFIX + WHITEOUT_PREFIX):  # .wh..wh.* are aufs metadata
            _whiteout(parent, name[len(WHITEOUT_PREFIX):], member, recorder)
        return 0
    _clear(parent, name, keep_directory=member.isdir(), recorder=recorder)
    if member.isreg():
        if recorder is not None and not member.issparse():
            recorder.content(member.offset_data, member.size, parent, name)
        _write_file(parent, name, tar, member)
        return member.size
    if member.isdir():
        _make_directory(parent, name, member)
        directory_times.append((parts, _ns(member.mtime)))
    elif member.issym():
        os.symlink(member.linkname, name, dir_fd=parent)
        _finish_path(parent, name, member, set_mode=False)
        return len(os.fsencode(member.linkname))  # a symlink's size is its target's length
    elif member.islnk():
        _hardlink(root, parent, name, member)
    elif member.ischr() or member.isblk() or member.isfifo():
        _make_node(parent, name, member)
    else:
        raise LayerError(f"{member.name!r} has unsupported type {member.type!r}")
    return 0


def _ns(seconds: float) -> int:
    return int(round(seconds * 1_000_000_000))


def _clear(parent: int, name: str, keep_directory: bool, recorder: SplitRecorder | None) -> None:
    """Remove what stands at `name` (set it aside, when recording), unless both it and the new
    entry are directories."""
    try:
        st = os.lstat(name, dir_fd=parent)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(st.st_mode) and keep_directory:
        return
    if recorder is not None:
        recorder.set_aside(parent, name)
    elif stat.S_ISDIR(st.st_mode):
        shutil.rmtree(name, dir_fd=parent)
    else:
        os.unlink(name, dir_fd=parent)


def _whiteout(parent: int, name: str, member: tarfile.TarInfo, recorder: SplitRecorder | None) -> None:
    if not name or name in (".", "..") or "/" in name:
        raise LayerError(f"bad whiteout {member.name!r}")
    _clear(parent, name, keep_directory=False, recorder=recorder)
    os.mknod(name, stat.S_IFCHR, os.makedev(0, 0), dir_fd=parent)
    os.chown(name, member.uid, member.gid, dir_fd=parent, follow_symlinks=False)


def _xattrs(member: tarfile.TarInfo) -> list[tuple[str, bytes]]:
    return [(key[len(XATTR_PAX_PREFIX):], value.encode("utf-8", "surrogateescape"))
            for key, value in member.pax_headers.items()
            if key.startswith(XATTR_PAX_PREFIX) and not key[len(XATTR_PAX_PREFIX):].startswith(_RESERVED_XATTR)]


def _finish_fd(fd: int, member: tarfile.TarInfo) -> None:
    """Owner, then mode (chown clears setuid bits), then xattrs and times, on an open file."""
    os.fchown(fd, member.uid, member.gid)
    os.fchmod(fd, member.mode & 0o7777)
    for key, value in _xattrs(member):
        os.setxattr(fd, key, value)
    os.utime(fd, ns=(_ns(member.mtime), _ns(member.mtime)))


def _write_file(parent: int, name: str, tar: tarfile.TarFile, member: tarfile.TarInfo) -> None:
    """Write the file's content, leaving holes where the archive has holes or runs of zeros."""
    fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=parent)
    try:
        source = tar.extractfile(member)
        assert source is not None
        try:
            copy_to_file(source, fd, member.size)  # tarfile reads the holes of sparse members as zeros
        except ShortContent:
            raise LayerError("unexpected end of data") from None
        os.ftruncate(fd, member.size)
        _finish_fd(fd, member)
    finally:
        os.close(fd)


def _make_directory(parent: int, name: str, member: tarfile.TarInfo) -> None:
    try:
        os.mkdir(name, 0o700, dir_fd=parent)
    except FileExistsError:
        pass
    fd = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=parent)
    try:
        _finish_fd(fd, member)
    finally:
        os.close(fd)


def _finish_path(parent: int, name: str, member: tarfile.TarInfo, set_mode: bool) -> None:
    """For entries not opened (symlinks, nodes): act on the name without following it."""
    os.chown(name, member.uid, member.gid, dir_fd=parent, follow_symlinks=False)
    if set_mode:
        os.chmod(name, member.mode & 0o7777, dir_fd=parent)
    for key, value in _xattrs(member):
        os.setxattr(f"/proc/self/fd/{parent}/{name}", key, value, follow_symlinks=False)
    os.utime(name, ns=(_ns(member.mtime), _ns(member.mtime)), dir_fd=parent, follow_symlinks=False)


def _make_node(parent: int, name: str, member: tarfile.TarInfo) -> None:
    kind = stat.S_IFCHR if member.ischr() else stat.S_IFBLK if member.isblk() else stat.S_IFIFO
    device = os.makedev(member.devmajor, member.devminor) if kind != stat.S_IFIFO else 0
    os.mknod(name, kind | 0o600, device, dir_fd=parent)
    _finish_path(parent, name, member, set_mode=True)


def _hardlink(root: RootDir, parent: int, name: str, member: tarfile.TarInfo) -> None:
    try:
        source_parent, source_name = root.open_parent(member.linkname)
    except (FileNotFoundError, NotADirectoryError):
        raise LayerError(f"hardlink {member.name!r} -> {member.linkname!r}: "
                         "target does not exist") from None
    except PathEscapes as exc:
        raise LayerError(f"hardlink {member.name!r}: {exc}") from None
    try:
        os.link(source_name, name, src_dir_fd=source_parent, dst_dir_fd=parent, follow_symlinks=False)
    except FileNotFoundError:
        raise LayerError(f"hardlink {member.name!r} -> {member.linkname!r}: "
                         "target does not exist") from None
    finally:
        os.close(source_parent)
