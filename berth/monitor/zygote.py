"""The zygote: a pre-warmed, single-threaded process that forks one detached monitor per request.

Usage: python -m berth.monitor.zygote --socket PATH   (started by the daemon; prints "ready" once it
listens, and dies with its parent).

A request is one SOCK_SEQPACKET message of JSON plus one passed fd, the daemon's end of a socketpair
that becomes the monitor's first client. The monitor (not the zygote) sends the reply on the same
connection: {"pid": N, "monitor_pid": N} or {"error": MESSAGE, "exit_code": 125|126|127}.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import signal
import socket
import sys
import traceback
from typing import NoReturn

from berth.linux import syscalls
from berth.runtime import cgroups
from berth.monitor import monitor
from berth.monitor.sockpath import short_socket_path

MAX_REQUEST = 1 << 20
REQUEST_TIMEOUT = 5.0

_FIELDS: dict[str, dict[str, type | tuple[type, ...]]] = {
    "run": {"id": str, "bundle": str, "state_dir": str, "tty": bool, "stdin": bool},
    "exec": {"id": str, "exec_id": str, "init_pid": int, "bundle": str, "state_dir": str,
             "process": dict, "tty": bool, "stdin": bool},
}
_OPTIONAL: dict[str, type | tuple[type, ...]] = {
    "log_path": (str, type(None)), "runtime": (str, type(None)), "runtime_root": (str, type(None)),
}


class BadRequest(ValueError):
    pass


def parse_request(data: bytes) -> dict:
    """Decode and check a request; raise BadRequest with a message for the daemon."""
    try:
        request = json.loads(data)
    except ValueError as error:
        raise BadRequest(f"request is not JSON: {error}") from None
    if not isinstance(request, dict) or request.get("op") not in _FIELDS:
        raise BadRequest(f"unknown op {request.get('op') if isinstance(request, dict) else request!r}")
    fields = {**_FIELDS[request["op"]], **{k: t for k, t in _OPTIONAL.items() if k in request}}
    for name, kind in fields.items():
        if not isinstance(request.get(name), kind):
            raise BadRequest(f"request field {name!r} is missing or has the wrong type")
    return request


def handle(connection: socket.socket, listener: socket.socket) -> None:
    """Read one request from `connection` and fork its monitor (which replies)."""
    connection.settimeout(REQUEST_TIMEOUT)
    data, fds, _, _ = socket.recv_fds(connection, MAX_REQUEST, 1)
    try:
        if len(fds) != 1:
            raise BadRequest("a request carries exactly one fd (the monitor's channel)")
        request = parse_request(data)
    except BadRequest as error:
        connection.send(json.dumps({"error": str(error), "exit_code": 125}).encode())
        for fd in fds:
            os.close(fd)
        return
    channel = socket.socket(fileno=fds[0])
    try:
        monitor_pid = os.fork()
        if monitor_pid == 0:
            _run_monitor(request, connection, channel, listener)
    finally:
        channel.close()
    _start_cgroup_move(request, monitor_pid)


def _start_cgroup_move(request: dict, monitor_pid: int) -> None:
    """Begin, while the monitor prepares, the cgroup move its launch will need (a speed-up only).

    The first move into a cgroup after a quiet spell waits for an RCU grace period (5-15 ms). An
    exec's monitor is moved into the container's cgroups now, so the process it forks is born there;
    for a new container the zygote starts a grace period that the coming move will share.
    """
    try:
        if request["op"] == "exec":
            cgroups.join(cgroups.procs_files_of(request["init_pid"]), monitor_pid)
        else:
            cgroups.prime_migration()
    except OSError:
        pass


def _run_monitor(request: dict, connection: socket.socket, channel: socket.socket,
                 listener: socket.socket) -> NoReturn:
    """The monitor: in a session of its own, so that no signal meant for the daemon reaches it.

    It is forked once, not twice: each fork costs the monitor the pages its at-fork work writes to.
    The zygote ignores SIGCHLD, so the kernel reaps a monitor that ends; one whose zygote ended first
    goes to init (or the nearest subreaper) like any orphan.
    """
    status = 1
    try:
        listener.close()
        os.setsid()
        connection.settimeout(None)
        monitor.serve(request, connection, channel)
        status = 0
    except BaseException:
        traceback.print_exc()
    finally:
        os._exit(status)


def _die_with_parent() -> None:
    parent = os.getppid()
    syscalls.prctl(syscalls.PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m berth.monitor.zygote")
    parser.add_argument("--socket", required=True, help="unix socket to listen on")
    socket_path = parser.parse_args(argv).socket
    _die_with_parent()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    with short_socket_path(socket_path) as reachable:
        if os.path.lexists(socket_path):
            os.unlink(socket_path)
        listener.bind(reachable)
    listener.listen(128)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # monitors are reaped by the kernel
    gc.freeze()  # keep shared pages shared: the collector no longer writes to existing objects
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    os.close(devnull)
    while True:
        connection, _ = listener.accept()
        with connection:
            try:
                handle(connection, listener)
            except OSError as error:  # a client that went away or sent nothing: serve the next one
                print(f"zygote: request failed: {error}", file=sys.stderr)


if __name__ == "__main__":
    main()
