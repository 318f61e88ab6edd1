"""What root in a container tries against the runtime and the host, and must fail at."""
from __future__ import annotations

from tests.waiting import eventually

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
