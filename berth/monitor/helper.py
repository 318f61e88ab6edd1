"""A monitor's one-time work, done in a short-lived child of the monitor: the state files, the attach
socket, the process's pipes, and the launch.

Every page of the zygote that a monitor writes to (even a reference count) becomes that monitor's own
copy, and each distinct piece of Python it runs writes to some. Doing the setup here leaves the
long-lived monitor little to run besides its relay loop; this helper's copies go when it exits. We
are the monitor's child and the monitor is a child subreaper, so the launched process becomes the
monitor's child once we have exited.
"""
from __future__ import annotations

import os
import socket
from typing import NoReturn

from berth.atomicfile import write_atomic
from berth.errdefs import BerthError
from berth.monitor import request as zygote_request
from berth.monitor import statedir
from berth.monitor.jsonlog import Rotation, open_log
from berth.monitor.launcher import LaunchError, launcher_for

_MAX_FDS = 5  # attach listener, then stdout + stderr (or the pty master), then stdin, then the log
_STARTED = b"+"   # helper -> monitor: then pid, outputs, pty, stdin, log, cgroups path, state dir, log rotation
#                    (NUL-separated; the rotation is "max-size max-file path", or empty)
_DECLINED = b"-"  # helper -> monitor: then the error reply for the daemon


class Prepared:
    """What the helper hands the monitor: the process, its stdio, the attach listener, its cgroup,
    and for a container its state directory and log."""

    __slots__ = ("cgroups_path", "listener", "log_fd", "log_rotation", "outputs", "pid", "pty_master", "state_dir",
                 "stdin")

    def __init__(self, pid: int, cgroups_path: str | None, listener: socket.socket, outputs: list[int],
                 stdin: int | None, pty_master: int | None, state_dir: str | None = None,
                 log_fd: int | None = None, log_rotation: Rotation | None = None) -> None:
        self.pid = pid
        self.cgroups_path = cgroups_path
        self.listener = listener
        self.outputs = outputs          # [stdout, stderr] read ends, or [pty master]
        self.stdin = stdin              # where the process's stdin is written, if it has one
        self.pty_master = pty_master
        self.state_dir = state_dir
        self.log_rotation = log_rotation
        self.log_fd = log_fd


class Declined(BerthError):
    """The process did not start; `reply` is the answer for the daemon, ready to send."""

    def __init__(self, reply: bytes) -> None:
        super().__init__(reply)
        self.reply = reply


def prepare_exec(request: dict) -> Prepared:
    """An exec's one-time work, done in its monitor (short-lived, so its copied pages do not last),
    from its state directory; raise LaunchError if the process did not start."""
    try:
        result, fds = _prepare(request, monitor_pid=os.getpid())
    except (OSError, ValueError, KeyError) as error:
        raise LaunchError(str(error), 125) from None
    listener, *rest = fds
    outputs = rest[:result["outputs"]]
    stdin = rest[result["outputs"]] if len(rest) > result["outputs"] else None
    return Prepared(result["pid"], result["cgroups_path"], socket.socket(fileno=listener), outputs, stdin,
                    outputs[0] if result["pty"] else None)


def prepare_container(body: bytes) -> Prepared:
    """A container's one-time work, in a helper child that reads the request's JSON `body` itself;
    raise Declined if the process did not start.

    Run in the monitor after it became a child subreaper: the launched process becomes the
    monitor's child once the helper has exited. The helper answers in a few bytes and fds, so that
    the long-lived monitor runs no JSON code.
    """
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    helper = os.fork()
    if helper == 0:  # pragma: no cover - the helper never returns
        ours.close()
        _start_container(body, theirs)
    theirs.close()
    with ours:
        message, fds, _, _ = socket.recv_fds(ours, 65536, _MAX_FDS)
    os.waitpid(helper, 0)
    if not message.startswith(_STARTED):
        for fd in fds:
            os.close(fd)
        raise Declined(message[len(_DECLINED):] if message else zygote_request.error_reply("launch helper died", 125))
    pid, outputs, pty, stdin, log, cgroups_path, state_dir, rotation = message[len(_STARTED):].split(b"\0")
    listener, *rest = fds
    count = int(outputs)
    output_fds = rest[:count]
    log_rotation = None
    if rotation:
        max_size, max_file, path = rotation.split(b" ", 2)
        log_rotation = Rotation(path.decode(), int(max_size), int(max_file))
    return Prepared(int(pid), cgroups_path.decode() or None, socket.socket(fileno=listener), output_fds,
                    rest[count] if stdin == b"1" else None, output_fds[0] if pty == b"1" else None,
                    state_dir.decode(), rest[-1] if log == b"1" else None, log_rotation)


def _start_container(body: bytes, report: socket.socket) -> NoReturn:
    fds: list[int] = []
    try:
        parsed = zygote_request.parse(body, b"run")
        os.chdir(parsed["state_dir"])
        log_fd = open_log(parsed["log_path"]) if parsed.get("log_path") else None
        result, fds = _prepare(parsed, monitor_pid=os.getppid())
        has_stdin = len(fds) > 1 + result["outputs"]
        fds += [log_fd] if log_fd is not None else []
        message = _STARTED + b"\0".join([
            b"%d" % result["pid"], b"%d" % result["outputs"], b"1" if result["pty"] else b"0",
            b"1" if has_stdin else b"0", b"1" if log_fd is not None else b"0",
            (result["cgroups_path"] or "").encode(), parsed["state_dir"].encode(),
            b"%d %d %s" % (parsed["log_max_size"], parsed.get("log_max_file") or 1, parsed["log_path"].encode())
            if log_fd is not None and parsed.get("log_max_size") else b""])
    except LaunchError as error:
        message = _DECLINED + zygote_request.error_reply(error.message, error.exit_code)
    except (OSError, ValueError, KeyError) as error:  # BadRequest is a ValueError
        message = _DECLINED + zygote_request.error_reply(str(error), 125)
    except BaseException as error:  # noqa: BLE001 - the helper must never unwind into the monitor
        message = _DECLINED + zygote_request.error_reply(f"{type(error).__name__}: {error}", 125)
    try:
        socket.send_fds(report, [message], fds if message.startswith(_STARTED) else [])
    finally:
        os._exit(0)


def _prepare(request: dict, monitor_pid: int) -> tuple[dict, list[int]]:
    """Set up the state directory and start the process; the result message and the fds to pass."""
    statedir.remove(statedir.EXIT_FILE)
    statedir.remove(statedir.ATTACH_SOCKET)
    write_atomic(statedir.MONITOR_PID, f"{monitor_pid}\n".encode())
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
