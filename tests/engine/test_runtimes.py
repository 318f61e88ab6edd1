"""daemon.json `runtimes`: the same container under berth's own runtime and under runc."""
from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator

import pytest

from tests.daemon_harness import Daemon, running_daemon

RUNC = shutil.which("runc")
PROBE = ("hostname; id; ls /; cat /proc/1/cmdline | tr '\\0' ' '; echo; ls /dev; grep -c . /proc/mounts; "
         "grep ^Seccomp: /proc/self/status; unshare -U true 2>/dev/null; echo unshare=$?")


@pytest.fixture
def two_runtime_daemon(busybox_tar) -> Iterator[Daemon]:
    assert RUNC, "runc is installed by scripts/system-deps.sh"
    with running_daemon(busybox_tar, {"runtimes": {"runc": {"path": RUNC}}}) as daemon:
        yield daemon


def test_the_same_container_runs_alike_under_berth_runtime_and_runc(two_runtime_daemon):
    daemon = two_runtime_daemon
    outputs = {}
    for runtime in ("berth", "runc"):
        outputs[runtime] = daemon.berth("run", "--rm", "--runtime", runtime, "--hostname", "same",
                                        "busybox", "sh", "-c", PROBE).stdout
    assert outputs["berth"] == outputs["runc"]
    assert outputs["berth"].startswith("same\nuid=0(root)")
    assert outputs["berth"].endswith("Seccomp:\t2\nunshare=1\n")  # runc applies berth's seccomp profile too


def test_runc_containers_are_managed_like_any_other(two_runtime_daemon):
    daemon = two_runtime_daemon
    container_id = daemon.berth("run", "-d", "--runtime", "runc", "busybox", "sleep", "100").stdout.strip()
    assert daemon.berth("inspect", "-f", "{{.HostConfig.Runtime}}", container_id).stdout.strip() == "runc"
    assert daemon.berth("exec", container_id, "echo", "exec under runc").stdout == "exec under runc\n"
    daemon.berth("kill", container_id)
    assert daemon.berth("wait", container_id).stdout.strip() == "137"


def test_an_unknown_runtime_is_refused(two_runtime_daemon):
    result = two_runtime_daemon.berth("run", "--rm", "--runtime", "nosuch", "busybox", "true", check=False)
    assert result.returncode == 125
    assert "unknown or invalid runtime name: nosuch" in result.stderr


def runc_state(daemon: Daemon, container_id: str) -> dict:
    """What runc itself records of the container (under the --root berthd gives it)."""
    root = daemon.exec_root / "runtime" / "runc"
    return json.loads(subprocess.run([RUNC, "--root", str(root), "state", container_id], capture_output=True,
                                     check=True).stdout)


def test_runc_is_asked_to_pause_update_and_list_its_containers(two_runtime_daemon):
    daemon = two_runtime_daemon
    container_id = daemon.berth("run", "-d", "--runtime", "runc", "busybox", "sleep", "100").stdout.strip()
    daemon.berth("pause", container_id)
    assert runc_state(daemon, container_id)["status"] == "paused"
    daemon.berth("unpause", container_id)
    assert runc_state(daemon, container_id)["status"] == "running"
    daemon.berth("update", "--memory", "64m", "--memory-swap", "128m", container_id)
    recorded = json.loads((daemon.exec_root / "runtime" / "runc" / container_id / "state.json").read_text())
    assert recorded["config"]["cgroups"]["memory"] == 64 * 2**20  # runc's own record of the new limit
    assert "sleep 100" in daemon.berth("top", container_id).stdout
    daemon.berth("rm", "-f", container_id)
