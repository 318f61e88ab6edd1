#!/usr/bin/env python3
"""What an idle container monitor costs: private memory per monitor, system memory per container.

Starts N `sleep` containers (busybox, own namespaces) through a fresh monitor zygote, then prints
each monitor's private memory (smaps_rollup), the zygote's, the memory the monitors add to the
zygote's (distinct physical pages of their writable mappings, from /proc/PID/pagemap: exact, unlike
the system's used-memory delta per container, MemTotal - MemAvailable, also printed) and request ->
reply latency. Cleans up.
Usage (as root): .venv/bin/python bench/monitor_memory.py [--count 50] [--runtime /usr/bin/runc]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import struct
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = os.sysconf("SC_PAGE_SIZE")
sys.path.insert(0, str(ROOT))

from berth.monitor import client  # noqa: E402
from tests.daemon_harness import remove_cgroups  # noqa: E402
from tests.monitor.monitor_harness import kill_and_wait  # noqa: E402


def memory_kib(pid: int) -> dict[str, int]:
    """smaps_rollup of `pid`: private (pages no other process maps) and Pss (shared pages split)."""
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split(":", 1)
        fields[name] = int(value.split()[0])
    return {"private": fields["Private_Clean"] + fields["Private_Dirty"], "pss": fields["Pss"]}


def writable_frames(pid: int) -> set[int]:
    """The physical page frames behind the writable mappings of `pid` that are in memory."""
    frames: set[int] = set()
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/pagemap", "rb") as pagemap:
        for line in maps:
            span, permissions = line.split()[:2]
            start, end = (int(address, 16) for address in span.split("-"))
            if "w" not in permissions:
                continue
            pagemap.seek(start // PAGE * 8)
            for (entry,) in struct.iter_unpack("<Q", pagemap.read((end - start) // PAGE * 8)):
                if entry >> 63:  # present
                    frames.add(entry & ((1 << 55) - 1))
    return frames


def used_kib() -> int:
    info = {line.split(":")[0]: int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()}
    return info["MemTotal"] - info["MemAvailable"]


def spec(rootfs: Path, cgroups_path: str) -> dict:
    return {
        "ociVersion": "1.0.2",
        "process": {"terminal": False, "user": {"uid": 0, "gid": 0}, "args": ["sleep", "100000"], "cwd": "/",
                    "env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]},
        "root": {"path": str(rootfs)},
        "hostname": "bench",
        "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"},
                   {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=755"]}],
        "linux": {"namespaces": [{"type": t} for t in ("pid", "network", "ipc", "uts", "mount")],
                  "cgroupsPath": cgroups_path},
    }


async def start_all(base: Path, rootfs: Path, zygote_socket: Path, count: int, runtime: str | None,
                    cgroup_parent: str) -> tuple[list[dict], list[float]]:
    replies, latencies = [], []
    for number in range(count):
        container_id = f"bench-{number}"
        bundle = base / container_id
        bundle.mkdir()
        (bundle / "config.json").write_text(json.dumps(spec(rootfs, f"{cgroup_parent}/{container_id}")))
        request = {"op": "run", "id": container_id, "bundle": str(bundle), "state_dir": str(bundle),
                   "log_path": str(bundle / "json.log"), "tty": False, "stdin": False,
                   "runtime": runtime, "runtime_root": str(base / "runtime-root") if runtime else None}
        began = time.perf_counter()
        reply, channel = await client.spawn(zygote_socket, request)
        latencies.append(time.perf_counter() - began)
        await channel.close()
        replies.append(reply)
    return replies, latencies


def stop(pid: int) -> None:
    try:
        kill_and_wait(os.pidfd_open(pid))
    except ProcessLookupError:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--runtime", default=None, help="an OCI runtime binary instead of berth.runtime")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="berth-bench-monitor-"))
    cgroup_parent = f"/berth-bench-{os.getpid()}"
    zygote = None
    replies: list[dict] = []
    try:
        tar = base / "busybox.tar"
        subprocess.run([sys.executable, str(ROOT / "scripts" / "busybox_rootfs.py"), str(tar)], check=True)
        rootfs = base / "rootfs"
        with tarfile.open(tar) as archive:
            archive.extractall(rootfs, filter="fully_trusted")
        zygote = client.start_zygote(base / "zygote.sock")
        time.sleep(0.5)
        before = used_kib()
        replies, latencies = asyncio.run(start_all(base, rootfs, base / "zygote.sock", args.count,
                                                   args.runtime, cgroup_parent))
        time.sleep(1.0)  # let the monitors settle into their idle loop
        after = used_kib()
        monitors = [memory_kib(r["monitor_pid"]) for r in replies]
        containers = [memory_kib(r["pid"]) for r in replies]
        private = [m["private"] for m in monitors]
        print(f"runtime: {args.runtime or 'berth.runtime (in-process)'}, containers: {args.count}")
        zygote_frames = writable_frames(zygote.pid)
        added = set().union(*(writable_frames(r["monitor_pid"]) for r in replies)) - zygote_frames
        print(f"monitors' own pages:             {len(added) * PAGE / 1024 / args.count:.0f} KiB per monitor")
        print(f"zygote private memory:           {memory_kib(zygote.pid)['private']} KiB")
        print(f"monitor private memory:          mean {statistics.mean(private):.0f} KiB, max {max(private)} KiB")
        print(f"monitor Pss:                     mean {statistics.mean(m['pss'] for m in monitors):.0f} KiB")
        print(f"container (sleep) private memory: mean {statistics.mean(c['private'] for c in containers):.0f} KiB")
        print(f"system used-memory delta:        {(after - before) / args.count:.0f} KiB per container")
        print(f"spawn request -> reply:          median {statistics.median(latencies) * 1000:.1f} ms, "
              f"max {max(latencies) * 1000:.1f} ms")
    finally:
        for reply in replies:
            stop(reply["pid"])
        for reply in replies:
            stop(reply["monitor_pid"])
        if zygote:
            zygote.kill()
            zygote.wait()
        remove_cgroups(cgroup_parent.lstrip("/"))
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
