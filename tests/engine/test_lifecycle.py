"""Managing containers: list, inspect, stop, kill, wait, restart, rename, remove, top."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import time

import docker as docker_py

from berth.runtime import cgroups
from tests.waiting import eventually


def start(daemon, *args: str) -> str:
    return daemon.berth("run", "-d", *args).stdout.strip()


def test_ps_lists_running_containers_and_ps_a_all_of_them(daemon):
    running = start(daemon, "--name", "runner", "busybox", "sleep", "100")
    exited = start(daemon, "--name", "quitter", "busybox", "true")
    daemon.berth("wait", exited)
    table = daemon.berth("ps").stdout.splitlines()
    assert table[0].split() == ["CONTAINER", "ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"]
    assert [row.split()[0] for row in table[1:]] == [running[:12]]
    assert set(daemon.berth("ps", "-aq").stdout.split()) == {running[:12], exited[:12]}
    assert daemon.berth("ps", "-q", "--no-trunc").stdout.split() == [running]


def test_ps_filters_and_format(daemon):
    running = start(daemon, "--name", "alpha", "-l", "tier=web", "busybox", "sleep", "100")
    exited = start(daemon, "--name", "beta", "busybox", "sh", "-c", "exit 2")
    daemon.berth("wait", exited)
    assert daemon.berth("ps", "-aq", "--filter", "status=exited").stdout.split() == [exited[:12]]
    assert daemon.berth("ps", "-aq", "-f", "name=alph").stdout.split() == [running[:12]]
    assert daemon.berth("ps", "-aq", "-f", "label=tier=web").stdout.split() == [running[:12]]
    assert daemon.berth("ps", "-aq", "-f", f"id={exited[:6]}").stdout.split() == [exited[:12]]
    assert set(daemon.berth("ps", "-aq", "-f", "ancestor=busybox").stdout.split()) == {running[:12], exited[:12]}
    out = daemon.berth("ps", "-a", "--format", "{{.Names}} {{.Status}}", "-f", "name=beta").stdout
    assert out.startswith("beta Exited (2) ")


def test_ps_filters_by_order_exit_code_mount_and_network_as_dockerd_does(daemon, tmp_path):
    first = start(daemon, "--name", "first", "busybox", "sh", "-c", "exit 3")
    daemon.berth("wait", first)
    second = start(daemon, "--name", "second", "-v", f"{tmp_path}:/mnt", "busybox", "true")
    daemon.berth("wait", second)
    start(daemon, "--name", "third", "--network", "host", "busybox", "sleep", "100")

    def names(*filters: str) -> list[str]:
        flags = [flag for value in filters for flag in ("-f", value)]
        return daemon.berth("ps", "-a", "--format", "{{.Names}}", *flags).stdout.split()

    assert names("before=second") == ["first"] and names("since=first") == ["third", "second"]
    assert names("exited=3") == ["first"] and names("exited=0") == ["second"]
    assert names(f"volume={tmp_path}") == names("volume=/mnt") == ["second"]
    assert names("network=host") == ["third"] and names("network=bridge") == ["second", "first"]
    assert names("health=none", "is-task=false") == ["third", "second", "first"]
    assert names("is-task=true") == names("health=healthy") == names("expose=80") == []
    refused = {
        "status=bogus": "Invalid filter 'status=bogus'",
        "exited=abc": 'strconv.Atoi: parsing "abc": invalid syntax',
        "since=nosuch": "no such container nosuch",
        "expose=80-79": "error while looking up for expose 80-79: Invalid range specified for the Port: 80-79",
        "health=bogus": "Unrecognised filter value for health: bogus",
    }
    for value, message in refused.items():
        result = daemon.berth("ps", "-a", "-f", value, check=False)
        assert result.stderr == f"Error response from daemon: {message}\n", value


def test_container_prune_removes_the_stopped_containers_its_filters_select(daemon):
    start(daemon, "--name", "keep-running", "busybox", "sleep", "100")
    daemon.berth("create", "--name", "labelled", "-l", "keep=yes", "busybox", "true")
    daemon.berth("run", "--name", "wrote", "busybox", "sh", "-c", "head -c 100000 /dev/zero > /junk")
    for refused, message in {"until=bad": 'failed to parse value as time or duration: "bad"',
                             "bogus=1": "Invalid filter 'bogus'"}.items():
        result = daemon.berth("container", "prune", "-f", "--filter", refused, check=False)
        assert result.stderr == f"Error response from daemon: {message}\n"
    assert daemon.berth("container", "prune", "-f", "--filter", "until=1h").stdout == "Total reclaimed space: 0B\n"
    pruned = daemon.berth("container", "prune", "-f", "--filter", "label!=keep").stdout
    assert pruned.startswith("Deleted Containers:\n") and pruned.endswith("Total reclaimed space: 100kB\n")
    assert sorted(daemon.berth("ps", "-a", "--format", "{{.Names}}").stdout.split()) == ["keep-running", "labelled"]


def test_removing_all_containers_like_the_course_does(daemon):
    for _ in range(3):
        start(daemon, "busybox", "sleep", "100")
    stopped = start(daemon, "busybox", "true")
    daemon.berth("wait", stopped)
    exited_ids = daemon.berth("container", "ls", "-q", "-f", "status=exited").stdout.split()
    daemon.berth("container", "rm", *exited_ids)
    assert len(daemon.berth("ps", "-aq").stdout.split()) == 3
    refused = daemon.berth("rm", *daemon.berth("container", "ls", "-aq").stdout.split(), check=False)
    assert refused.returncode == 1
    assert "You cannot remove a running container" in refused.stderr
    daemon.berth("rm", "-f", *daemon.berth("container", "ls", "-aq").stdout.split())
    assert daemon.berth("ps", "-aq").stdout == ""


def test_inspect_has_dockers_shape(daemon):
    container_id = start(daemon, "--name", "shape", "busybox", "sleep", "100")
    [record] = json.loads(daemon.berth("inspect", container_id).stdout)
    assert record["Id"] == container_id
    assert record["Name"] == "/shape"
    assert record["State"]["Status"] == "running" and record["State"]["Running"] is True
    assert record["State"]["Pid"] > 0
    assert record["Path"] == "sleep" and record["Args"] == ["100"]
    assert record["Config"]["Image"] == "busybox"
    assert record["HostConfig"]["RestartPolicy"]["Name"] == "no"
    for key in ("Created", "Image", "LogPath", "Mounts", "NetworkSettings", "GraphDriver"):
        assert key in record
    # the overlay as mounted: the init layer, then the image's layers, under the writable diff
    mounted = next(line for line in open("/proc/self/mountinfo") if f" {record['GraphDriver']['Data']['MergedDir']} " in line)
    graph = record["GraphDriver"]["Data"]
    assert f"lowerdir={graph['LowerDir']},upperdir={graph['UpperDir']},workdir={graph['WorkDir']}" in mounted
    # as dockerd's types (omitempty): unset fields are left out, set ones (even 0) shown
    assert not {"ExposedPorts", "StopSignal", "StopTimeout"} & set(record["Config"])
    timed = start(daemon, "--stop-timeout", "0", "--expose", "80", "busybox", "sleep", "100")
    [record] = json.loads(daemon.berth("inspect", timed).stdout)
    assert (record["Config"]["StopTimeout"], record["Config"]["ExposedPorts"]) == (0, {"80/tcp": {}})
    assert json.loads(daemon.berth("inspect", "--format", "json", timed).stdout)[0]["Id"] == timed  # one line
    sizes = daemon.berth("inspect", "--size", "-f", "{{.SizeRw}} {{.SizeRootFs}}", timed).stdout.split()
    assert int(sizes[0]) >= 0 and int(sizes[1]) > 0


def test_stop_kill_wait_and_exit_codes(daemon):
    trapper = start(daemon, "busybox", "sh", "-c", "trap 'exit 7' TERM; while true; do sleep 0.1; done")
    daemon.berth("stop", trapper)
    assert daemon.berth("wait", trapper).stdout.strip() == "7"
    sleeper = start(daemon, "busybox", "sleep", "100")
    daemon.berth("kill", sleeper)
    assert daemon.berth("wait", sleeper).stdout.strip() == "137"
    assert daemon.berth("inspect", "-f", "{{.State.ExitCode}}", sleeper).stdout.strip() == "137"
    stubborn = start(daemon, "busybox", "sleep", "100")
    daemon.berth("stop", "-t", "1", stubborn)
    assert daemon.berth("inspect", "-f", "{{.State.Status}}", stubborn).stdout.strip() == "exited"


def test_kill_sends_the_chosen_signal(daemon):
    container_id = start(daemon, "busybox", "sh", "-c", "trap 'echo got USR1; exit 0' USR1; while true; do sleep 0.1; done")
    daemon.berth("kill", "-s", "USR1", container_id)
    assert daemon.berth("wait", container_id).stdout.strip() == "0"
    assert daemon.berth("logs", container_id).stdout == "got USR1\n"


def test_kill_takes_any_linux_signal_number_and_refuses_the_rest(daemon):
    container_id = start(daemon, "--name", "signalled", "busybox", "sh", "-c",
                         "trap 'echo got 40; exit 0' 40; while true; do sleep 0.1; done")
    refused = daemon.berth("kill", "-s", "99", "signalled", check=False)
    assert refused.stderr == ("Error response from daemon: Cannot kill container: signalled: "
                              "The linux daemon does not support signal 99\n")
    daemon.berth("kill", "-s", "40", "signalled")  # a real-time signal, which Python's enum lacks
    assert daemon.berth("wait", container_id).stdout == "0\n"
    assert daemon.berth("logs", container_id).stdout == "got 40\n"


def test_create_then_start_attached(daemon):
    container_id = daemon.berth("create", "busybox", "echo", "created first").stdout.strip()
    assert daemon.berth("inspect", "-f", "{{.State.Status}}", container_id).stdout.strip() == "created"
    assert daemon.berth("start", "-a", container_id).stdout == "created first\n"


def test_restart_runs_the_process_again(daemon):
    container_id = start(daemon, "busybox", "sh", "-c", "echo started; sleep 100")
    daemon.berth("restart", "-t", "0", container_id)
    assert daemon.berth("inspect", "-f", "{{.State.Running}}", container_id).stdout.strip() == "true"
    assert daemon.berth("logs", container_id).stdout == "started\nstarted\n"


def test_rename_and_missing_containers(daemon):
    container_id = start(daemon, "--name", "before", "busybox", "sleep", "100")
    daemon.berth("rename", "before", "after")
    assert daemon.berth("inspect", "-f", "{{.Name}}", container_id).stdout.strip() == "/after"
    missing = daemon.berth("rm", "nosuch", check=False)
    assert missing.returncode == 1
    assert "No such container: nosuch" in missing.stderr
    unrenamed = daemon.berth("rename", "nosuch", "other", check=False)
    assert unrenamed.returncode == 1
    assert unrenamed.stderr == ("Error response from daemon: No such container: nosuch\n"
                                "Error: failed to rename container named nosuch\n")
    start(daemon, "--name", "other", "busybox", "sleep", "100")
    for name, reason in {"other": 'Conflict. The container name "/other" is already in use by container',
                         "bad name": "Invalid container name (/bad name), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"}.items():
        refused = daemon.berth("rename", "after", name, check=False)
        assert refused.stderr.startswith(f"Error response from daemon: Error when allocating new name: {reason}")
    linked = daemon.berth("rm", "-l", "after", check=False)
    assert linked.stderr == "Error response from daemon: Conflict, cannot remove the default link name of the container\n"
    assert daemon.berth("rm", "-l", "after/alias", check=False).stderr == \
        "Error response from daemon: No such container: after/alias\n"


def test_top_lists_the_container_processes(daemon):
    container_id = start(daemon, "busybox", "sleep", "100")
    out = daemon.berth("top", container_id).stdout.splitlines()
    assert out[0].split()[:2] == ["UID", "PID"]
    assert len(out) == 2 and out[1].endswith("sleep 100")
    refused = daemon.berth("top", container_id, "bogusopt", check=False)
    assert refused.stderr == "Error response from daemon: ps: error: unsupported option (BSD syntax)\n"


def test_on_failure_restart_policy_retries_then_gives_up(daemon):
    container_id = start(daemon, "--restart", "on-failure:2", "busybox", "sh", "-c", "echo try; exit 1")
    eventually(lambda: daemon.berth("inspect", "-f", "{{.State.Status}} {{.RestartCount}}", container_id).stdout.split()
               == ["exited", "2"], "two restarts, then giving up")
    assert daemon.berth("logs", container_id).stdout == "try\ntry\ntry\n"


def test_always_restart_policy_restarts_until_stopped(daemon):
    container_id = start(daemon, "--restart", "always", "busybox", "sh", "-c", "sleep 0.2; exit 0")
    eventually(lambda: int(daemon.berth("inspect", "-f", "{{.RestartCount}}", container_id).stdout) >= 1,
               "a restart")
    daemon.berth("stop", container_id)
    status = daemon.berth("inspect", "-f", "{{.State.Status}}", container_id).stdout.strip()
    assert status == "exited"


def test_an_exited_container_keeps_its_writable_layer_until_removed(daemon):
    container_id = start(daemon, "busybox", "sh", "-c", "echo data > /kept; rm /etc/group")
    daemon.berth("wait", container_id)
    changes = daemon.berth("diff", container_id).stdout.splitlines()
    assert "A /kept" in changes and "D /etc/group" in changes
    layer = daemon.data_root / "containers" / container_id / "diff"
    assert (layer / "kept").read_text() == "data\n"
    daemon.berth("rm", container_id)
    assert not layer.exists()


def test_pause_freezes_the_processes_and_unpause_thaws_them(daemon):
    container_id = start(daemon, "busybox", "sh", "-c", "while true; do date +%s%N >> /ticks; sleep 0.05; done")
    ticks = daemon.data_root / "containers" / container_id / "diff" / "ticks"
    eventually(ticks.exists, "the first tick")
    daemon.berth("pause", container_id)
    assert daemon.berth("inspect", "-f", "{{.State.Status}} {{.State.Paused}}", container_id).stdout.split() == ["paused", "true"]
    assert "(Paused)" in daemon.berth("ps", "--format", "{{.Status}}").stdout
    frozen = ticks.read_text()
    time.sleep(0.4)  # eight ticks' time, frozen: the behaviour under test
    assert ticks.read_text() == frozen
    refused = daemon.berth("stop", container_id, check=False)
    assert "is paused. Unpause the container before stopping or killing" in refused.stderr
    daemon.berth("unpause", container_id)
    eventually(lambda: len(ticks.read_text()) > len(frozen), "a tick after the thaw")
    daemon.berth("rm", "-f", container_id)


def test_ps_size_and_system_df_count_the_writable_layer(daemon):
    container_id = start(daemon, "--name", "writer", "busybox", "sh", "-c", "head -c 5000 /dev/zero > /blob")
    daemon.berth("wait", container_id)
    size = daemon.berth("ps", "-a", "-s", "--format", "{{.Size}}", "-f", "name=writer").stdout.strip()
    assert size.startswith("5kB (virtual ")
    df = daemon.berth("system", "df", "-v").stdout
    assert "writer" in df and "5kB" in df


def test_stats_reads_the_containers_cgroups(daemon):
    start(daemon, "--name", "measured", "-m", "64m", "busybox", "sleep", "100")
    row = daemon.berth("stats", "--no-stream", "--format", "{{.Name}} {{.MemUsage}} {{.PIDs}}", "measured").stdout
    name, usage, _slash, limit, pids = row.split()
    assert (name, limit, pids) == ("measured", "64MiB", "1")
    assert usage.endswith(("B", "KiB", "MiB"))
    docker = subprocess.run([shutil.which("docker"), "stats", "--no-stream", "--format", "{{.Name}} {{.PIDs}}",
                             "measured"], capture_output=True, text=True, env=daemon.env, timeout=30)
    assert docker.stdout.split() == ["measured", "1"]
    if cgroups.hierarchies().v1.get("cpuacct"):  # what dockerd adds from cgroup v1: per-CPU time and the peak
        reading = docker_py.APIClient(base_url=daemon.host).stats("measured", stream=False)
        assert len(reading["cpu_stats"]["cpu_usage"]["percpu_usage"]) == os.cpu_count()
        assert reading["memory_stats"]["max_usage"] >= reading["memory_stats"]["usage"]


def test_update_changes_limits_of_a_running_container_and_its_restart_policy(daemon):
    updated = start(daemon, "--name", "updated", "busybox", "sleep", "100")
    daemon.berth("update", "-m", "32m", "--memory-swap", "64m", "--cpus", "0.5", "--pids-limit", "7",
                 "--restart", "on-failure:3", updated)
    limits = daemon.berth("exec", updated, "cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes",
                          "/sys/fs/cgroup/cpu/cpu.cfs_quota_us", "/sys/fs/cgroup/pids/pids.max").stdout.split()
    assert limits == [str(32 << 20), "50000", "7"]
    policy = daemon.berth("inspect", "-f", "{{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy."
                          "MaximumRetryCount}} {{.HostConfig.Memory}}", updated).stdout.split()
    assert policy == ["on-failure:3", str(32 << 20)]
    refused = daemon.berth("update", "-m", "128m", updated, check=False)  # above the swap limit set before
    assert "update the memoryswap at the same time" in refused.stderr
    docker = subprocess.run([shutil.which("docker"), "update", "-m", "48m", updated], capture_output=True,
                            text=True, env=daemon.env, timeout=30)
    assert docker.returncode == 0
    assert daemon.berth("exec", updated, "cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes").stdout.strip() == \
        str(48 << 20)
    daemon.berth("update", "--pids-limit", "-1", "--memory-reservation", "16m", updated)
    assert daemon.berth("exec", updated, "cat", "/sys/fs/cgroup/pids/pids.max",
                        "/sys/fs/cgroup/memory/memory.soft_limit_in_bytes").stdout.split() == ["max", str(16 << 20)]
    assert daemon.berth("inspect", "-f", "{{.HostConfig.PidsLimit}}", updated).stdout == "0\n"  # as dockerd stores it
    too_small = daemon.berth("update", "-m", "1m", updated, check=False)
    assert too_small.stderr == "Error response from daemon: Minimum memory limit allowed is 6MB\n"
