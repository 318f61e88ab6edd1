"""A new volume filled with what the image has at its path, as Docker does at a volume's first use."""
from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path


def fill(source: Path, target: Path) -> bool:
    """Copy the tree at `source` into the directory `target` when `target` is empty: owners, modes and
    times kept, symlinks copied as links, never followed. Whether anything was copied."""
    if not source.is_dir() or source.is_symlink() or any(target.iterdir()):
        return False
    for current, dirs, files in os.walk(source):
        here = Path(current)
        there = target / here.relative_to(source)
        for name in [*dirs, *files]:
            _copy_entry(here / name, there / name)
        dirs[:] = [name for name in dirs if not (here / name).is_symlink()]
    _keep_metadata(source, target)
    return True


def _copy_entry(source: Path, target: Path) -> None:
    info = source.lstat()
    if stat.S_ISLNK(info.st_mode):
        os.symlink(os.readlink(source), target)
    elif stat.S_ISDIR(info.st_mode):
        target.mkdir()
    elif stat.S_ISREG(info.st_mode):
        shutil.copyfile(source, target, follow_symlinks=False)
    else:
        return  # devices, sockets and pipes stay with the image
    _keep_metadata(source, target)


def _keep_metadata(source: Path, target: Path) -> None:
    info = source.lstat()
    os.chown(target, info.st_uid, info.st_gid, follow_symlinks=False)
    if not stat.S_ISLNK(info.st_mode):
        os.chmod(target, stat.S_IMODE(info.st_mode))
    os.utime(target, ns=(info.st_atime_ns, info.st_mtime_ns), follow_symlinks=False)
