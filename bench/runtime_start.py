#!/usr/bin/env python3
"""Median time of launch_container for `true` in a busybox bundle (fork to execve), 100 runs.

Run as root: .venv/bin/python bench/runtime_start.py [--runs N] [--cgroup]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from berth.linux import syscalls as sc  # noqa: E402
from berth.runtime import cgroups  # noqa: E402
from berth.runtime.launch import launch_container  # noqa: E402

SPEC_MOUNTS = [
    {"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755"]},
    {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
     "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
    {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
    {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
    {"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777"]},
]


def spec(cgroups_path: str | None) -> dict:
    linux = {"namespaces": [{"type": t} for t in ("pid", "network", "ipc", "uts", "mount")],
             "maskedPaths": ["/proc/kcore", "/proc/keys", "/sys/firmware"],
             "readonlyPaths": ["/proc/sys", "/proc/sysrq-trigger"]}
    if cgroups_path:
        linux["cgroupsPath"] = cgroups_path
    return {"ociVersion": "1.0.2", "root": {"path": "rootfs"}, "hostname": "bench", "mounts": SPEC_MOUNTS,
            "process": {"args": ["true"], "cwd": "/", "env": ["PATH=/bin"], "user": {"uid": 0, "gid": 0}},
            "linux": linux}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--cgroup", action="store_true", help="also create and remove a cgroup per run")
    options = parser.parse_args()
    sc.unshare(sc.CLONE_NEWNS)
    sc.mount(None, "/", None, sc.MS_REC | sc.MS_PRIVATE)
    with tempfile.TemporaryDirectory() as base:
        bundle = Path(base)
        tar = bundle / "busybox.tar"
        subprocess.run([sys.executable, str(Path(__file__).parent.parent / "scripts/busybox_rootfs.py"), str(tar)],
                       check=True)
        with tarfile.open(tar) as archive:
            archive.extractall(bundle / "rootfs", filter="fully_trusted")
        times = []
        for run in range(options.runs):
            path = f"/berth-bench-{os.getpid()}/{run}" if options.cgroup else None
            start = time.perf_counter()
            launched = launch_container(bundle, spec(path), None)
            times.append(time.perf_counter() - start)
            os.waitpid(launched.pid, 0)
            if path:
                cgroups.remove_cgroup(path)
        if options.cgroup:
            cgroups.remove_cgroup(f"/berth-bench-{os.getpid()}")
    print(f"launch_container(true): median {statistics.median(times) * 1000:.2f} ms, "
          f"min {min(times) * 1000:.2f} ms over {options.runs} runs")


if __name__ == "__main__":
    main()
