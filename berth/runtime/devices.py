"""/dev inside the container: device nodes and the usual symlinks."""
from __future__ import annotations

import os
import stat

from berth.linux import syscalls as sc

DEFAULT_DEVICES = [
    {"path": "/dev/null", "type": "c", "major": 1, "minor": 3},
    {"path": "/dev/zero", "type": "c", "major": 1, "minor": 5},
    {"path": "/dev/full", "type": "c", "major": 1, "minor": 7},
    {"path": "/dev/random", "type": "c", "major": 1, "minor": 8},
    {"path": "/dev/urandom", "type": "c", "major": 1, "minor": 9},
    {"path": "/dev/tty", "type": "c", "major": 5, "minor": 0},
]
SYMLINKS = {"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1",
            "stderr": "/proc/self/fd/2", "ptmx": "pts/ptmx"}
_KINDS = {"c": stat.S_IFCHR, "u": stat.S_IFCHR, "b": stat.S_IFBLK, "p": stat.S_IFIFO}


def _create(dev: str, device: dict) -> None:
    relative = os.path.relpath(os.path.normpath(device["path"]), "/dev")
    if relative.startswith(".."):
        raise ValueError(f"device {device['path']} is outside /dev")
    target = os.path.join(dev, relative)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    if os.path.lexists(target):
        os.unlink(target)
    mode = device.get("fileMode", 0o666) & 0o7777
    kind = _KINDS[device.get("type", "c")]
    try:
        os.mknod(target, mode | kind, os.makedev(device.get("major", 0), device.get("minor", 0)))
    except PermissionError:  # no CAP_MKNOD (user namespace): borrow the host's node
        os.close(os.open(target, os.O_CREAT | os.O_WRONLY | os.O_CLOEXEC, 0o644))
        sc.mount(device["path"], target, None, sc.MS_BIND)
        return
    os.chmod(target, mode)  # mknod obeys the umask
    os.chown(target, device.get("uid", 0), device.get("gid", 0))


def populate_dev(dev: str, spec_devices: list[dict]) -> None:
    """Create the default devices plus the spec's, and /dev/fd, std*, ptmx symlinks."""
    wanted = {d["path"]: d for d in DEFAULT_DEVICES}
    wanted.update({d["path"]: d for d in spec_devices})
    for device in wanted.values():
        _create(dev, device)
    for name, target in SYMLINKS.items():
        path = os.path.join(dev, name)
        if os.path.lexists(path):
            os.unlink(path)
        os.symlink(target, path)
