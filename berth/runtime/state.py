"""berth-runtime's record of each container: <root>/<id>/state.json (atomic) and the exec FIFO."""
from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

from berth.atomicfile import write_atomic
from berth.errdefs import BerthError
from berth.runtime.ocispec import Spec

DEFAULT_ROOT = "/run/berth-runtime"
_VALID_ID = re.compile(r"^[\w+.-]+$")


class StateError(BerthError):
    pass


def process_start_time(pid: int) -> int | None:
    """Field 22 of /proc/PID/stat (start time in ticks), None when the process is gone or a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as file:
            fields = file.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None if fields[0] in ("Z", "X") else int(fields[19])


@dataclass
class ContainerState:
    id: str
    pid: int
    bundle: str
    created: str
    start_time: int
    spec: Spec = field(repr=False)

    @property
    def rootfs(self) -> str:
        return os.path.join(self.bundle, self.spec["root"]["path"])

    @property
    def annotations(self) -> dict:
        return self.spec.get("annotations") or {}

    @property
    def cgroups_path(self) -> str | None:
        return (self.spec.get("linux") or {}).get("cgroupsPath")


class StateStore:
    def __init__(self, root: str | Path = DEFAULT_ROOT) -> None:
        self.root = Path(root)

    def directory(self, container_id: str) -> Path:
        if not _VALID_ID.match(container_id):
            raise StateError(f"invalid container id format: {container_id}")
        return self.root / container_id

    def fifo(self, container_id: str) -> Path:
        return self.directory(container_id) / "exec.fifo"

    def reserve(self, container_id: str) -> Path:
        """Make the container's directory; fails if the id is taken."""
        directory = self.directory(container_id)
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            directory.mkdir(mode=0o700)
        except FileExistsError:
            raise StateError(f"container with id exists: {container_id}") from None
        return directory

    def save(self, state: ContainerState) -> None:
        write_atomic(self.directory(state.id) / "state.json", json.dumps(asdict(state)).encode())

    def load(self, container_id: str) -> ContainerState:
        try:
            data = json.loads((self.directory(container_id) / "state.json").read_text())
        except FileNotFoundError:
            raise StateError(f"container does not exist: {container_id}") from None
        return ContainerState(**data)

    def status(self, state: ContainerState) -> str:
        if process_start_time(state.pid) != state.start_time:
            return "stopped"
        return "created" if self.fifo(state.id).exists() else "running"

    def ids(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if (p / "state.json").exists())

    def remove(self, container_id: str) -> None:
        shutil.rmtree(self.directory(container_id), ignore_errors=True)
