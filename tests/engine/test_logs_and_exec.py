"""`logs` (json-file) and `exec` into running containers."""
from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

from tests.waiting import eventually


def start(daemon, *args: str) -> str:
    return daemon.berth("run", "-d", *args).stdout.strip()


def test_logs_keep_stdout_and_stderr_in_dockers_json_file_format(daemon):
    container_id = start(daemon, "busybox", "sh", "-c", "echo one; sleep 0.2; echo two >&2; sleep 0.2; echo three")
    daemon.berth("wait", container_id)
    logs = daemon.berth("logs", container_id)
    assert logs.stdout == "one\nthree\n"
    assert logs.stderr == "two\n"
    log_path = Path(daemon.berth("inspect", "-f", "{{.LogPath}}", container_id).stdout.strip())
    records = [json.loads(line) for line in log_path.read_text().splitlines()]
    assert [(r["log"], r["stream"]) for r in records] == [("one\n", "stdout"), ("two\n", "stderr"), ("three\n", "stdout")]
    assert all(r["time"].endswith("Z") for r in records)


def test_logs_tail_and_timestamps(daemon):
    container_id = start(daemon, "busybox", "sh", "-c", "for i in 1 2 3 4; do echo line$i; done")
    daemon.berth("wait", container_id)
    assert daemon.berth("logs", "--tail", "2", container_id).stdout == "line3\nline4\n"
    for every_line in ("all", "-1", "abc"):  # as dockerd reads a tail
        assert daemon.berth("logs", "--tail", every_line, container_id).stdout.count("line") == 4
    stamped = daemon.berth("logs", "-t", "--tail", "1", container_id).stdout
    stamp, text = stamped.split(" ", 1)
    assert text == "line4\n" and stamp.endswith("Z") and "T" in stamp
    # --details puts each line's log attributes and a space before it; berth records none
    assert daemon.berth("logs", "--details", "--tail", "1", container_id).stdout == " line4\n"


def test_logs_since_filters_old_lines(daemon):
    container_id = start(daemon, "busybox", "sh", "-c", "echo early; sleep 2; echo late")
    eventually(lambda: daemon.berth("logs", container_id).stdout == "early\n", "the first line")
    since = f"{time.time():.3f}"  # between the two lines (the container sleeps 2 s between them)
    daemon.berth("wait", container_id)
    assert daemon.berth("logs", "--since", since, container_id).stdout == "late\n"


def test_logs_follow_streams_until_the_container_exits(daemon):
    container_id = start(daemon, "busybox", "sh", "-c", "echo first; sleep 1; echo second")
    follower = subprocess.run([str(Path(__file__).parents[2] / ".venv/bin/berth"), "logs", "-f", container_id],
                              capture_output=True, text=True, env=daemon.env, timeout=30)
    assert follower.stdout == "first\nsecond\n"


def test_logs_survive_the_container_until_it_is_removed(daemon):
    container_id = start(daemon, "busybox", "sh", "-c", "echo kept")
    daemon.berth("wait", container_id)
    assert daemon.berth("logs", container_id).stdout == "kept\n"
    daemon.berth("rm", container_id)
    assert daemon.berth("logs", container_id, check=False).returncode == 1


def test_exec_runs_in_the_running_container(daemon):
    container_id = start(daemon, "busybox", "sh", "-c", "echo secret > /tmp/file; sleep 100")
    eventually(lambda: daemon.berth("exec", container_id, "cat", "/tmp/file", check=False).stdout == "secret\n",
               "the file the container writes, read by an exec")
    ps = daemon.berth("exec", container_id, "ps", "-o", "pid,args").stdout
    assert "    1 sleep 100" in ps.splitlines()


def test_exec_options_and_exit_codes(daemon):
    container_id = start(daemon, "busybox", "sleep", "100")
    out = daemon.berth("exec", "-e", "X=1", "-u", "nobody", "-w", "/tmp", container_id,
                       "sh", "-c", "echo $X; id -u; pwd").stdout
    assert out == "1\n65534\n/tmp\n"
    assert daemon.berth("exec", container_id, "sh", "-c", "exit 5", check=False).returncode == 5
    missing = daemon.berth("exec", container_id, "nosuch", check=False)
    assert missing.returncode == 126
    assert "executable file not found" in missing.stdout + missing.stderr
    stranger = daemon.berth("exec", "-u", "nosuch", container_id, "id", check=False)
    assert (stranger.returncode, stranger.stdout.rstrip()) == (126, "unable to find user nosuch: no matching entries in passwd file")
    directory = daemon.berth("exec", container_id, "/etc", check=False)
    assert (directory.returncode, directory.stdout) == (126, 'OCI runtime exec failed: exec: "/etc": permission denied: unknown\n')
    relative = daemon.berth("exec", "-w", "tmp", container_id, "true", check=False)
    assert (relative.returncode, relative.stdout) == (126, "OCI runtime exec failed: Cwd must be an absolute path: unknown\n")


def test_exec_with_stdin_and_detached(daemon):
    container_id = start(daemon, "busybox", "sleep", "100")
    assert daemon.berth("exec", "-i", container_id, "cat", input="piped\n").stdout == "piped\n"
    daemon.berth("exec", "-d", container_id, "sh", "-c", "echo detached > /tmp/d")
    eventually(lambda: daemon.berth("exec", container_id, "cat", "/tmp/d", check=False).stdout == "detached\n",
               "what the detached exec wrote")


def test_exec_into_a_stopped_container_is_refused(daemon):
    container_id = start(daemon, "busybox", "true")
    daemon.berth("wait", container_id)
    result = daemon.berth("exec", container_id, "true", check=False)
    assert result.returncode != 0
    assert "is not running" in result.stderr


def test_the_none_log_driver_keeps_nothing_to_read_back(daemon):
    assert daemon.berth("run", "--rm", "--log-driver", "none", "busybox", "echo", "seen live").stdout == "seen live\n"
    box = daemon.berth("run", "-d", "--log-driver", "none", "busybox", "echo", "gone").stdout.strip()
    daemon.berth("wait", box)
    refused = daemon.berth("logs", box, check=False)
    assert refused.returncode == 1 and "configured logging driver does not support reading" in refused.stderr
    assert daemon.berth("inspect", "-f", "{{.LogPath}}", box).stdout == "\n"
    daemon.berth("rm", box)
