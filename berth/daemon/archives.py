"""`docker cp`: a path of a container's filesystem as dockerd finds it, its stat as the
X-Docker-Container-Path-Stat header says it, a tar of it named by its base name (out), and a tar
unpacked into one of its directories (in)."""
from __future__ import annotations

import base64
import json
import os
import posixpath
import stat
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from berth.layer.apply import apply_tar
from berth.runtime.mounts import resolve_in_root
from berth.timestamps import rfc3339_nano

# Go's os.FileMode type bits, which the stat header carries (docker's CLI reads them)
_GO_DIR, _GO_SYMLINK, _GO_DEVICE, _GO_PIPE, _GO_SOCKET = 1 << 31, 1 << 27, 1 << 26, 1 << 25, 1 << 24
_GO_SETUID, _GO_SETGID, _GO_CHAR_DEVICE, _GO_STICKY = 1 << 23, 1 << 22, 1 << 21, 1 << 20


@dataclass(frozen=True)
class Found:
    path: str       # as the container sees it, absolute
    host_path: str  # where it is under the mounted root filesystem


def locate(root: str, path: str, binds: list[tuple[str, str]]) -> Found:
    """`path` (relative paths start at "/") in the filesystem mounted at `root`, or in the bind
    mount (destination, source) it falls under: symlinks on the way are followed inside it, the
    last one is not; FileNotFoundError if nothing is there."""
    absolute = posixpath.normpath(posixpath.join("/", path))
    for destination, source in sorted(binds, key=lambda bind: len(bind[0]), reverse=True):
        if absolute == destination or absolute.startswith(destination.rstrip("/") + "/"):
            root, inside = source, "/" + absolute[len(destination):].lstrip("/")
            break
    else:
        inside = absolute
    parent, base = posixpath.split(inside)
    host_path = resolve_in_root(root, parent) if parent != "/" or base else root
    if base:
        host_path = os.path.join(host_path, base)
    os.lstat(host_path)
    return Found(absolute, host_path)


def encoded_stat(found: Found) -> str:
    """The X-Docker-Container-Path-Stat value: base64 of {name, size, mode, mtime, linkTarget}."""
    info = os.lstat(found.host_path)
    link_target = ""
    if stat.S_ISLNK(info.st_mode):
        target = os.readlink(found.host_path)
        link_target = target if target.startswith("/") else posixpath.join(posixpath.dirname(found.path), target)
    record = {"name": posixpath.basename(found.path) or "/", "size": info.st_size, "mode": _go_mode(info.st_mode),
              "mtime": rfc3339_nano(info.st_mtime_ns), "linkTarget": link_target}
    return base64.b64encode(json.dumps(record, separators=(",", ":")).encode()).decode()


def write_tar(found: Found, out: BinaryIO) -> None:
    """A tar of the path (recursively; symlinks stored as links, never followed), named by its base."""
    name = posixpath.basename(found.path) or "."
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        tar.add(found.host_path, arcname=name, recursive=True)


def is_directory(found: Found) -> bool:
    return stat.S_ISDIR(os.lstat(found.host_path).st_mode)


def extract(found: Found, stream: BinaryIO) -> None:
    """Unpack `stream` into the directory `found`, never outside it, owners and modes as the tar has
    them (as dockerd does)."""
    apply_tar(stream, Path(found.host_path), whiteouts=False)


def _go_mode(mode: int) -> int:
    bits = stat.S_IMODE(mode) & 0o777
    kind = stat.S_IFMT(mode)
    bits |= {stat.S_IFDIR: _GO_DIR, stat.S_IFLNK: _GO_SYMLINK, stat.S_IFBLK: _GO_DEVICE,
             stat.S_IFCHR: _GO_DEVICE | _GO_CHAR_DEVICE, stat.S_IFIFO: _GO_PIPE, stat.S_IFSOCK: _GO_SOCKET}.get(kind, 0)
    for flag, go_flag in ((stat.S_ISUID, _GO_SETUID), (stat.S_ISGID, _GO_SETGID), (stat.S_ISVTX, _GO_STICKY)):
        if mode & flag:
            bits |= go_flag
    return bits
