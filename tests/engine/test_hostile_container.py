"""What root in a container tries against the runtime and the host, and must fail at."""
from __future__ import annotations

import os
import struct

from tests.waiting import eventually

CAP_DAC_OVERRIDE = 1

# Root in the container watches /proc for a process that is not its own busybox (the runtime's
# helper between joining the container and execve) and notes what it could reach of it: the
# host's executable, its open descriptors, its memory (CVE-2019-5736's way out).
PROC_WATCHER = r"""
: > /tmp/hits
while :; do
  for p in /proc/[0-9]*; do
    exe=$(readlink $p/exe 2>/dev/null) || continue
    [ "$exe" = /bin/busybox ] && continue
    { echo "exe $p $exe"; ls -l $p/fd/ 2>&1; (exec 3<$p/mem) 2>/dev/null && echo "mem $p opened"; } >> /tmp/hits
  done
  touch /tmp/looped
done
"""
# The helper looks the command up on PATH after taking the container's capabilities: a PATH of
# some 30000 entries keeps it there for tens of milliseconds, which the watcher cannot miss.
SLOW_PATH = ":".join(["/x"] * 30000) + ":/bin"


def test_the_launch_helper_is_out_of_reach_of_the_containers_processes(daemon):
    watcher = daemon.berth("run", "-d", "busybox", "sh", "-c", PROC_WATCHER).stdout.strip()
    eventually(lambda: daemon.berth("exec", watcher, "test", "-e", "/tmp/looped", check=False).returncode == 0,
               "the watcher to go round once")
    for _ in range(5):
        daemon.berth("exec", "-e", f"PATH={SLOW_PATH}", watcher, "true")
        daemon.berth("run", "--rm", "--pid", f"container:{watcher}", "-e", f"PATH={SLOW_PATH}", "busybox", "true")
    assert daemon.berth("exec", watcher, "cat", "/tmp/hits").stdout == ""


def capability_sets(status: str) -> dict[str, str]:
    return {key: value for key, value in (line.split(":\t") for line in status.splitlines()) if key.startswith("Cap")}


def test_no_process_has_inheritable_or_ambient_capabilities(daemon):
    status = "grep ^Cap /proc/self/status"
    container = daemon.berth("run", "-d", "busybox", "sleep", "100").stdout.strip()
    seen = [daemon.berth("run", "--rm", "busybox", "sh", "-c", status).stdout,
            daemon.berth("run", "--rm", "-u", "1000", "busybox", "sh", "-c", status).stdout,
            daemon.berth("exec", container, "sh", "-c", status).stdout,
            daemon.berth("exec", "-u", "1000", container, "sh", "-c", status).stdout]
    for sets in map(capability_sets, seen):  # as with Docker since CVE-2022-24769
        assert (sets["CapInh"], sets["CapAmb"]) == ("0000000000000000", "0000000000000000"), sets


def file_capabilities(inheritable: int) -> bytes:
    """A security.capability value (VFS_CAP_REVISION_2): these inheritable capabilities, effective."""
    return struct.pack("<IIIII", 0x02000000 | 0x1, 0, inheritable, 0, 0)


def test_a_user_gains_no_capability_from_a_files_inheritable_set(daemon):
    container = daemon.berth("run", "-d", "busybox", "sleep", "100").stdout.strip()
    daemon.berth("exec", container, "sh", "-c", "echo secret > /secret; chmod 600 /secret; mkdir /cap; "
                 "cp /bin/busybox /cap/busybox")
    pid = daemon.berth("inspect", "-f", "{{.State.Pid}}", container).stdout.strip()
    os.setxattr(f"/proc/{pid}/root/cap/busybox", "security.capability", file_capabilities(1 << CAP_DAC_OVERRIDE))
    as_user = ("exec", "-u", "1000", container, "/cap/busybox")
    status = daemon.berth(*as_user, "grep", "^Cap", "/proc/self/status").stdout
    assert capability_sets(status)["CapEff"] == "0000000000000000"
    result = daemon.berth(*as_user, "cat", "/secret", check=False)
    assert (result.returncode, result.stdout) == (1, "")
    assert "Permission denied" in result.stderr
