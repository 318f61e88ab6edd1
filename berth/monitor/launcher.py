"""Starting a monitor's process, and cleaning up after it: in-process through berth.runtime, or
through an OCI runtime's command line (runc, crun) when the request names one."""
from __future__ import annotations

import json
import os
import selectors
import socket
import subprocess
from pathlib import Path
from typing import NoReturn, Protocol

from berth.monitor import statedir
from berth.monitor.oom import oom_kill_count
from berth.runtime.cgroups import remove_cgroup
from berth.runtime.launch import Launched, LaunchError, launch_container, launch_exec

Stdio = tuple[int, int, int] | None


class Launcher(Protocol):
    def start(self, stdio: Stdio) -> Launched:
        """Start the process with `stdio` as fds 0, 1, 2 (None: a new pty); raise LaunchError."""

    def oom_killed(self) -> bool:
        """Whether the kernel's OOM killer struck in the container's cgroup."""

    def cleanup(self) -> None:
        """Release what the runtime holds for an ended container init (cgroup, runtime state)."""


def launcher_for(request: dict) -> Launcher:
    """The launcher for a zygote request (op "run" or "exec")."""
    spec = json.loads(Path(request["bundle"], "config.json").read_bytes())
    if request.get("runtime"):
        return OciCliLauncher(request, spec)
    return InProcessLauncher(request, spec)


def start_in_helper(launcher: Launcher, stdio: Stdio) -> Launched:
    """launcher.start(stdio) in a short-lived child of ours, so that the Python work of a launch
    dirties the helper's copy of the zygote's pages and not this long-lived monitor's.

    We are a child subreaper: once the helper has exited, the launched process is our child.
    """
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    helper = os.fork()
    if helper == 0:  # pragma: no cover - the helper never returns
        ours.close()
        _report_start(launcher, stdio, theirs)
    theirs.close()
    with ours:
        message, fds, _, _ = socket.recv_fds(ours, 65536, 1)
    os.waitpid(helper, 0)
    result = json.loads(message) if message else {"error": "launch helper died", "exit_code": 125}
    if "error" in result:
        raise LaunchError(result["error"], result["exit_code"])
    return Launched(pid=result["pid"], pty_master=fds[0] if fds else None)


def _report_start(launcher: Launcher, stdio: Stdio, report: socket.socket) -> NoReturn:
    fds = []
    try:
        launched = launcher.start(stdio)
        result: dict = {"pid": launched.pid}
        fds = [launched.pty_master] if launched.pty_master is not None else []
    except LaunchError as error:
        result = {"error": error.message, "exit_code": error.exit_code}
    except BaseException as error:  # noqa: BLE001 - the helper must never unwind into the monitor
        result = {"error": f"{type(error).__name__}: {error}", "exit_code": 125}
    try:
        socket.send_fds(report, [json.dumps(result).encode()], fds)
    finally:
        os._exit(0)


def _cgroup_oom_killed(spec: dict) -> bool:
    cgroups_path = spec.get("linux", {}).get("cgroupsPath")
    return bool(cgroups_path) and oom_kill_count(cgroups_path) > 0


class InProcessLauncher:
    """Launches with berth.runtime, forking from this (single-threaded) monitor."""

    def __init__(self, request: dict, spec: dict) -> None:
        self.request = request
        self.spec = spec
        self.is_init = request["op"] == "run"

    def start(self, stdio: Stdio) -> Launched:
        tty = self.request["tty"]
        if self.is_init:
            self.spec["process"]["terminal"] = tty
            return launch_container(Path(self.request["bundle"]), self.spec, stdio)
        process = dict(self.request["process"], terminal=tty)
        return launch_exec(self.request["init_pid"], self.spec, process, stdio)

    def oom_killed(self) -> bool:
        return self.is_init and _cgroup_oom_killed(self.spec)

    def cleanup(self) -> None:
        cgroups_path = self.spec.get("linux", {}).get("cgroupsPath")
        if self.is_init and cgroups_path:
            try:
                remove_cgroup(cgroups_path)
            except OSError:  # a process outside the container's pid namespace lingers: leave it
                pass


class OciCliLauncher:
    """Launches with `<runtime> create` + `start` (or `exec -d`); this monitor is the subreaper that
    inherits the process once the runtime exits."""

    def __init__(self, request: dict, spec: dict) -> None:
        self.request = request
        self.spec = spec
        self.is_init = request["op"] == "run"
        self.global_args = [request["runtime"]]
        if request.get("runtime_root"):
            self.global_args += ["--root", request["runtime_root"]]
        self.global_args += ["--log", os.path.abspath(statedir.RUNTIME_LOG), "--log-format", "json"]

    def start(self, stdio: Stdio) -> Launched:
        pid_file = os.path.abspath(statedir.EXEC_PID)
        tty = ["--console-socket", statedir.CONSOLE_SOCKET] if stdio is None else []
        if self.is_init:
            args = ["create", "--bundle", self.request["bundle"], "--pid-file", pid_file, *tty]
        else:
            process = dict(self.request["process"], terminal=stdio is None)
            statedir.write_atomic(statedir.EXEC_PROCESS, json.dumps(process).encode())
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
        return self.is_init and _cgroup_oom_killed(self.spec)

    def cleanup(self) -> None:
        if self.is_init:
            subprocess.run([*self.global_args, "delete", "--force", self.request["id"]],
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def _run(self, args: list[str], stdio: Stdio) -> int | None:
        """Run the runtime; with `stdio` None and a console socket in `args`, return the pty master
        it hands over."""
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
