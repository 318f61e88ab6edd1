"""Volume drivers: where a volume's data lives and how a container gets it.

The daemon asks a driver to create, find, list and remove volumes, and, when a container that uses
one starts, for the host path to bind (mount) and to give it back after (unmount). The `local`
driver keeps each volume as a directory under the data root, `volumes/<name>/_data`, with what it
was created with beside it in `volumes/<name>/volume.json`. Like dockerd's, it takes the mount options
`type`, `device` and `o` (a tmpfs, a bind or an NFS share to back the volume), kept with the
volume and mounted on its directory when a container first needs it.
"""
from __future__ import annotations

import json
import os
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

from berth import trash
from berth.atomicfile import write_atomic
from berth.errdefs import InvalidArgument, NotFound
from berth.linux import syscalls
from berth.timestamps import rfc3339_nano

NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]+$")
OPTIONS = ("type", "o", "device", "size")  # what dockerd's local driver takes
NEEDS = {"device": ("type",), "type": ("device",), "o": ("device", "type")}  # and what each needs beside it
SIZE = re.compile(r"^(\d+(?:\.\d+)?) ?([kKmMgGtTpP])?[iI]?[bB]?$")  # go-units' RAMInBytes


@dataclass
class Volume:
    name: str
    driver: str
    mountpoint: str
    created_at: str
    labels: dict[str, str] = field(default_factory=dict)
    options: dict[str, str] = field(default_factory=dict)


class VolumeDriver(Protocol):
    name: str

    def create(self, name: str, options: dict[str, str], labels: dict[str, str]) -> Volume:
        """Make the volume; a volume of that name already there is returned as it is."""

    def get(self, name: str) -> Volume:
        """The volume (NotFound if there is none)."""

    def list_volumes(self) -> list[Volume]: ...

    def remove(self, name: str) -> None:
        """Delete the volume and its data."""

    def path(self, name: str) -> Path:
        """Where the volume's data is on the host (mounted or not)."""

    def mount(self, name: str, container_id: str) -> Path:
        """Make the volume ready for container `container_id`; the host path to bind into it."""

    def unmount(self, name: str, container_id: str) -> None:
        """Container `container_id` no longer uses the volume."""

    def size(self, name: str) -> int:
        """Bytes its data holds (-1 when the driver cannot tell)."""


class LocalDriver:
    name = "local"

    def __init__(self, root: Path) -> None:
        self.root = root
        if root.is_dir():
            trash.sweep(root)  # volumes whose deletion a crash cut short

    def _directory(self, name: str) -> Path:
        if len(name) == 1:
            raise InvalidArgument("volume name is too short, names should be at least two alphanumeric characters")
        if not NAME.match(name):
            raise InvalidArgument(f'"{name}" includes invalid characters for a local volume name, only '
                                  f'"[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host '
                                  f"directory, use absolute path")
        return self.root / name

    def create(self, name: str, options: dict[str, str], labels: dict[str, str]) -> Volume:
        directory = self._directory(name)
        if (directory / "volume.json").exists():
            return self.get(name)
        _check_options(options)
        (directory / "_data").mkdir(parents=True, exist_ok=True)
        created = rfc3339_nano(time.time_ns() // 1_000_000_000 * 1_000_000_000)  # whole seconds, as dockerd
        volume = Volume(name, self.name, str(directory / "_data"), created, dict(labels), dict(options))
        write_atomic(directory / "volume.json", json.dumps(asdict(volume)).encode())  # last: the volume exists
        return volume

    def get(self, name: str) -> Volume:
        try:
            return Volume(**json.loads((self._directory(name) / "volume.json").read_text()))
        except (FileNotFoundError, InvalidArgument):  # a name no local volume can have: there is none
            raise NotFound(f"get {name}: no such volume") from None

    def list_volumes(self) -> list[Volume]:
        if not self.root.is_dir():
            return []
        return [self.get(path.parent.name) for path in sorted(self.root.glob("*/volume.json"))]

    def remove(self, name: str) -> None:
        directory = self._directory(name)
        self.get(name)
        while _mounted(directory / "_data"):  # a type/device/o volume's file system: never delete through it
            syscalls.umount2(str(directory / "_data"), syscalls.MNT_DETACH)
        (directory / "volume.json").unlink()  # first: a crash part-way leaves no volume pointing at half a tree
        trash.discard(directory)

    def path(self, name: str) -> Path:
        return Path(self.get(name).mountpoint)

    def mount(self, name: str, container_id: str) -> Path:
        """The volume's directory; for one made with `type`/`device`/`o`, that file system mounted
        there first (once: it stays until the volume is removed), as `mount -t TYPE -o O DEVICE`."""
        volume = self.get(name)
        data = Path(volume.mountpoint)
        if volume.options and not _mounted(data):
            kind, device = volume.options.get("type", ""), volume.options.get("device", "")
            flags, rest = _mount_flags(volume.options.get("o", ""))
            if kind == "none" and not flags & syscalls.MS_BIND:
                raise InvalidArgument(f"volume {name}: type none needs o=bind")
            try:
                syscalls.mount(device, str(data), None if kind == "none" else kind, flags, rest)
            except OSError as error:
                raise InvalidArgument(f"error while mounting volume '{data}': failed to mount local volume: "
                                      f"mount {device}:{data}, flags: {flags:#x}, data: {rest}: "
                                      f"{os.strerror(error.errno or 0).lower()}") from None
        return data

    def unmount(self, name: str, container_id: str) -> None:
        self.get(name)

    def size(self, name: str) -> int:
        total = 0
        for path in Path(self.get(name).mountpoint).rglob("*"):
            if path.is_file() and not path.is_symlink():
                total += path.lstat().st_size
        return total


_FLAGS = {"ro": "MS_RDONLY", "bind": "MS_BIND", "rbind": "MS_BIND|MS_REC", "nosuid": "MS_NOSUID",
          "nodev": "MS_NODEV", "noexec": "MS_NOEXEC", "sync": "MS_SYNCHRONOUS", "noatime": "MS_NOATIME"}


def _mounted(path: Path) -> bool:
    """Whether something is mounted at `path`, by the mount table: a bind of a directory of the same
    file system looks like any directory to stat."""
    target = str(path)
    with open("/proc/self/mountinfo") as table:
        return any(line.split()[4].replace("\\040", " ") == target for line in table)


def _mount_flags(options: str) -> tuple[int, str]:
    """`o`'s mount flags (ro, bind, nosuid...) and the rest, passed to the file system as data."""
    flags, rest = 0, []
    for option in filter(None, options.split(",")):
        if option in _FLAGS:
            for name in _FLAGS[option].split("|"):
                flags |= getattr(syscalls, name)
        elif option != "rw":
            rest.append(option)
    return flags, ",".join(rest)


def _check_options(options: dict[str, str]) -> None:
    """Refuse what dockerd's local driver refuses, in its words."""
    for option in options:
        if option not in OPTIONS:
            raise InvalidArgument(f'invalid option: "{option}"')
    if "size" in options:
        if not (size := SIZE.match(options["size"])):
            raise InvalidArgument(f"invalid size: '{options['size']}'")
        if float(size.group(1)) > 0:
            raise InvalidArgument("quota size requested but no quota support")
    for option, needed in NEEDS.items():
        for other in needed:
            if option in options and other not in options:
                raise InvalidArgument(f'missing required option: "{other}"')
