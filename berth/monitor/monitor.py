"""One monitor: launches a container init (or exec) process, then relays its stdio to clients and its
log until it ends, and records how it ended.

Runs in a detached process forked from the zygote; single-threaded, one selectors loop.
"""
from __future__ import annotations

import errno
import json
import os
import selectors
import signal
import socket
import sys
import time

from berth.linux import pty, syscalls
from berth.monitor import statedir
from berth.monitor.frames import FrameType, encode, split
from berth.monitor.helper import Prepared, prepare
from berth.monitor.jsonlog import JsonLog
from berth.monitor.launcher import Launcher, LaunchError, launcher_for
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
        self.outputs = dict(zip(prepared.outputs, (FrameType.STDOUT, FrameType.STDERR)))
        self.stdin = prepared.stdin

    def close(self) -> None:
        for fd in [*self.outputs, *([self.stdin] if self.stdin is not None else [])]:
            os.close(fd)


class Monitor:
    """The relay loop for one running process."""

    def __init__(self, pid: int, stdio: ProcessStdio, log: JsonLog | None, listener: socket.socket,
                 channel: socket.socket, wakeup: int, launcher: Launcher) -> None:
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
        self.selector = selectors.DefaultSelector()
        listener.setblocking(False)
        self.selector.register(listener, selectors.EVENT_READ, self._accept)
        self.selector.register(wakeup, selectors.EVENT_READ, self._on_signal)
        for fd in stdio.outputs:
            os.set_blocking(fd, False)
            self.selector.register(fd, selectors.EVENT_READ, self._on_output)
        if self.stdin:
            os.set_blocking(self.stdin.fd, False)
        self._add_client(channel)

    def run(self) -> None:
        self._reap()
        deadline = None
        while self.stdio.outputs and (deadline is None or time.monotonic() < deadline):
            timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
            for key, events in self.selector.select(timeout):
                key.data(key.fileobj, events)
            if deadline is None and self.exit_code is not None:
                deadline = time.monotonic() + OUTPUT_GRACE
        while self.exit_code is None:  # outputs closed early (e.g. the process closed stdout)
            for key, events in self.selector.select():
                key.data(key.fileobj, events)
        self._finish()

    # --- events -------------------------------------------------------------------------------

    def _accept(self, listener: socket.socket, _events: int) -> None:
        while True:
            try:
                sock, _ = listener.accept()
            except BlockingIOError:
                return
            self._add_client(sock)

    def _on_signal(self, wakeup: int, _events: int) -> None:
        try:
            os.read(wakeup, 512)
        except BlockingIOError:
            pass
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
            self.selector.unregister(fd)
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
            if events & selectors.EVENT_WRITE:
                client.flush()
            if events & selectors.EVENT_READ:
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
        registered = self.selector.get_map().get(stdin.fd) is not None
        if registered:
            self.selector.unregister(stdin.fd)
        if not stdin.flush():
            self.stdin = None
        elif stdin.pending:
            self.selector.register(stdin.fd, selectors.EVENT_WRITE, self._on_stdin_writable)

    def _add_client(self, sock: socket.socket) -> None:
        client = Client(sock)
        self.clients[sock] = client
        self.selector.register(sock, selectors.EVENT_READ, self._on_client)

    def _send(self, client: Client, frame: bytes, droppable: bool = True) -> None:
        try:
            client.queue(frame, droppable)
        except OSError:
            self._drop_client(client)
            return
        self._watch(client)

    def _watch(self, client: Client) -> None:
        events = selectors.EVENT_READ | (selectors.EVENT_WRITE if client.outgoing else 0)
        if self.selector.get_key(client.sock).events != events:
            self.selector.modify(client.sock, events, self._on_client)

    def _drop_client(self, client: Client) -> None:
        self.selector.unregister(client.sock)
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

    def _finish(self) -> None:
        """Record the exit, tell every client, and tidy the state directory."""
        for key in list(self.selector.get_map().values()):
            if key.fileobj is not self.listener and key.data != self._on_client:
                self.selector.unregister(key.fileobj)
        self.stdio.close()
        if self.stdin:
            os.close(self.stdin.fd)
        if self.log:
            self.log.close()
        record = json.dumps({"exit_code": self.exit_code, "finished_at": self.finished_at,
                             "oom_killed": self.launcher.oom_killed()}).encode()
        self.launcher.cleanup()
        statedir.write_atomic(statedir.EXIT_FILE, record)
        statedir.remove(statedir.ATTACH_SOCKET)
        self._accept(self.listener, 0)  # connections that arrived before the unlink
        self.selector.unregister(self.listener)
        self.listener.close()
        exit_frame = encode(FrameType.EXIT, record)
        for client in list(self.clients.values()):
            self._send(client, exit_frame, droppable=False)
        deadline = time.monotonic() + EXIT_FLUSH_TIMEOUT
        while any(c.outgoing for c in self.clients.values()) and time.monotonic() < deadline:
            for key, events in self.selector.select(deadline - time.monotonic()):
                key.data(key.fileobj, events)
        statedir.remove(statedir.MONITOR_PID)


def serve(request: dict, reply: socket.socket, channel: socket.socket) -> None:
    """The life of a freshly forked, detached monitor: launch, reply, relay, record the exit.

    The launch and the rest of the one-time work happen in a helper child (berth.monitor.helper).
    """
    os.chdir(request["state_dir"])
    syscalls.prctl(syscalls.PR_SET_CHILD_SUBREAPER, 1)
    wakeup = _wake_on_sigchld()
    log = None
    try:
        log = JsonLog(request["log_path"]) if request.get("log_path") else None
        prepared = prepare(request)
    except (LaunchError, OSError) as error:
        failure = error if isinstance(error, LaunchError) else LaunchError(str(error), 125)
        if log:
            log.close()
        _reply(reply, json.dumps({"error": failure.message, "exit_code": failure.exit_code}).encode())
        return
    # The JSON by hand: json's encoder, run here for the first time, would cost the monitor ~75 KiB of
    # pages copied from the zygote (bench/monitor_memory.py).
    _reply(reply, b'{"pid": %d, "monitor_pid": %d}' % (prepared.pid, os.getpid()))
    launcher = launcher_for(request, prepared.cgroups_path)
    Monitor(prepared.pid, ProcessStdio(prepared), log, prepared.listener, channel, wakeup, launcher).run()


def _reply(reply: socket.socket, message: bytes) -> None:
    """Answer the spawn request; a daemon that has gone meanwhile will reconnect (or not) later."""
    try:
        reply.send(message)
    except OSError:
        pass
    reply.close()


def _wake_on_sigchld() -> int:
    """A pipe that becomes readable whenever SIGCHLD arrives (for the selectors loop)."""
    read_end, write_end = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    signal.signal(signal.SIGCHLD, lambda _signum, _frame: None)
    signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
    return read_end
