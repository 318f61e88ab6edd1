"""berth-runtime, the runc-style command line: lifecycle, exec, and the same output as runc."""
from __future__ import annotations

import json
import os
import select
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.runtime.conftest import make_spec
from tests.waiting import eventually

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def runtime(tmp_path):
    """Run berth-runtime with a private --root; containers left behind are force-deleted."""
    state_root = tmp_path / "state"

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
        # Files, not pipes: a detached container keeps the command's stdio open.
        with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
            code = subprocess.run([sys.executable, "-m", "berth.runtime", "--root", str(state_root), *args],
                                  stdin=subprocess.DEVNULL, stdout=out, stderr=err, cwd=ROOT, timeout=60,
                                  env=dict(os.environ, PYTHONPATH=str(ROOT))).returncode
            out.seek(0)
            err.seek(0)
            result = subprocess.CompletedProcess(args, code, out.read(), err.read())
        if check and result.returncode != 0:
            raise AssertionError(f"berth-runtime {' '.join(args)} exited {result.returncode}: {result.stderr}")
        return result
    yield run
    if state_root.exists():
        for container in os.listdir(state_root):
            run("delete", "-f", container, check=False)


def status(runtime, container: str) -> str:
    return json.loads(runtime("state", container).stdout)["status"]


def test_lifecycle_create_start_kill_delete(runtime, bundle, tmp_path):
    bundle.write(make_spec(["sleep", "1000"]))
    pid_file = tmp_path / "init.pid"
    runtime("create", "--bundle", str(bundle.path), "--pid-file", str(pid_file), "box1")
    state = json.loads(runtime("state", "box1").stdout)
    assert state["status"] == "created" and state["id"] == "box1" and state["bundle"] == str(bundle.path)
    assert state["pid"] == int(pid_file.read_text())
    assert "box1" in runtime("list").stdout
    runtime("start", "box1")
    assert status(runtime, "box1") == "running"
    refused = runtime("delete", "box1", check=False)
    assert refused.returncode == 1 and "not stopped: running" in refused.stderr
    runtime("kill", "box1", "KILL")
    wait_for_status(runtime, "box1", "stopped")
    runtime("delete", "box1")
    assert runtime("state", "box1", check=False).returncode == 1
    assert runtime("list", "-q").stdout == ""


def wait_for_status(runtime, container: str, wanted: str, limit: float = 10) -> None:
    """Poll `state` until it says `wanted`; the killed init is reaped by whoever adopted it."""
    eventually(lambda: status(runtime, container) == wanted, f"{container} to be {wanted}", timeout=limit)


def test_run_in_the_foreground_exits_with_the_process_code(runtime, bundle):
    bundle.write(make_spec(["sh", "-c", "echo out; exit 3"]))
    result = runtime("run", "--bundle", str(bundle.path), "fg", check=False)
    assert (result.returncode, result.stdout) == (3, "out\n")
    assert runtime("state", "fg", check=False).returncode == 1  # run removes what it made


def test_exec_into_a_detached_container(runtime, bundle):
    bundle.write(make_spec(["sleep", "1000"]))
    runtime("run", "-d", "--bundle", str(bundle.path), "bg")
    result = runtime("exec", "--cwd", "/tmp", "--env", "X=1", "--user", "33:33", "bg", "sh", "-c",
                     "echo $X; pwd; id -u; cat /proc/1/cmdline")
    assert result.stdout.split("\n")[:3] == ["1", "/tmp", "33"]
    assert result.stdout.split("\n")[3].startswith("sleep")
    assert runtime("exec", "bg", "sh", "-c", "exit 5", check=False).returncode == 5
    runtime("delete", "-f", "bg")


def test_missing_binary_fails_create_with_runc_text(runtime, bundle):
    bundle.write(make_spec(["nosuch"]))
    result = runtime("create", "--bundle", str(bundle.path), "bad", check=False)
    assert result.returncode != 0
    assert 'exec: "nosuch": executable file not found in $PATH' in result.stderr
    assert runtime("state", "bad", check=False).returncode == 1


def test_same_bundle_same_output_as_runc(runtime, bundle, tmp_path, cgroup_parent):
    script = ("hostname; id; ls /; cat /proc/1/cmdline; echo; ls /dev; grep Cap /proc/self/status; "
              "ulimit -n; env | sort; cat /proc/self/cgroup; ls /sys/fs/cgroup/memory | grep limit_in")
    spec = make_spec(["sh", "-c", script])
    spec["linux"]["cgroupsPath"] = f"{cgroup_parent}/same"
    bundle.write(spec)
    ours = runtime("run", "--bundle", str(bundle.path), "same")
    theirs = subprocess.run(["runc", "--root", str(tmp_path / "runc"), "run", "--bundle", str(bundle.path),
                             f"berth-test-{os.getpid()}"], capture_output=True, text=True, timeout=60)
    assert theirs.returncode == 0, theirs.stderr
    assert ours.stdout == theirs.stdout


def test_console_socket_receives_the_pty_master(runtime, bundle, tmp_path):
    spec = make_spec(["sh"])
    spec["process"]["terminal"] = True
    bundle.write(spec)
    path = str(tmp_path / "console.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(path)
        listener.listen(1)
        runtime("create", "--bundle", str(bundle.path), "--console-socket", path, "tty1")
        connection, _ = listener.accept()
        with connection:
            _, fds, _, _ = socket.recv_fds(connection, 1024, 1)
    master = fds[0]
    try:
        runtime("start", "tty1")
        os.write(master, b"echo t''ty-ok\n")
        data = b""
        deadline = time.monotonic() + 10
        while b"tty-ok\r\n" not in data and time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                data += os.read(master, 1024)
        assert b"\r\ntty-ok\r\n" in data
    finally:
        os.close(master)
        runtime("delete", "-f", "tty1")
