"""Terminals (pty master handed back) and exec into a running container."""
from __future__ import annotations

import os
import select
import time

import pytest

from berth.runtime.launch import LaunchError, launch_container, launch_exec
from tests.runtime.conftest import make_spec


def read_until(fd: int, marker: bytes, limit: float = 10) -> bytes:
    """Read from `fd` until `marker` shows up (or `limit` seconds pass, which fails the test)."""
    data = b""
    deadline = time.monotonic() + limit
    while marker not in data and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            data += os.read(fd, 4096)
    return data


@pytest.fixture
def running(bundle, reap):
    """A container running `sleep 1000`; yields (launched, spec)."""
    spec = bundle.write(make_spec(["sleep", "1000"]))
    launched = launch_container(bundle.path, spec, None)
    reap.append(launched.pid)
    return launched, spec


def test_terminal_mode_gives_a_working_pty(bundle, reap):
    spec = make_spec(["sh"])
    spec["process"].update(terminal=True, consoleSize={"height": 40, "width": 120})
    launched = launch_container(bundle.path, bundle.write(spec), None)
    reap.append(launched.pid)
    master = launched.pty_master
    assert master is not None
    os.write(master, b"echo h''i; stty size; tty\n")
    out = read_until(master, b"/dev/pts/0\r\n")
    assert b"\r\nhi\r\n40 120\r\n/dev/pts/0\r\n" in out
    os.write(master, b"exit 7\n")
    assert os.waitstatus_to_exitcode(os.waitpid(launched.pid, 0)[1]) == 7
    os.close(master)


def test_exec_joins_the_running_container(running, tmp_path):
    launched, spec = running
    read_end, write_end = os.pipe()
    process = {"args": ["sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '; echo; hostname; pwd; id -u; ls /marker"],
               "env": ["PATH=/bin"], "cwd": "/tmp", "user": {"uid": 1000, "gid": 1000}}
    marker = launch_exec(launched.pid, spec, {"args": ["touch", "/marker"], "cwd": "/"}, None)
    os.waitpid(marker.pid, 0)
    exec_launched = launch_exec(launched.pid, spec, process, (0, write_end, write_end))
    os.close(write_end)
    with os.fdopen(read_end) as output:
        lines = output.read().splitlines()
    assert os.waitpid(exec_launched.pid, 0)[1] == 0
    assert lines == ["sleep 1000 ", "box", "/tmp", "1000", "/marker"]


def test_exec_with_a_terminal(running):
    launched, spec = running
    process = {"args": ["sh"], "env": ["PATH=/bin"], "cwd": "/", "terminal": True}
    exec_launched = launch_exec(launched.pid, spec, process, None)
    os.write(exec_launched.pty_master, b"tty; exit\n")
    assert b"/dev/pts/" in read_until(exec_launched.pty_master, b"\r\n/dev/pts/")
    os.waitpid(exec_launched.pid, 0)
    os.close(exec_launched.pty_master)


def test_exec_of_a_missing_binary_is_127(running):
    launched, spec = running
    with pytest.raises(LaunchError) as raised:
        launch_exec(launched.pid, spec, {"args": ["nosuch"], "env": ["PATH=/bin"], "cwd": "/"}, None)
    assert raised.value.exit_code == 127


def test_exec_into_a_stopped_container_fails(running):
    launched, spec = running
    os.kill(launched.pid, 9)
    os.waitpid(launched.pid, 0)
    with pytest.raises(LaunchError, match="not running"):
        launch_exec(launched.pid, spec, {"args": ["true"], "cwd": "/"}, None)
