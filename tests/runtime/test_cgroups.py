"""Container cgroups: limits the container can see, membership, stats and removal."""
from __future__ import annotations

import os
from pathlib import Path

from berth.runtime import cgroups
from berth.runtime.launch import launch_container
from tests.runtime.conftest import make_spec, run_container


def limited_spec(args: list[str], path: str) -> dict:
    spec = make_spec(args)
    spec["linux"]["cgroupsPath"] = path
    spec["linux"]["resources"].update(memory={"limit": 64 * 1024 * 1024}, pids={"limit": 50},
                                      cpu={"shares": 512, "quota": 50000, "period": 100000})
    return spec


def test_memory_limit_is_visible_inside_and_on_the_host(bundle, reap, cgroup_parent):
    path = f"{cgroup_parent}/mem"
    code, out = run_container(bundle, limited_spec(
        ["cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/pids/pids.max",
         "/sys/fs/cgroup/cpu/cpu.shares", "/sys/fs/cgroup/cpu/cpu.cfs_quota_us"], path), reap)
    assert (code, out.split()) == (0, ["67108864", "50", "512", "50000"])
    host = Path(cgroups.hierarchies().v1["memory"]) / path.lstrip("/") / "memory.limit_in_bytes"
    assert host.read_text().strip() == "67108864"
    cgroups.remove_cgroup(path)
    assert not host.parent.exists()
    assert not any(os.path.exists(d) for d in cgroups.directories(path))


def test_the_process_is_in_its_cgroup_everywhere(bundle, reap, cgroup_parent):
    path = f"{cgroup_parent}/member"
    code, out = run_container(bundle, limited_spec(["cat", "/proc/self/cgroup"], path), reap)
    lines = out.splitlines()
    assert lines and all(line.endswith(":" + path) for line in lines)
    assert len(lines) == len(cgroups.directories(path))


def test_pids_and_stats_of_a_running_container(bundle, reap, cgroup_parent):
    path = f"{cgroup_parent}/stats"
    launched = launch_container(bundle.path, bundle.write(limited_spec(["sleep", "1000"], path)), None)
    reap.append(launched.pid)
    assert cgroups.cgroup_pids(path) == [launched.pid]
    stats = cgroups.read_stats(path)
    assert stats.memory_limit == 64 * 1024 * 1024
    assert stats.memory_usage > 0 and stats.pids == 1
    os.kill(launched.pid, 9)
    os.waitpid(launched.pid, 0)
    cgroups.remove_cgroup(path)
    assert cgroups.cgroup_pids(path) == []


def test_devices_outside_the_allow_list_are_refused(bundle, reap, cgroup_parent):
    spec = limited_spec(["sh", "-c", "mknod /tmp/sda b 8 0 && head -c1 /tmp/sda 2>&1; head -c1 /dev/zero | wc -c"],
                        f"{cgroup_parent}/devices")
    code, out = run_container(bundle, spec, reap)
    assert "Operation not permitted" in out and out.split()[-1] == "1"
