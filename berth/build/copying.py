"""What COPY and ADD put into an image, as a tar to unpack at the image's root: Docker's rules for
sources (globs in the context, a directory copies its contents, nothing outside the context) and for
the destination (a trailing `/` or an existing directory takes the sources by name; several sources
need a directory), new parent directories, `--chown` and `--chmod`; ADD unpacks local tar archives
(plain, gzip, bzip2, xz) into the destination.
"""
from __future__ import annotations

import os
import posixpath
import stat
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    from _typeshed import SupportsRead

from berth.errdefs import InvalidArgument

GLOB_CHARACTERS = frozenset("*?[")


@dataclass(frozen=True)
class Ownership:
    uid: int = 0
    gid: int = 0


class CopyError(InvalidArgument):
    pass


def find_sources(root: Path, patterns: list[str], instruction: str) -> list[Path]:
    """The files and directories under `root` (the context, or another stage's filesystem) that the
    source patterns name; CopyError for a path outside it or one that matches nothing."""
    found: list[Path] = []
    for pattern in patterns:
        relative = posixpath.normpath(pattern.lstrip("/")) if pattern.strip("/") else "."
        if relative == ".." or relative.startswith("../"):
            raise CopyError(f"{instruction} failed: forbidden path outside the build context: {pattern} ()")
        if GLOB_CHARACTERS & set(relative):
            matches = sorted(root.glob(relative))
        else:
            matches = [root / relative] if os.path.lexists(root / relative) else []
        if not matches:
            raise CopyError(f"{instruction} failed: file not found in build context or excluded by .dockerignore: "
                            f"stat {pattern}: file does not exist")
        found += matches
    return found


def copy_tar(sources: list[Path], destination: str, *, is_dir: Callable[[str], bool], exists: Callable[[str], bool],
             owner: Ownership, mode: int | None, unpack_archives: bool, out: BinaryIO, instruction: str,
             several: bool, downloaded: frozenset[Path] = frozenset(), clamp_mtime: int | None = None) -> None:
    """Write to `out` a tar of what copying `sources` to the absolute `destination` adds to an image
    whose paths `is_dir` and `exists` answer for. `several`: the instruction named more than one
    source or a glob, so the destination must be a directory. `downloaded`: the sources ADD fetched
    from URLs, never unpacked. `clamp_mtime`: no entry's time later than this (SOURCE_DATE_EPOCH)."""
    into_directory = destination.endswith("/") or several or is_dir(destination)
    if several and not destination.endswith("/"):
        raise CopyError(f"When using {instruction} with more than one source file, the destination must be a "
                        "directory and end with a /")
    destination = posixpath.normpath(destination)
    with _ClampedTar.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        tar.clamp = clamp_mtime
        made: set[str] = set()

        def parents(path: str) -> None:
            """Directory entries for the missing parents of `path`."""
            parent = posixpath.dirname(path)
            if parent in ("/", "") or parent in made or exists(parent):
                return
            parents(parent)
            made.add(parent)
            tar.addfile(directory_entry(parent, owner))

        for source in sources:
            info = os.lstat(source)
            if stat.S_ISDIR(info.st_mode):
                parents(posixpath.join(destination, "x"))
                if not exists(destination) and destination not in made:
                    made.add(destination)
                    tar.addfile(directory_entry(destination, owner, info))
                for path, name in _walk(source):
                    _add(tar, path, posixpath.join(destination, name), owner, mode)
            elif unpack_archives and source not in downloaded and _is_archive(source):
                parents(posixpath.join(destination, "x"))
                if not exists(destination) and destination not in made:
                    made.add(destination)
                    tar.addfile(directory_entry(destination, owner))
                _unpack_into(tar, source, destination)
            else:
                target = posixpath.join(destination, source.name) if into_directory else destination
                parents(target)
                _add(tar, source, target, owner, mode)


class _ClampedTar(tarfile.TarFile):
    """A tar whose entries' times are no later than `clamp` (when set), in whole seconds."""

    clamp: int | None = None

    def addfile(self, tarinfo: tarfile.TarInfo, fileobj: SupportsRead[bytes] | None = None) -> None:
        tarinfo.mtime = int(tarinfo.mtime) if self.clamp is None else min(int(tarinfo.mtime), self.clamp)
        super().addfile(tarinfo, fileobj)


def _walk(directory: Path) -> Iterator[tuple[Path, str]]:
    """Everything under `directory`, parents first, with its name relative to it."""
    for current, dirs, files in os.walk(directory):
        dirs.sort()
        base = Path(current)
        for name in [*sorted(dirs), *sorted(files)]:
            path = base / name
            yield path, str(path.relative_to(directory))


def directory_entry(path: str, owner: Ownership, like: os.stat_result | None = None) -> tarfile.TarInfo:
    """A tar entry for directory `path`: `like`'s mode and time, else 0755 and no time."""
    entry = tarfile.TarInfo(path.lstrip("/"))
    entry.type = tarfile.DIRTYPE
    entry.mode = stat.S_IMODE(like.st_mode) if like else 0o755
    entry.uid, entry.gid = owner.uid, owner.gid
    entry.mtime = int(like.st_mtime) if like else 0
    return entry


def _add(tar: tarfile.TarFile, path: Path, name: str, owner: Ownership, mode: int | None) -> None:
    entry = tar.gettarinfo(str(path), arcname=name.lstrip("/"))
    entry.uid, entry.gid, entry.uname, entry.gname = owner.uid, owner.gid, "", ""
    if mode is not None:
        entry.mode = mode
    if entry.isreg():
        with open(path, "rb") as content:
            tar.addfile(entry, content)
    else:
        tar.addfile(entry)


def _is_archive(path: Path) -> bool:
    try:
        with tarfile.open(path, mode="r:*") as archive:
            return archive.next() is not None
    except (tarfile.TarError, OSError, EOFError):
        return False


def _unpack_into(tar: tarfile.TarFile, archive_path: Path, destination: str) -> None:
    """ADD's local archives: their members, owners and modes as they are, under the destination
    (`apply_tar` on the daemon's side keeps every name inside the image's root)."""
    with tarfile.open(archive_path, mode="r:*") as archive:
        for member in archive:
            content = archive.extractfile(member) if member.isreg() else None
            member.name = posixpath.join(destination, member.name).lstrip("/")
            if member.islnk():
                member.linkname = posixpath.join(destination, member.linkname).lstrip("/")
            tar.addfile(member, content)


def download(url: str, directory: Path, timeout: float = 60) -> Path:
    """ADD's URL, fetched into `directory` under the name its path ends with (mode 0600, as Docker's)."""
    import urllib.error
    import urllib.parse
    import urllib.request

    name = posixpath.basename(urllib.parse.urlsplit(url).path)
    if not name:
        raise CopyError(f"cannot determine filename from url: {url}")
    target = directory / name
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, open(target, "wb") as out:  # noqa: S310
            for chunk in iter(lambda: response.read(1 << 20), b""):
                out.write(chunk)
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise CopyError(f"failed to GET {url}: {getattr(error, 'reason', error)}") from None
    target.chmod(0o600)
    return target
