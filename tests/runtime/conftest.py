"""Bundles for runtime tests: a busybox rootfs and a config.json shaped like `runc spec` + Docker's."""
from __future__ import annotations

import json
import os
import signal
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from berth.runtime import cgroups

CAPS = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
        "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
        "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"]


def make_spec(args: list[str], **changes) -> dict:
    """A realistic runtime spec running `args`: five namespaces, Docker's mounts, masked paths, caps."""
    spec = {
        "ociVersion": "1.0.2",
        "process": {
            "terminal": False,
            "user": {"uid": 0, "gid": 0},
            "args": args,
            "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOSTNAME=box"],
            "cwd": "/",
            "capabilities": {key: list(CAPS) for key in ("bounding", "effective", "permitted")},
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": True,
        },
        "root": {"path": "rootfs", "readonly": False},
        "hostname": "box",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
             "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
            {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
             "options": ["ro", "nosuid", "noexec", "nodev"]},
            {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
             "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=67108864"]},
        ],
        "linux": {
            "namespaces": [{"type": t} for t in ("pid", "network", "ipc", "uts", "mount")],
            "resources": {"devices": [{"allow": False, "access": "rwm"}]},
            "maskedPaths": ["/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                            "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
                            "/sys/firmware"],
            "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
        },
    }
    for key, value in changes.items():
        section, _, name = key.partition("__")
        if name:
            spec[section][name] = value
        else:
            spec[section] = value
    return spec


class Bundle:
    """A bundle directory: rootfs/ from the busybox tar and a config.json written on demand."""

    def __init__(self, path: Path, tar: Path) -> None:
        self.path = path
        self.rootfs = path / "rootfs"
        self.rootfs.mkdir(parents=True)
        with tarfile.open(tar) as archive:
            archive.extractall(self.rootfs, filter="fully_trusted")

    def write(self, spec: dict) -> dict:
        (self.path / "config.json").write_text(json.dumps(spec, indent=2))
        return spec


@pytest.fixture
def bundle(tmp_path: Path, busybox_tar: Path) -> Bundle:
    return Bundle(tmp_path / "bundle", busybox_tar)


@pytest.fixture
def cgroup_parent() -> Iterator[str]:
    """A test-unique cgroup parent; whatever is left under it is killed and removed afterwards."""
    parent = f"/berth-test-{os.getpid()}"
    yield parent
    for directory in cgroups.directories(parent):
        if not os.path.isdir(directory):
            continue
        for child in sorted((p for p in Path(directory).rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
            relative = "/" + str(child.relative_to(Path(directory).parent))
            for pid in cgroups.cgroup_pids(relative):
                os.kill(pid, signal.SIGKILL)
            cgroups.remove_cgroup(relative)
    cgroups.remove_cgroup(parent)


@pytest.fixture
def reap() -> Iterator[list[int]]:
    """Pids a test started; any still running at the end are killed and reaped."""
    pids: list[int] = []
    yield pids
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
        except ProcessLookupError:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass


def run_container(bundle: Bundle, spec: dict, reap: list[int]) -> tuple[int, str]:
    """Launch `spec` in `bundle` with stdout+stderr on a pipe; wait and return (exit code, output)."""
    from berth.runtime.launch import launch_container

    read_end, write_end = os.pipe()
    stdin = os.open(os.devnull, os.O_RDONLY)
    try:
        launched = launch_container(bundle.path, bundle.write(spec), (stdin, write_end, write_end))
    finally:
        os.close(write_end)
        os.close(stdin)
    reap.append(launched.pid)
    with os.fdopen(read_end, "rb") as output:
        text = output.read().decode()
    _, status = os.waitpid(launched.pid, 0)
    return os.waitstatus_to_exitcode(status), text
