"""Containers outlive the daemon: a crash, a restart, and a simulated reboot."""
from __future__ import annotations

import os
import subprocess

from tests.daemon_harness import BIN, kill_processes_under, unmount_under
from tests.netprobe import fetch
from tests.waiting import eventually


def test_kill_9_of_the_daemon_leaves_containers_running_and_manageable(fresh_daemon):
    daemon = fresh_daemon
    container_id = daemon.berth("run", "-d", "-i", "busybox", "sh", "-c",
                                "echo before; while read line; do echo got $line; done").stdout.strip()
    pid = int(daemon.berth("inspect", "-f", "{{.State.Pid}}", container_id).stdout)
    daemon.kill9()
    os.kill(pid, 0)  # still alive without the daemon
    daemon.start()
    assert daemon.berth("ps", "-q", "--no-trunc").stdout.split() == [container_id]
    assert daemon.berth("exec", container_id, "echo", "exec works").stdout == "exec works\n"
    follower = subprocess.Popen([str(BIN / "berth"), "logs", "-f", container_id], stdout=subprocess.PIPE,
                                text=True, env=daemon.env)
    attached = subprocess.Popen([str(BIN / "berth"), "attach", container_id], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True, env=daemon.env)
    attached.stdin.write("hello\n")  # the pipe holds it until the client is attached
    attached.stdin.flush()
    assert attached.stdout.readline() == "got hello\n"
    daemon.berth("stop", "-t", "1", container_id)
    assert follower.wait(20) == 0
    assert follower.stdout.read() == "before\ngot hello\n"
    attached.kill()
    assert daemon.berth("inspect", "-f", "{{.State.Status}}", container_id).stdout.strip() == "exited"


def test_a_container_that_exits_while_the_daemon_is_down_keeps_its_exit_code(fresh_daemon):
    daemon = fresh_daemon
    container_id = daemon.berth("run", "-d", "busybox", "sh", "-c", "sleep 1; echo done; exit 4").stdout.strip()
    daemon.kill9()
    exit_record = daemon.exec_root / "containers" / container_id / "exit.json"
    eventually(exit_record.exists, "the container to exit while the daemon is down")
    daemon.start()
    assert daemon.berth("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", container_id).stdout.split() == ["exited", "4"]
    assert daemon.berth("logs", container_id).stdout == "done\n"


def test_restart_policies_survive_a_daemon_restart(fresh_daemon):
    daemon = fresh_daemon
    container_id = daemon.berth("run", "-d", "--restart", "always", "busybox", "sh", "-c", "sleep 1; exit 1").stdout.strip()
    daemon.stop()
    daemon.start()
    eventually(lambda: int(daemon.berth("inspect", "-f", "{{.RestartCount}}", container_id).stdout) >= 1,
               "a restart", timeout=20)


def test_after_a_simulated_reboot_always_and_unless_stopped_containers_come_back(fresh_daemon):
    daemon = fresh_daemon
    always = daemon.berth("run", "-d", "--restart", "always", "busybox", "sleep", "1000").stdout.strip()
    unless = daemon.berth("run", "-d", "--restart", "unless-stopped", "busybox", "sleep", "1000").stdout.strip()
    stopped = daemon.berth("run", "-d", "--restart", "unless-stopped", "busybox", "sleep", "1000").stdout.strip()
    plain = daemon.berth("run", "-d", "busybox", "sh", "-c", "echo kept; sleep 1000").stdout.strip()
    daemon.berth("network", "create", "--subnet", "10.97.0.0/24", "lasting")
    web = daemon.berth("run", "-d", "--restart", "always", "--network", "lasting", "-p", "8484:80", "busybox",
                       "httpd", "-f", "-p", "80", "-h", "/etc").stdout.strip()
    daemon.berth("stop", "-t", "0", stopped)
    daemon.kill9()
    # The "reboot": every process the daemon started is gone, and so are the mounts.
    kill_processes_under(daemon.base)
    unmount_under(daemon.base)
    daemon.start()

    def status(container_id: str) -> str:
        return daemon.berth("inspect", "-f", "{{.State.Status}}", container_id).stdout.strip()

    eventually(lambda: status(always) == "running" and status(unless) == "running", "both back", timeout=20)
    # the host lost the network's bridge and rules with the "reboot": made again, the port answers
    eventually(lambda: status(web) == "running", "the web server back on its network", timeout=20)
    eventually(lambda: web[:12] in fetch(str(daemon.netns), "127.0.0.1", 8484), "its published port")
    assert status(stopped) == "exited"
    assert status(plain) == "exited"
    assert daemon.berth("logs", plain).stdout == "kept\n"
    assert daemon.berth("exec", always, "true").returncode == 0


def test_clients_whose_daemon_dies_say_so_without_a_traceback(fresh_daemon, tmp_path):
    daemon = fresh_daemon
    container_id = daemon.berth("run", "-d", "busybox", "sh", "-c", "echo hi; sleep 100").stdout.strip()
    follower = subprocess.Popen([str(BIN / "berth"), "logs", "-f", container_id], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=daemon.env)
    assert follower.stdout.readline() == "hi\n"  # it follows
    daemon.kill9()
    out, err = follower.communicate(timeout=20)
    assert out == ""
    assert follower.returncode == 1
    assert "daemon" in err and "Traceback" not in err
    daemon.start()
    # a request with a body in flight (load through the click path) when the daemon dies
    archive = tmp_path / "busybox.tar"
    daemon.berth("save", "-o", str(archive), "busybox")
    loader = subprocess.Popen([str(BIN / "berth"), "load", "-i", str(archive)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=daemon.env)
    daemon.kill9()
    _out, err = loader.communicate(timeout=20)
    assert "Traceback" not in err
    daemon.start()


def test_files_of_a_removal_cut_short_are_deleted_when_the_daemon_starts(fresh_daemon):
    daemon = fresh_daemon
    container_id = daemon.berth("run", "-d", "busybox", "true").stdout.strip()
    daemon.berth("wait", container_id)
    daemon.berth("rm", container_id)
    assert daemon.berth("ps", "-aq").stdout == ""
    leftover = daemon.data_root / "containers" / f".removed-{container_id}"
    (leftover / "diff").mkdir(parents=True)  # as a crash in the middle of deleting would leave it
    daemon.stop()
    daemon.start()
    assert not leftover.exists()
    assert daemon.berth("ps", "-aq").stdout == ""


def test_a_start_the_daemon_never_recorded_does_not_leave_a_second_copy_running(fresh_daemon):
    """kill -9 of the daemon after the monitor started the process but before the record said so: the
    record still says created (made here by writing it back), and the process must not run on."""
    import json

    daemon = fresh_daemon
    container_id = daemon.berth("create", "busybox", "sleep", "1000").stdout.strip()
    record = daemon.data_root / "containers" / container_id / "config.json"
    created = record.read_text()
    daemon.berth("start", container_id)
    pid = int(daemon.berth("inspect", "-f", "{{.State.Pid}}", container_id).stdout)
    daemon.kill9()
    record.write_text(created)  # the record as the crash left it: the start never saved
    assert json.loads(created)["state"]["status"] == "created"
    daemon.start()
    eventually(lambda: not os.path.exists(f"/proc/{pid}"), "the unrecorded process to end")
    assert daemon.berth("inspect", "-f", "{{.State.Status}}", container_id).stdout.strip() == "created"
    daemon.berth("start", container_id)
    cgroup_processes = daemon.berth("top", container_id).stdout.splitlines()[1:]
    assert len(cgroup_processes) == 1  # one sleep, not two


def test_a_commit_cut_short_by_a_crash_does_not_leave_the_container_frozen(fresh_daemon):
    """commit pauses a running container while it reads its layer; a kill -9 of the daemon then left
    the container frozen (made here by freezing its cgroup as commit does)."""
    from berth.runtime import cgroups

    daemon = fresh_daemon
    container_id = daemon.berth("run", "-d", "busybox", "sh", "-c", "while true; do date > /tmp/now; sleep 0.1; done").stdout.strip()
    cgroup = f"/{daemon.cgroup_parent}/{container_id}"
    cgroups.set_frozen(cgroup, True)
    daemon.kill9()
    daemon.start()
    assert daemon.berth("inspect", "-f", "{{.State.Status}}", container_id).stdout.strip() == "running"
    assert daemon.berth("exec", container_id, "echo", "thawed", timeout=20).stdout == "thawed\n"


def test_a_removal_cut_short_leaves_no_mounted_root_behind(fresh_daemon):
    daemon = fresh_daemon
    container_id = daemon.berth("run", "-d", "busybox", "sleep", "1000").stdout.strip()
    directory = daemon.data_root / "containers" / container_id
    pid = int(daemon.berth("inspect", "-f", "{{.State.Pid}}", container_id).stdout)
    daemon.kill9()
    os.kill(pid, 9)  # `rm -f` had killed the process and dropped the record, then the daemon died
    (directory / "config.json").unlink()
    eventually(lambda: not os.path.exists(f"/proc/{pid}"), "the container's process to end")
    assert os.path.ismount(directory / "rootfs")
    daemon.start()
    assert not directory.exists()
    assert not os.path.ismount(directory / "rootfs")
