"""Volume drivers: where a volume's data lives and how a container gets it.

The daemon asks a driver to create, find, list and remove volumes, and, when a container that uses
one starts, for the host path to bind (mount) and to give it back after (unmount). The `local`
driver keeps each volume as a directory under the data root, `volumes/<name>/_data`, with what it
was created with beside it in `volumes/<name>/volume.json`.
"""
from __future__ import annotations

import json
import re
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

from berth.atomicfile import write_atomic
from berth.errdefs import InvalidArgument, NotFound

NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]+$")


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

    def create(self, name: str, options: dict[str, str], labels: dict[str, str], created_at: str) -> Volume:
        """Make the volume; a volume of that name already there is returned as it is."""

    def get(self, name: str) -> Volume:
        """The volume (NotFound if there is none)."""

    def list_volumes(self) -> list[Volume]: ...

    def remove(self, name: str) -> None:
        """Delete the volume and its data."""

    def mount(self, name: str, container_id: str) -> Path:
        """The host path to bind into the container `container_id`."""

    def unmount(self, name: str, container_id: str) -> None: ...

    def size(self, name: str) -> int:
        """Bytes its data holds (-1 when the driver cannot tell)."""


class LocalDriver:
    name = "local"

    def __init__(self, root: Path) -> None:
        self.root = root

    def _directory(self, name: str) -> Path:
        if not NAME.match(name):
            raise InvalidArgument(f'"{name}" includes invalid characters for a local volume name, only '
                                  f'"[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host '
                                  f"directory, use absolute path")
        return self.root / name

    def create(self, name: str, options: dict[str, str], labels: dict[str, str], created_at: str) -> Volume:
        directory = self._directory(name)
        if (directory / "volume.json").exists():
            return self.get(name)
        if options:
            raise InvalidArgument(f"options {sorted(options)}: berth's local driver takes no options yet")
        (directory / "_data").mkdir(parents=True, exist_ok=True)
        volume = Volume(name, self.name, str(directory / "_data"), created_at, dict(labels), {})
        write_atomic(directory / "volume.json", json.dumps(asdict(volume)).encode())  # last: the volume exists
        return volume

    def get(self, name: str) -> Volume:
        try:
            return Volume(**json.loads((self._directory(name) / "volume.json").read_text()))
        except FileNotFoundError:
            raise NotFound(f"get {name}: no such volume") from None

    def list_volumes(self) -> list[Volume]:
        if not self.root.is_dir():
            return []
        return [self.get(path.parent.name) for path in sorted(self.root.glob("*/volume.json"))]

    def remove(self, name: str) -> None:
        directory = self._directory(name)
        self.get(name)
        (directory / "volume.json").unlink()  # first: a crash part-way leaves no volume pointing at half a tree
        shutil.rmtree(directory, ignore_errors=True)

    def mount(self, name: str, container_id: str) -> Path:
        return Path(self.get(name).mountpoint)

    def unmount(self, name: str, container_id: str) -> None:
        self.get(name)

    def size(self, name: str) -> int:
        total = 0
        for path in Path(self.get(name).mountpoint).rglob("*"):
            if path.is_file() and not path.is_symlink():
                total += path.lstat().st_size
        return total

