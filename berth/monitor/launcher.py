"""Starting a monitor's process, and cleaning up after it: in-process through berth.runtime, or
through an OCI runtime's command line (runc, crun) when the request names one."""
from __future__ import annotations

import json
import os
import selectors
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from berth.atomicfile import write_atomic
from berth.monitor import statedir
from berth.runtime.cgroups import oom_kill_count, remove_cgroup
from berth.runtime.launch import Launched, LaunchError, launch_container, launch_exec
from berth.runtime.ocispec import Process, Spec

if TYPE_CHECKING:
    import subprocess  # imported where used: it brings `threading`, whose at-fork hook costs each monitor pages

Stdio = tuple[int, int, int] | None


class Launcher(Protocol):
    cgroups_path: str | None  # the container's cgroup, known once start() has read the spec

    def start(self, stdio: Stdio) -> Launched:
        """Start the process with `stdio` as fds 0, 1, 2 (None: a new pty); raise LaunchError."""

    def oom_killed(self) -> bool:
        """Whether the kernel's OOM killer struck in the container's cgroup."""

    def cleanup(self) -> None:
        """Release what the runtime holds for an ended container init (cgroup, runtime state)."""


def launcher_for(request: dict, cgroups_path: str | None = None) -> Launcher:
    """The launcher for a zygote request (op "run" or "exec"). It reads the bundle's spec only in
    start(); a monitor that did not start the process itself passes the `cgroups_path` it learnt."""
    if request.get("runtime"):
        return OciCliLauncher(request, cgroups_path)
    return InProcessLauncher(request, cgroups_path)


def _read_spec(request: dict) -> Spec:
    return json.loads(Path(request["bundle"], "config.json").read_bytes())


def _cgroups_path(spec: Spec) -> str | None:
    return spec.get("linux", {}).get("cgroupsPath")


class InProcessLauncher:
    """Launches with berth.runtime, forking from this (single-threaded) process."""

    def __init__(self, request: dict, cgroups_path: str | None) -> None:
        self.request = request
        self.cgroups_path = cgroups_path
        self.is_init = request["op"] == "run"

    def start(self, stdio: Stdio) -> Launched:
        spec = _read_spec(self.request)
        self.cgroups_path = _cgroups_path(spec)
        tty = self.request["tty"]
        if self.is_init:
            spec["process"]["terminal"] = tty
            return launch_container(Path(self.request["bundle"]), spec, stdio)
        process: Process = self.request["process"]  # an exec's request
        return launch_exec(self.request["init_pid"], spec, {**process, "terminal": tty}, stdio)

    def oom_killed(self) -> bool:
        return self.is_init and self.cgroups_path is not None and oom_kill_count(self.cgroups_path) > 0

    def cleanup(self) -> None:
        if self.is_init and self.cgroups_path:
            try:
                remove_cgroup(self.cgroups_path)
            except OSError:  # a process outside the container's pid namespace lingers: leave it
                pass


class OciCliLauncher:
    """Launches with `<runtime> create` + `start` (or `exec -d`); this monitor is the subreaper that
    inherits the process once the runtime exits."""

    def __init__(self, request: dict, cgroups_path: str | None) -> None:
        self.request = request
        self.cgroups_path = cgroups_path
        self.is_init = request["op"] == "run"
        self.global_args = [request["runtime"]]
        if request.get("runtime_root"):
            self.global_args += ["--root", request["runtime_root"]]
        self.global_args += ["--log", os.path.abspath(statedir.RUNTIME_LOG), "--log-format", "json"]

    def start(self, stdio: Stdio) -> Launched:
        self.cgroups_path = _cgroups_path(_read_spec(self.request))
        pid_file = os.path.abspath(statedir.EXEC_PID)
        tty = ["--console-socket", statedir.CONSOLE_SOCKET] if stdio is None else []
        if self.is_init:
            args = ["create", "--bundle", self.request["bundle"], "--pid-file", pid_file, *tty]
        else:
            process = dict(self.request["process"], terminal=stdio is None)
            write_atomic(statedir.EXEC_PROCESS, json.dumps(process).encode())
            args = ["exec", "--process", statedir.EXEC_PROCESS, "--pid-file", pid_file, "-d"]
            args += ["--tty", *tty] if tty else []
        pty_master = self._run([*args, self.request["id"]], stdio)
        pid = int(Path(pid_file).read_text())
        if self.is_init:
            try:
                self._run(["start", self.request["id"]], None)
            except LaunchError:
                self.cleanup()
                raise
        return Launched(pid=pid, pty_master=pty_master)

    def oom_killed(self) -> bool:
        return self.is_init and self.cgroups_path is not None and oom_kill_count(self.cgroups_path) > 0

    def cleanup(self) -> None:
        import subprocess

        if self.is_init:
            subprocess.run([*self.global_args, "delete", "--force", self.request["id"]],
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def _run(self, args: list[str], stdio: Stdio) -> int | None:
        """Run the runtime; with `stdio` None and a console socket in `args`, return the pty master
        it hands over."""
        import subprocess

        wants_console = "--console-socket" in args
        console = _listen(statedir.CONSOLE_SOCKET) if wants_console else None
        streams = stdio or (subprocess.DEVNULL,) * 3
        runtime = subprocess.Popen([*self.global_args, *args], stdin=streams[0], stdout=streams[1],
                                   stderr=streams[2])
        try:
            master = _receive_console(console, runtime) if console else None
        finally:
            if console:
                console.close()
                os.unlink(statedir.CONSOLE_SOCKET)
        if runtime.wait() != 0:
            if master is not None:
                os.close(master)
            message = _last_error(statedir.RUNTIME_LOG) or f"{args[0]} failed with status {runtime.returncode}"
            raise LaunchError(message, _exit_code_for(message))
        return master


def _listen(path: str) -> socket.socket:
    if os.path.lexists(path):
        os.unlink(path)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(1)
    return listener


def _receive_console(listener: socket.socket, runtime: subprocess.Popen) -> int | None:
    """The pty master the runtime sends over `listener`, or None if it exits without sending one."""
    pidfd = os.pidfd_open(runtime.pid)
    try:
        with selectors.DefaultSelector() as selector:
            selector.register(listener, selectors.EVENT_READ)
            selector.register(pidfd, selectors.EVENT_READ)
            for key, _ in selector.select():
                if key.fileobj is listener:
                    connection, _ = listener.accept()
                    with connection:
                        _, fds, _, _ = socket.recv_fds(connection, 4096, 1)
                    return fds[0] if fds else None
            return None
    finally:
        os.close(pidfd)


def _last_error(log_path: str) -> str | None:
    """The last error message in an OCI runtime's JSON log."""
    message = None
    try:
        lines = Path(log_path).read_text(errors="replace").splitlines()
    except FileNotFoundError:
        return None
    for line in lines:
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(entry, dict) and entry.get("level") == "error" and entry.get("msg"):
            message = entry["msg"]
    return message


def _exit_code_for(message: str) -> int:
    """Docker's exit codes for start failures: 127 command not found, 126 cannot invoke, 125 other."""
    if "executable file not found" in message or "no such file or directory" in message.lower():
        return 127
    if "permission denied" in message.lower():
        return 126
    return 125
