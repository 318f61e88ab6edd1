"""The runtime seam: who starts a container's process (Monitors), what the daemon asks of it once it
runs (Task), and who answers.

A container is started by its monitor (berth.monitor), which launches it with berth's own runtime or
with a runc-compatible one (daemon.json `runtimes`). Once it runs, every request the daemon makes of
it goes through a `Task`: signals, pause and resume, new resource limits, its processes, its resource
use, and the clean-up after its exit. berth's own runtime answers in this process (its cgroups are
berth.runtime's); runc and crun are asked through their command line, so their state stays true
(`runc state` says "paused" after a pause). The calls block (cgroup files, a runtime's process):
call them from a worker thread.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from berth.daemon.config import RuntimeEntry
from berth.daemon.streams import MonitorChannel
from berth.errdefs import BerthError
from berth.linux.processes import exists as process_alive
from berth.monitor import client as monitor
from berth.monitor.request import MonitorRequest
from berth.runtime import cgroups
from berth.runtime.ocispec import Resources


class TaskError(BerthError):
    """The runtime refused or failed a request; the message is the runtime's."""


class Task(Protocol):
    def kill(self, sig: int) -> None:
        """Send `sig` to the container's init (nothing if it is gone)."""

    def pause(self) -> None:
        """Freeze every process of the container."""

    def resume(self) -> None:
        """Thaw them."""

    def update(self, resources: Resources) -> None:
        """Apply new limits: the OCI spec's `linux.resources`."""

    def pids(self) -> list[int]:
        """Every process of the container, as host pids."""

    def stats(self) -> cgroups.CgroupStats:
        """The container's resource use."""

    def delete(self) -> None:
        """After the init's exit: end any process left behind and remove the runtime's state and the
        container's cgroup. Safe to call again."""


@dataclass
class BerthTask:
    """A container run by berth's own runtime: its cgroup and its init, handled in this process."""

    cgroup: str
    pid: int

    def kill(self, sig: int) -> None:
        _signal(self.pid, sig)

    def pause(self) -> None:
        cgroups.set_frozen(self.cgroup, True)

    def resume(self) -> None:
        cgroups.set_frozen(self.cgroup, False)

    def update(self, resources: Resources) -> None:
        cgroups.set_limits(self.cgroup, resources)

    def pids(self) -> list[int]:
        return cgroups.cgroup_pids(self.cgroup)

    def stats(self) -> cgroups.CgroupStats:
        return cgroups.read_stats(self.cgroup)

    def delete(self) -> None:
        for pid in cgroups.cgroup_pids(self.cgroup):
            _signal(pid, signal.SIGKILL)
        cgroups.remove_cgroup(self.cgroup)


@dataclass
class OciCliTask(BerthTask):
    """A container run by a runc-compatible runtime, asked through its command line (with the
    `--root` the monitor started it with). Resource use is read from the cgroup the spec gave it."""

    runtime: RuntimeEntry
    root: str
    container_id: str

    def _run(self, *args: str, stdin: bytes | None = None) -> bytes:
        command = [self.runtime.path or "", *self.runtime.args, "--root", self.root, *args]
        result = subprocess.run(command, input=stdin, capture_output=True, check=False)
        if result.returncode != 0:
            message = result.stderr.decode(errors="replace").strip() or f"exit status {result.returncode}"
            raise TaskError(f"{self.runtime.name} {args[0]} failed: {message}")
        return result.stdout

    def kill(self, sig: int) -> None:
        try:
            self._run("kill", self.container_id, str(int(sig)))
        except TaskError:
            if process_alive(self.pid):  # a runtime that has forgotten a process that is gone is no error
                raise

    def pause(self) -> None:
        self._run("pause", self.container_id)

    def resume(self) -> None:
        self._run("resume", self.container_id)

    def update(self, resources: Resources) -> None:
        self._run("update", "--resources", "-", self.container_id, stdin=json.dumps(resources).encode())

    def pids(self) -> list[int]:
        return [int(pid) for pid in json.loads(self._run("ps", "--format", "json", self.container_id) or b"[]")]

    def delete(self) -> None:
        try:
            self._run("delete", "--force", self.container_id)
        except TaskError:
            pass  # the monitor deletes it at the exit; what is left is the cgroup's
        super().delete()


def task_for(runtime: RuntimeEntry, root: str, container_id: str, cgroup: str, pid: int) -> Task:
    """The task of a container started with `runtime` (berth's own when it has no path)."""
    if runtime.path is None:
        return BerthTask(cgroup, pid)
    return OciCliTask(cgroup, pid, runtime, root, container_id)


def _signal(pid: int, sig: int) -> None:
    if pid <= 0:
        return
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


class Monitors(Protocol):
    """Who starts a container's (or an exec's) process and watches it: berth.monitor's zygote forks
    a monitor per process, which launches it through the runtime and outlives the daemon."""

    async def spawn(self, request: MonitorRequest) -> tuple[dict[str, Any], MonitorChannel]:
        """Start the process; the monitor's reply (pid, monitor_pid) and the channel to it.
        Raises berth.monitor.client.SpawnError when the process did not start."""

    async def connect(self, state_dir: Path) -> MonitorChannel:
        """The channel to the monitor still watching the process of `state_dir` (OSError if none)."""

    def read_exit(self, state_dir: Path) -> dict[str, Any] | None:
        """How the process of `state_dir` ended (exit_code, finished_at, oom_killed), if it has."""


@dataclass
class ZygoteMonitors:
    """Monitors forked by berthd's zygote (berth.monitor)."""

    zygote_socket: Path

    async def spawn(self, request: MonitorRequest) -> tuple[dict[str, Any], MonitorChannel]:
        return await monitor.spawn(self.zygote_socket, request)

    async def connect(self, state_dir: Path) -> MonitorChannel:
        return await monitor.connect(state_dir)

    def read_exit(self, state_dir: Path) -> dict[str, Any] | None:
        return monitor.read_exit(state_dir)
