"""One monitor: launches a container init (or exec) process, then relays its stdio to clients and its
log until it ends, and records how it ended.

Runs in a detached process forked from the zygote; single-threaded, one epoll loop (berth.monitor.poller).
"""
from __future__ import annotations

import errno
import json
import os
import socket
import sys
import time
from collections.abc import Callable

from berth.atomicfile import write_atomic
from berth.linux import pty, syscalls
from berth.monitor import request as zygote_request
from berth.monitor import statedir
from berth.monitor.frames import FrameType, encode, split
from berth.monitor.helper import Declined, Prepared, prepare_container, prepare_exec
from berth.monitor.jsonlog import JsonLog
from berth.monitor.launcher import Launcher, LaunchError, launcher_for
from berth.monitor.poller import READ, WRITE, Poller
from berth.timestamps import rfc3339_nano

READ_SIZE = 65536
CLIENT_BACKLOG_LIMIT = 1 << 20   # bytes queued for a slow client before its output is dropped
OUTPUT_GRACE = 1.0               # seconds to wait for output after the process ended
EXIT_FLUSH_TIMEOUT = 5.0         # seconds to deliver the exit frame to slow clients
VEOF = b"\x04"                   # what "close stdin" types into a terminal


class Client:
    """A connected client socket with its pending outgoing bytes and partial incoming frames."""

    def __init__(self, sock: socket.socket) -> None:
        sock.setblocking(False)
        self.sock = sock
        self.outgoing = bytearray()
        self.incoming = bytearray()

    def queue(self, frame: bytes, droppable: bool = True) -> None:
        if droppable and len(self.outgoing) > CLIENT_BACKLOG_LIMIT:
            return
        self.outgoing += frame
        self.flush()

    def flush(self) -> None:
        """Send what the socket takes now; raises OSError if the client is gone."""
        while self.outgoing:
            try:
                sent = self.sock.send(self.outgoing)
            except BlockingIOError:
                return
            del self.outgoing[:sent]


class Stdin:
    """The process's stdin (pipe or pty master) fed from client frames without blocking."""

    def __init__(self, fd: int, is_tty: bool) -> None:
        self.fd = fd
        self.is_tty = is_tty
        self.pending = bytearray()
        self.closing = False

    def flush(self) -> bool:
        """Write what the process takes now; return False once stdin is closed."""
        try:
            while self.pending:
                del self.pending[:os.write(self.fd, self.pending)]
        except BlockingIOError:
            return True
        except OSError:  # the process closed its end, or the pty is gone
            self.pending.clear()
            self.closing = True
        if self.closing:
            os.close(self.fd)
            return False
        return True


class ProcessStdio:
    """Our ends of the pipes (or the pty) between a monitor and its process."""

    def __init__(self, prepared: Prepared) -> None:
        self.tty = prepared.pty_master is not None
        self.pty_master = prepared.pty_master
        self.outputs = dict(zip(prepared.outputs, (FrameType.STDOUT, FrameType.STDERR), strict=False))  # a pty: one output
        self.stdin = prepared.stdin

    def close(self) -> None:
        for fd in [*self.outputs, *([self.stdin] if self.stdin is not None else [])]:
            os.close(fd)


class Monitor:
    """The relay loop for one running process."""

    def __init__(self, pid: int, stdio: ProcessStdio, log: JsonLog | None, listener: socket.socket,
                 channel: socket.socket, launcher: Callable[[], Launcher]) -> None:
        """`launcher` gives, when the process has ended, what cleans up after it."""
        self.pid = pid
        self.stdio = stdio
        self.log = log
        self.listener = listener
        self.launcher = launcher
        self.exit_code: int | None = None
        self.finished_at = ""
        self.clients: dict[socket.socket, Client] = {}
        self.stdin: Stdin | None = None
        if stdio.stdin is not None:
            self.stdin = Stdin(stdio.stdin, stdio.tty)
            stdio.stdin = None
        self.poller = Poller()
        listener.setblocking(False)
        self.poller.register(listener, READ, self._accept)
        self.exit_watch: int | None = os.pidfd_open(pid)  # readable once the process has ended
        self.poller.register(self.exit_watch, READ, self._on_exit)
        for fd in stdio.outputs:
            os.set_blocking(fd, False)
            self.poller.register(fd, READ, self._on_output)
        if self.stdin:
            os.set_blocking(self.stdin.fd, False)
        self._add_client(channel)

    def run(self) -> None:
        self._reap()
        deadline = None
        while self.stdio.outputs and (deadline is None or time.monotonic() < deadline):
            timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
            for fileobj, callback, events in self.poller.select(timeout):
                callback(fileobj, events)
            if deadline is None and self.exit_code is not None:
                deadline = time.monotonic() + OUTPUT_GRACE
        while self.exit_code is None:  # outputs closed early (e.g. the process closed stdout)
            for fileobj, callback, events in self.poller.select():
                callback(fileobj, events)
        self._finish()

    # --- events -------------------------------------------------------------------------------

    def _accept(self, listener: socket.socket, _events: int) -> None:
        while True:
            try:
                sock, _ = listener.accept()
            except BlockingIOError:
                return
            self._add_client(sock)

    def _on_exit(self, _pidfd: int, _events: int) -> None:
        self._reap()

    def _on_output(self, fd: int, _events: int) -> None:
        try:
            chunk = os.read(fd, READ_SIZE)
        except BlockingIOError:
            return
        except OSError as error:  # EIO: every pty slave is closed
            if error.errno != errno.EIO:
                raise
            chunk = b""
        kind = self.stdio.outputs[fd]
        if not chunk:
            self.poller.unregister(fd)
            del self.stdio.outputs[fd]
            os.close(fd)
            if fd == self.stdio.pty_master:
                self.stdio.pty_master = None
            return
        if self.log:
            try:
                self.log.write("stdout" if kind == FrameType.STDOUT else "stderr", chunk)
            except OSError as error:  # e.g. a full disk: keep the container's output flowing
                print(f"monitor: cannot write the log: {error}", file=sys.stderr)
        frame = encode(kind, chunk)
        for client in list(self.clients.values()):
            self._send(client, frame)

    def _on_client(self, sock: socket.socket, events: int) -> None:
        client = self.clients[sock]
        try:
            if events & WRITE:
                client.flush()
            if events & READ:
                data = sock.recv(READ_SIZE)
                if not data:
                    raise ConnectionResetError
                client.incoming += data
                for kind, payload in split(client.incoming):
                    self._on_frame(kind, payload)
        except (OSError, ValueError):
            self._drop_client(client)
            return
        self._watch(client)

    def _on_stdin_writable(self, _fd: int, _events: int) -> None:
        self._flush_stdin()

    # --- helpers ------------------------------------------------------------------------------

    def _on_frame(self, kind: int, payload: bytes) -> None:
        if kind == FrameType.RESIZE and self.stdio.pty_master is not None:
            try:
                size = json.loads(payload)
                rows, columns = int(size["h"]), int(size["w"])
            except (ValueError, KeyError, TypeError):
                return
            if not (0 <= rows <= 0xFFFF and 0 <= columns <= 0xFFFF):
                return
            pty.set_size(self.stdio.pty_master, rows, columns)
        elif self.stdin is None:
            return
        elif kind == FrameType.STDIN and not self.stdin.closing:
            self.stdin.pending += payload
            self._flush_stdin()
        elif kind == FrameType.CLOSE_STDIN and not self.stdin.closing:
            if self.stdin.is_tty:
                self.stdin.pending += VEOF
            self.stdin.closing = True
            self._flush_stdin()

    def _flush_stdin(self) -> None:
        stdin = self.stdin
        assert stdin is not None
        if self.poller.watching(stdin.fd):
            self.poller.unregister(stdin.fd)
        if not stdin.flush():
            self.stdin = None
        elif stdin.pending:
            self.poller.register(stdin.fd, WRITE, self._on_stdin_writable)

    def _add_client(self, sock: socket.socket) -> None:
        client = Client(sock)
        self.clients[sock] = client
        self.poller.register(sock, READ, self._on_client)

    def _send(self, client: Client, frame: bytes, droppable: bool = True) -> None:
        try:
            client.queue(frame, droppable)
        except OSError:
            self._drop_client(client)
            return
        self._watch(client)

    def _watch(self, client: Client) -> None:
        events = READ | (WRITE if client.outgoing else 0)
        if self.poller.events(client.sock) != events:
            self.poller.modify(client.sock, events, self._on_client)

    def _drop_client(self, client: Client) -> None:
        self.poller.unregister(client.sock)
        del self.clients[client.sock]
        client.sock.close()

    def _reap(self) -> None:
        """Collect every ended child (we are a subreaper); note the watched process's status."""
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid == self.pid:
                code = os.waitstatus_to_exitcode(status)
                self.exit_code = 128 - code if code < 0 else code
                self.finished_at = rfc3339_nano()
                if self.exit_watch is not None:  # a pidfd stays readable: stop watching it
                    self.poller.unregister(self.exit_watch)
                    os.close(self.exit_watch)
                    self.exit_watch = None

    def _finish(self) -> None:
        """Record the exit, tell every client, and tidy the state directory."""
        for fileobj, callback in self.poller.entries():
            if fileobj is not self.listener and callback != self._on_client:
                self.poller.unregister(fileobj)
        self.stdio.close()
        if self.stdin:
            os.close(self.stdin.fd)
        if self.log:
            self.log.close()
        launcher = self.launcher()
        record = json.dumps({"exit_code": self.exit_code, "finished_at": self.finished_at,
                             "oom_killed": launcher.oom_killed()}).encode()
        launcher.cleanup()
        write_atomic(statedir.EXIT_FILE, record)
        statedir.remove(statedir.ATTACH_SOCKET)
        self._accept(self.listener, 0)  # connections that arrived before the unlink
        self.poller.unregister(self.listener)
        self.listener.close()
        exit_frame = encode(FrameType.EXIT, record)
        for client in list(self.clients.values()):
            self._send(client, exit_frame, droppable=False)
        deadline = time.monotonic() + EXIT_FLUSH_TIMEOUT
        while any(c.outgoing for c in self.clients.values()) and time.monotonic() < deadline:
            for fileobj, callback, events in self.poller.select(max(0.0, deadline - time.monotonic())):
                callback(fileobj, events)
        statedir.remove(statedir.MONITOR_PID)


def serve(request: dict, reply: socket.socket, channel: socket.socket) -> None:
    """The life of an exec's monitor: launch, reply, relay, record the exit. It is short-lived, so it
    does its one-time work itself."""
    os.chdir(request["state_dir"])
    syscalls.prctl(syscalls.PR_SET_CHILD_SUBREAPER, 1)
    try:
        prepared = prepare_exec(request)
    except (LaunchError, OSError) as error:
        failure = error if isinstance(error, LaunchError) else LaunchError(str(error), 125)
        _reply(reply, zygote_request.error_reply(failure.message, failure.exit_code))
        return
    _reply_started(reply, prepared.pid)
    launcher = launcher_for(request, prepared.cgroups_path)
    Monitor(prepared.pid, ProcessStdio(prepared), None, prepared.listener, channel, lambda: launcher).run()


def serve_container(body: bytes, reply: socket.socket, channel: socket.socket) -> None:
    """The life of a container's monitor, from the JSON `body` of its request.

    A helper child reads the request and does the one-time work (berth.monitor.helper); what the
    monitor runs itself stays little, for it lives as long as the container and keeps every page
    it writes. It reads the request only once the process has ended, to clean up after it.
    """
    syscalls.prctl(syscalls.PR_SET_CHILD_SUBREAPER, 1)
    try:
        prepared = prepare_container(body)
    except Declined as declined:
        _reply(reply, declined.reply)
        return
    assert prepared.state_dir is not None  # a container's helper always reports it
    os.chdir(prepared.state_dir)
    _reply_started(reply, prepared.pid)
    log = JsonLog(prepared.log_fd, prepared.log_rotation) if prepared.log_fd is not None else None
    Monitor(prepared.pid, ProcessStdio(prepared), log, prepared.listener, channel,
            lambda: launcher_for(zygote_request.parse(body, b"run"), prepared.cgroups_path)).run()


def _reply_started(reply: socket.socket, pid: int) -> None:
    # The JSON by hand: json's encoder, run here for the first time, would cost a container's
    # monitor ~75 KiB of pages copied from the zygote (bench/monitor_memory.py).
    _reply(reply, b'{"pid": %d, "monitor_pid": %d}' % (pid, os.getpid()))


def _reply(reply: socket.socket, message: bytes) -> None:
    """Answer the spawn request; a daemon that has gone meanwhile will reconnect (or not) later."""
    try:
        reply.send(message)
    except OSError:
        pass
    reply.close()
