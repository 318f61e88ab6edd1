"""The zygote: a pre-warmed, single-threaded process that forks one detached monitor per request.

Usage: python -m berth.monitor.zygote --socket PATH   (started by the daemon; prints "ready" once it
listens, and dies with its parent).

A request is one SOCK_SEQPACKET message (berth.monitor.request) plus one passed fd, the daemon's end
of a socketpair that becomes the monitor's first client. The monitor (not the zygote) sends the
reply on the same connection: {"pid": N, "monitor_pid": N} or {"error": MESSAGE, "exit_code": 125|126|127}.
"""
from __future__ import annotations

import argparse
import gc
import os
import select
import signal
import socket
import sys
import traceback

from berth.linux import syscalls
from berth.monitor import monitor
from berth.monitor import request as zygote_request
from berth.monitor.sockpath import short_socket_path
from berth.runtime import cgroups

REQUEST_TIMEOUT = 5.0
_MAX_FD = 1 << 20  # above any descriptor the zygote holds (the kernel's nr_open ceiling)


def serve_request(connection: socket.socket) -> None:
    """In a freshly forked monitor: read the request, then become its monitor (which replies)."""
    connection.settimeout(REQUEST_TIMEOUT)
    message, fds, _, _ = socket.recv_fds(connection, zygote_request.MAX_REQUEST, 1)
    if len(fds) != 1:
        connection.send(zygote_request.error_reply("a request carries exactly one fd (the monitor's channel)", 125))
        return
    connection.settimeout(None)
    channel = socket.socket(fileno=fds[0])
    op, body = zygote_request.split(message)
    if op == b"run":
        monitor.serve_container(body, connection, channel)
        return
    try:
        parsed = zygote_request.parse(body, op)
    except zygote_request.BadRequest as error:
        connection.send(zygote_request.error_reply(str(error), 125))
        return
    monitor.serve(parsed, connection, channel)


def _fork_monitor(connection_fd: int, listener: socket.socket) -> int:
    """Fork the monitor for one accepted connection, which reads the request itself; its pid.

    Every page the zygote writes while monitors share it becomes a copy that some monitor pays for,
    so the zygote does little per request but accept and fork. The monitor is forked once, not
    twice (each fork costs it the pages its at-fork work writes to), in a session of its own so that
    no signal meant for the daemon reaches it. It keeps only stdio and its connection: the zygote's
    other descriptors (its listener, the pidfds of other monitors) are closed by number, which writes
    no Python object. SIGCHLD keeps its default, so the monitor's own children leave it their exit
    status; the zygote reaps the monitors (`main`). One whose zygote ended first goes to init (or the
    nearest subreaper).
    """
    pid = os.fork()
    if pid != 0:
        return pid
    status = 1
    try:
        os.closerange(3, connection_fd)
        os.closerange(connection_fd + 1, _MAX_FD)
        os.setsid()
        serve_request(socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET, 0, connection_fd))
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
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # whatever the daemon had: monitors' children need it
    # the host's cgroup mounts, read here once for every container berth's runtime starts: reading
    # /proc/self/mountinfo costs more with each container's mounts (1 ms at 200 containers)
    cgroups.hierarchies()
    gc.freeze()  # keep shared pages shared: the collector no longer writes to existing objects
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    os.close(devnull)
    _serve(listener)


def _serve(listener: socket.socket) -> None:
    """Fork a monitor per connection, and reap each monitor that ends (through a pidfd per monitor)."""
    poller = select.poll()
    poller.register(listener.fileno(), select.POLLIN)
    monitors: dict[int, int] = {}  # pidfd -> pid
    while True:
        for fd, _ in poller.poll():
            if fd in monitors:
                os.waitpid(monitors.pop(fd), 0)
                poller.unregister(fd)
                os.close(fd)
                continue
            connection, _ = listener.accept()
            connection_fd = connection.detach()
            try:
                pid = _fork_monitor(connection_fd, listener)
                pidfd = os.pidfd_open(pid)
                monitors[pidfd] = pid
                poller.register(pidfd, select.POLLIN)
            except OSError as error:  # no fork: the daemon sees the connection close unanswered
                print(f"zygote: cannot fork a monitor: {error}", file=sys.stderr)
            finally:
                os.close(connection_fd)


if __name__ == "__main__":
    main()
