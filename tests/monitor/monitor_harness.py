"""Driving the monitor zygote directly, as the daemon does: bundles, requests, frames, cleanup."""
from __future__ import annotations

import asyncio
import json
import os
import select
import signal
import subprocess
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from berth.monitor import client
from berth.runtime.cgroups import hierarchies

CGROUP_PARENT = f"/berth-monitor-test-{os.getpid()}"
# crun (1.8) refuses this host's hybrid cgroup layout, so it is not among the runtimes tested.
RUNTIMES = {"berth": None, "runc": "/usr/bin/runc"}
CAPABILITIES = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
                "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
                "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"]


def run(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Run a test's client code; the timeout only turns a hang into a failure."""
    return asyncio.run(asyncio.wait_for(coroutine, 60))


def oci_spec(args: list[str], rootfs: Path, container_id: str, terminal: bool = False) -> dict:
    """A config.json like Docker's for a busybox container with its own namespaces."""
    return {
        "ociVersion": "1.0.2",
        "process": {
            "terminal": terminal, "user": {"uid": 0, "gid": 0}, "args": args, "cwd": "/",
            "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
            "capabilities": {kind: CAPABILITIES for kind in ("bounding", "effective", "permitted")},
            "noNewPrivileges": True,
        },
        "root": {"path": str(rootfs), "readonly": False},
        "hostname": "monitor-test",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
             "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
            {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
             "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
            {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
             "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs",
             "options": ["nosuid", "noexec", "nodev", "ro"]},
        ],
        "linux": {
            "namespaces": [{"type": kind} for kind in ("pid", "network", "ipc", "uts", "mount")],
            "cgroupsPath": f"{CGROUP_PARENT}/{container_id}",
            "maskedPaths": ["/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware"],
            "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
        },
    }


@dataclass
class Started:
    """A process a monitor runs for a test."""

    reply: dict
    channel: client.Channel
    state_dir: Path
    log_path: Path | None

    @property
    def pid(self) -> int:
        return self.reply["pid"]

    @property
    def monitor_pid(self) -> int:
        return self.reply["monitor_pid"]


async def collect(channel: client.Channel) -> tuple[dict[int, bytes], dict | None]:
    """Read frames until the exit frame (or hang-up), then close the channel: output bytes per frame
    type, and the exit record."""
    output: dict[int, bytes] = {}
    exit_record = None
    while (frame := await channel.read_frame()) is not None:
        kind, payload = frame
        if kind == client.FrameType.EXIT:
            exit_record = json.loads(payload)
            break
        output[kind] = output.get(kind, b"") + payload
    await channel.close()
    return output, exit_record


@dataclass
class Zygote:
    """A running zygote plus everything the test made through it (cleaned up afterwards)."""

    base: Path
    rootfs: Path
    runtime: str | None
    process: subprocess.Popen
    socket: Path
    pidfds: list[int] = field(default_factory=list)  # container then monitor, per spawn
    container_ids: list[str] = field(default_factory=list)

    @property
    def runtime_root(self) -> str:
        return str(self.base / "runtime-root")

    async def run(self, args: list[str], *, tty: bool = False, stdin: bool = False, log: bool = True,
                  memory_limit: int | None = None) -> Started:
        container_id = f"mon-{uuid.uuid4().hex[:12]}"
        bundle = self.base / container_id
        bundle.mkdir()
        spec = oci_spec(args, self.rootfs, container_id, tty)
        if memory_limit:
            spec["linux"]["resources"] = {"memory": {"limit": memory_limit, "swap": memory_limit}}
        (bundle / "config.json").write_text(json.dumps(spec))
        log_path = bundle / f"{container_id}-json.log" if log else None
        self.container_ids.append(container_id)
        return await self._spawn({
            "op": "run", "id": container_id, "bundle": str(bundle), "state_dir": str(bundle),
            "log_path": str(log_path) if log_path else None, "tty": tty, "stdin": stdin,
            "runtime": self.runtime, "runtime_root": self.runtime_root if self.runtime else None,
        }, bundle, log_path)

    async def exec(self, container: Started, args: list[str], *, tty: bool = False,
                   stdin: bool = False) -> Started:
        exec_id = uuid.uuid4().hex[:12]
        state_dir = container.state_dir / "execs" / exec_id
        state_dir.mkdir(parents=True)
        process = {"args": args, "cwd": "/", "user": {"uid": 0, "gid": 0},
                   "env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], "terminal": tty}
        return await self._spawn({
            "op": "exec", "id": container.state_dir.name, "exec_id": exec_id, "init_pid": container.pid,
            "bundle": str(container.state_dir), "state_dir": str(state_dir), "process": process,
            "tty": tty, "stdin": stdin, "runtime": self.runtime,
            "runtime_root": self.runtime_root if self.runtime else None,
        }, state_dir, None)

    async def _spawn(self, request: dict, state_dir: Path, log_path: Path | None) -> Started:
        reply, channel = await client.spawn(self.socket, request)
        for pid in (reply["pid"], reply["monitor_pid"]):
            try:
                self.pidfds.append(os.pidfd_open(pid))
            except ProcessLookupError:
                pass
        return Started(reply, channel, state_dir, log_path)

    def cleanup(self) -> None:
        self.process.kill()
        self.process.wait()
        for pidfd in self.pidfds:
            kill_and_wait(pidfd)
        for container_id in self.container_ids:
            if self.runtime:
                subprocess.run([self.runtime, "--root", self.runtime_root, "delete", "--force", container_id],
                               capture_output=True)
            for directory in cgroup_dirs(f"{CGROUP_PARENT}/{container_id}"):
                if os.path.isdir(directory):
                    os.rmdir(directory)


def cgroup_dirs(cgroups_path: str) -> list[str]:
    found = hierarchies()
    mounts = set(found.v1.values()) | ({found.v2} if found.v2 else set())
    return [os.path.join(mount, cgroups_path.lstrip("/")) for mount in sorted(mounts)]


def wait_gone(pid: int) -> None:
    """Wait until the process `pid` (not necessarily our child) has ended."""
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    try:
        select.select([pidfd], [], [])
    finally:
        os.close(pidfd)


def kill_and_wait(pidfd: int) -> None:
    """SIGKILL the process behind `pidfd` (not necessarily our child), wait until it is gone."""
    try:
        signal.pidfd_send_signal(pidfd, signal.SIGKILL)
        select.select([pidfd], [], [])
    except ProcessLookupError:
        pass
    finally:
        os.close(pidfd)
