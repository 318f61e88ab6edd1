"""A monitor's one-time work, done in a short-lived child of the monitor: the state files, the attach
socket, the process's pipes, and the launch.

Every page of the zygote that a monitor writes to (even a reference count) becomes that monitor's own
copy, and each distinct piece of Python it runs writes to some. Doing the setup here leaves the
long-lived monitor little to run besides its relay loop; this helper's copies go when it exits. We
are the monitor's child and the monitor is a child subreaper, so the launched process becomes the
monitor's child once we have exited.
"""
from __future__ import annotations

import json
import os
import socket
from typing import NoReturn

from berth.monitor import statedir
from berth.monitor.launcher import LaunchError, launcher_for

_MAX_FDS = 4  # attach listener, then stdout + stderr (or the pty master), then stdin


class Prepared:
    """What the helper hands the monitor: the process, its stdio, the attach listener, its cgroup."""

    __slots__ = ("cgroups_path", "listener", "outputs", "pid", "pty_master", "stdin")

    def __init__(self, pid: int, cgroups_path: str | None, listener: socket.socket, outputs: list[int],
                 stdin: int | None, pty_master: int | None) -> None:
        self.pid = pid
        self.cgroups_path = cgroups_path
        self.listener = listener
        self.outputs = outputs          # [stdout, stderr] read ends, or [pty master]
        self.stdin = stdin              # where the process's stdin is written, if it has one
        self.pty_master = pty_master


def prepare(request: dict) -> Prepared:
    """Do the one-time work and start the process; raise LaunchError if it did not start.

    Run in the monitor, from its state directory, after it became a child subreaper. A container's
    monitor lives long, so the work happens in a helper child whose written pages go when it exits;
    an exec's monitor is short-lived and does the work itself, one fork sooner.
    """
    if request["op"] == "exec":
        try:
            result, fds = _prepare(request, monitor_pid=os.getpid())
        except (OSError, ValueError, KeyError) as error:
            raise LaunchError(str(error), 125) from None
        return _prepared(result, fds)
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    helper = os.fork()
    if helper == 0:  # pragma: no cover - the helper never returns
        ours.close()
        _report(request, theirs)
    theirs.close()
    with ours:
        message, fds, _, _ = socket.recv_fds(ours, 65536, _MAX_FDS)
    os.waitpid(helper, 0)
    result = json.loads(message) if message else {"error": "launch helper died", "exit_code": 125}
    if "error" in result:
        for fd in fds:
            os.close(fd)
        raise LaunchError(result["error"], result["exit_code"])
    return _prepared(result, fds)


def _prepared(result: dict, fds: list[int]) -> Prepared:
    listener, *rest = fds
    outputs = rest[:result["outputs"]]
    stdin = rest[result["outputs"]] if len(rest) > result["outputs"] else None
    return Prepared(result["pid"], result["cgroups_path"], socket.socket(fileno=listener), outputs, stdin,
                    outputs[0] if result["pty"] else None)


def _report(request: dict, report: socket.socket) -> NoReturn:
    fds: list[int] = []
    try:
        result, fds = _prepare(request, monitor_pid=os.getppid())
    except LaunchError as error:
        result = {"error": error.message, "exit_code": error.exit_code}
    except (OSError, ValueError, KeyError) as error:
        result = {"error": str(error), "exit_code": 125}
    except BaseException as error:  # noqa: BLE001 - the helper must never unwind into the monitor
        result = {"error": f"{type(error).__name__}: {error}", "exit_code": 125}
    try:
        socket.send_fds(report, [json.dumps(result).encode()], fds)
    finally:
        os._exit(0)


def _prepare(request: dict, monitor_pid: int) -> tuple[dict, list[int]]:
    """Set up the state directory and start the process; the result message and the fds to pass."""
    statedir.remove(statedir.EXIT_FILE)
    statedir.remove(statedir.ATTACH_SOCKET)
    statedir.write_atomic(statedir.MONITOR_PID, f"{monitor_pid}\n".encode())
    try:
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(statedir.ATTACH_SOCKET)
        listener.listen(16)
        outputs, stdin, child_ends = _pipes(request["tty"], request["stdin"])
        launcher = launcher_for(request)
        try:
            launched = launcher.start(child_ends)
        finally:
            for fd in child_ends or ():
                os.close(fd)  # the process has its own copies; ours would hold its pipes open
    except BaseException:
        statedir.remove(statedir.ATTACH_SOCKET)
        statedir.remove(statedir.MONITOR_PID)
        raise
    if launched.pty_master is not None:
        outputs = [launched.pty_master]
        stdin = os.dup(launched.pty_master) if request["stdin"] else None
    result = {"pid": launched.pid, "cgroups_path": launcher.cgroups_path, "outputs": len(outputs),
              "pty": launched.pty_master is not None}
    return result, [listener.detach(), *outputs, *([stdin] if stdin is not None else [])]


def _pipes(tty: bool, with_stdin: bool) -> tuple[list[int], int | None, tuple[int, int, int] | None]:
    """(our output read ends, our stdin write end, the process's fds 0-2); with a tty the launch
    makes a pty instead and there are no pipes."""
    if tty:
        return [], None, None
    stdout_r, stdout_w = os.pipe()
    stderr_r, stderr_w = os.pipe()
    stdin_w = None
    if with_stdin:
        stdin_r, stdin_w = os.pipe()
    else:
        stdin_r = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
    return [stdout_r, stderr_r], stdin_w, (stdin_r, stdout_w, stderr_w)
