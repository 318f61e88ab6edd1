"""A daemon's view of the monitors: start processes through the zygote, talk to them, lose and
regain them."""
from __future__ import annotations

import json
import os
import re
import select
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from berth.monitor import client
from berth.monitor.frames import FrameType
from tests.monitor.monitor_harness import Zygote, collect, run, wait_gone

# Go's RFC3339Nano, as Docker's json-file logs: nanoseconds with trailing zeros dropped.
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{0,8}[1-9])?Z$")


def log_entries(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_echo_arrives_as_a_stdout_frame_and_in_the_json_log(zygote: Zygote) -> None:
    async def scenario() -> None:
        started = await zygote.run(["echo", "hi"])
        output, exit_record = await collect(started.channel)
        assert output == {FrameType.STDOUT: b"hi\n"}
        assert exit_record["exit_code"] == 0 and exit_record["oom_killed"] is False
        assert TIME.match(exit_record["finished_at"])
        [entry] = log_entries(started.log_path)
        assert entry["log"] == "hi\n" and entry["stream"] == "stdout" and TIME.match(entry["time"])
        assert client.read_exit(started.state_dir) == exit_record
        wait_gone(started.monitor_pid)
        assert not (started.state_dir / "attach.sock").exists()
        assert not (started.state_dir / "monitor.pid").exists()

    run(scenario())


def test_stderr_and_partial_lines_are_logged_by_stream(zygote: Zygote) -> None:
    async def scenario() -> None:
        started = await zygote.run(["sh", "-c", "echo out; echo err >&2; printf tail"])
        output, exit_record = await collect(started.channel)
        assert output == {FrameType.STDOUT: b"out\ntail", FrameType.STDERR: b"err\n"}
        entries = [(e["stream"], e["log"]) for e in log_entries(started.log_path)]
        assert sorted(entries) == [("stderr", "err\n"), ("stdout", "out\n"), ("stdout", "tail")]

    run(scenario())


@pytest.mark.parametrize("command, code", [("exit 3", 3), ("kill -9 $$", 137), ("kill -TERM $$", 143)])
def test_exit_code_is_the_status_or_128_plus_the_signal(zygote: Zygote, command: str, code: int) -> None:
    async def scenario() -> None:
        # In a pid namespace the init ignores signals it has no handler for, so a subshell is killed.
        started = await zygote.run(["sh", "-c", f"sh -c '{command}'; exit $?"])
        _, exit_record = await collect(started.channel)
        assert exit_record["exit_code"] == code

    run(scenario())


def test_killing_the_container_from_outside_gives_137(zygote: Zygote) -> None:
    async def scenario() -> None:
        started = await zygote.run(["sleep", "1000"])
        os.kill(started.pid, signal.SIGKILL)
        _, exit_record = await collect(started.channel)
        assert exit_record["exit_code"] == 137
        assert json.loads((started.state_dir / "exit.json").read_text()) == exit_record

    run(scenario())


def test_a_container_killed_for_memory_reports_oom_killed(zygote: Zygote) -> None:
    async def scenario() -> None:
        # tail keeps the current "line" of an endless stream of zero bytes in memory.
        started = await zygote.run(["tail", "/dev/zero"], memory_limit=16 << 20)
        _, exit_record = await collect(started.channel)
        assert exit_record["exit_code"] == 137 and exit_record["oom_killed"] is True

    run(scenario())


def test_stdin_data_then_close_reaches_cat(zygote: Zygote) -> None:
    async def scenario() -> None:
        started = await zygote.run(["cat"], stdin=True)
        await started.channel.send_stdin(b"hello\n")
        await started.channel.send_stdin(b"world")
        await started.channel.close_stdin()
        output, exit_record = await collect(started.channel)
        assert output == {FrameType.STDOUT: b"hello\nworld"}
        assert exit_record["exit_code"] == 0

    run(scenario())


def test_without_stdin_the_process_reads_dev_null(zygote: Zygote) -> None:
    async def scenario() -> None:
        started = await zygote.run(["sh", "-c", "cat; echo eof"])
        output, _ = await collect(started.channel)
        assert output == {FrameType.STDOUT: b"eof\n"}

    run(scenario())


def test_tty_resize_is_seen_by_stty(zygote: Zygote) -> None:
    async def scenario() -> None:
        started = await zygote.run(["sh", "-c", "read line; stty size; exit 5"], tty=True, stdin=True)
        await started.channel.resize(40, 100)
        await started.channel.send_stdin(b"go\n")
        output, exit_record = await collect(started.channel)
        assert set(output) == {FrameType.STDOUT}
        assert b"40 100\r\n" in output[FrameType.STDOUT]
        assert exit_record["exit_code"] == 5
        assert all(e["stream"] == "stdout" for e in log_entries(started.log_path))

    run(scenario())


def test_monitor_outlives_zygote_and_client_and_takes_a_new_client(zygote: Zygote) -> None:
    async def scenario() -> None:
        started = await zygote.run(["sh", "-c", "read line; echo later $line; exit 7"], stdin=True)
        assert (started.state_dir / "monitor.pid").read_text() == f"{started.monitor_pid}\n"
        zygote.process.kill()
        zygote.process.wait()
        await started.channel.close()
        assert os.getpgid(started.monitor_pid) != os.getpgid(os.getpid())
        assert _parent_of(started.monitor_pid) != zygote.process.pid

        channel = await client.connect(started.state_dir)
        await channel.send_stdin(b"news\n")
        output, exit_record = await collect(channel)
        assert output == {FrameType.STDOUT: b"later news\n"}
        assert exit_record["exit_code"] == 7
        assert client.read_exit(started.state_dir) == exit_record
        with pytest.raises((FileNotFoundError, ConnectionRefusedError)):
            await client.connect(started.state_dir)

    run(scenario())


def test_output_without_clients_goes_to_the_log_and_never_blocks(zygote: Zygote) -> None:
    line = "x" * 999
    async def scenario() -> None:
        # 3 MB of output while the first client reads nothing: more than any socket buffer holds.
        started = await zygote.run(["sh", "-c", f"yes {line} | head -n 3000; echo done"])
        status = await _exit_status_file(started.state_dir)
        assert status["exit_code"] == 0
        entries = log_entries(started.log_path)
        assert len(entries) == 3001
        assert entries[0]["log"] == line + "\n" and entries[-1]["log"] == "done\n"
        _, exit_record = await collect(started.channel)
        assert exit_record == status

    run(scenario())


def test_exec_joins_the_running_container(zygote: Zygote) -> None:
    async def scenario() -> None:
        container = await zygote.run(["sleep", "1000"])
        execed = await zygote.exec(container, ["sh", "-c", "hostname; cat /proc/1/cmdline; exit 4"])
        output, exit_record = await collect(execed.channel)
        assert output == {FrameType.STDOUT: b"monitor-test\nsleep\x001000\x00"}
        assert exit_record["exit_code"] == 4
        assert client.read_exit(execed.state_dir) == exit_record
        assert client.read_exit(container.state_dir) is None

        execed = await zygote.exec(container, ["cat"], stdin=True)
        await execed.channel.send_stdin(b"typed")
        await execed.channel.close_stdin()
        output, _ = await collect(execed.channel)
        assert output == {FrameType.STDOUT: b"typed"}

        os.kill(container.pid, signal.SIGKILL)
        _, exit_record = await collect(container.channel)
        assert exit_record["exit_code"] == 137

    run(scenario())


def test_exec_with_a_tty_gets_its_own_terminal(zygote: Zygote) -> None:
    async def scenario() -> None:
        container = await zygote.run(["sleep", "1000"])
        execed = await zygote.exec(container, ["sh", "-c", "read line; tty; stty size"], tty=True, stdin=True)
        await execed.channel.resize(30, 90)
        await execed.channel.send_stdin(b"x\n")
        output, exit_record = await collect(execed.channel)
        assert b"/dev/pts/" in output[FrameType.STDOUT] and b"30 90" in output[FrameType.STDOUT]
        assert exit_record["exit_code"] == 0
        os.kill(container.pid, signal.SIGKILL)
        await collect(container.channel)

    run(scenario())


def test_missing_binary_is_an_error_reply_127(zygote: Zygote) -> None:
    async def scenario() -> None:
        with pytest.raises(client.SpawnError) as failure:
            await zygote.run(["nosuch-binary"])
        assert failure.value.exit_code == 127
        assert "nosuch-binary" in failure.value.message

    run(scenario())


@pytest.mark.parametrize(("request_", "complaint"), [
    ({"op": "run", "id": "x"}, "bundle"),
    ({"op": "exec", "id": "x", "bundle": "/b", "state_dir": "/s"}, "exec_id"),
    ({"op": "fly"}, "unknown op"),
])
def test_a_malformed_request_is_refused_with_125(zygote: Zygote, request_: dict, complaint: str) -> None:
    async def scenario() -> None:
        with pytest.raises(client.SpawnError) as failure:
            await client.spawn(zygote.socket, request_)
        assert failure.value.exit_code == 125
        assert complaint in failure.value.message

    run(scenario())


async def _exit_status_file(state_dir: Path) -> dict:
    """Wait (on a fresh client) until the monitor is done, then read exit.json."""
    try:
        channel = await client.connect(state_dir)
    except (FileNotFoundError, ConnectionRefusedError):
        pass
    else:
        await collect(channel)
    status = client.read_exit(state_dir)
    assert status is not None
    return status


def _parent_of(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[1])


@pytest.mark.any_user
def test_the_zygote_dies_with_the_process_that_started_it(tmp_path: Path) -> None:
    starter = subprocess.run(
        [sys.executable, "-c", "import sys; from berth.monitor.client import start_zygote; "
         "print(start_zygote(sys.argv[1]).pid)", str(tmp_path / "zygote.sock")],
        capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parents[2],
    )
    try:
        pidfd = os.pidfd_open(int(starter.stdout))
    except ProcessLookupError:  # already gone
        return
    try:
        ready, _, _ = select.select([pidfd], [], [], 30)  # the timeout only turns a hang into a failure
        assert ready, "the zygote outlived its parent"
    finally:
        os.close(pidfd)
