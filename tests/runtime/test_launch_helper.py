"""The runtime's helper process between joining a container and execve: what it holds open there."""
from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable

from berth.runtime.launch import Launched, launch_container, launch_exec
from tests.runtime.conftest import make_spec
from tests.waiting import eventually

# The helper looks the command up on PATH as the container's user: a PATH of some 30000 entries
# keeps it there for tens of milliseconds, long enough to look at it from here.
SLOW_PATH = "PATH=" + ":".join(["/x"] * 30000) + ":/bin"
USER = {"uid": 1000, "gid": 1000}


def _helper_in_container() -> int | None:
    """Our child that is still this Python and has already become the container's user."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as file:
                status = dict(line.rstrip("\n").split(":\t", 1) for line in file if ":\t" in line)
            exe = os.readlink(f"/proc/{entry}/exe")
        except OSError:
            continue
        if (int(status["PPid"]) == os.getpid() and exe == os.path.realpath(sys.executable)
                and status["Uid"].split()[0] == str(USER["uid"])):
            return int(entry)
    return None


def open_fds_before_exec(launch: Callable[[], Launched]) -> dict[int, str]:
    """Launch in a thread, read the helper's open descriptors while it searches PATH, and wait for
    the process it becomes."""
    launched: list[Launched] = []
    thread = threading.Thread(target=lambda: launched.append(launch()))
    thread.start()
    try:
        helper = eventually(_helper_in_container, "the helper to become the container's user", interval=0.005)
        fds = {int(fd): os.readlink(f"/proc/{helper}/fd/{fd}") for fd in os.listdir(f"/proc/{helper}/fd")}
    finally:
        thread.join()
        for process in launched:
            os.waitpid(process.pid, 0)
    return fds


def assert_only_stdio_and_channel(fds: dict[int, str], stdio: tuple[int, int, int]) -> None:
    assert [fds[n] for n in (0, 1, 2)] == [os.readlink(f"/proc/self/fd/{fd}") for fd in stdio]
    others = [target for fd, target in fds.items() if fd > 2]
    assert len(others) == 1 and others[0].startswith("socket:"), fds  # the channel to the runtime


def test_an_exec_helper_holds_only_its_stdio_and_its_channel(bundle, reap):
    spec = bundle.write(make_spec(["sleep", "1000"]))
    init = launch_container(bundle.path, spec, None)
    reap.append(init.pid)
    read_end, write_end = os.pipe()
    stdio = (read_end, write_end, write_end)
    process = {"args": ["true"], "env": [SLOW_PATH], "cwd": "/", "user": USER}
    fds = open_fds_before_exec(lambda: launch_exec(init.pid, spec, process, stdio))
    assert_only_stdio_and_channel(fds, stdio)


def test_a_container_init_helper_holds_only_its_stdio_and_its_channel(bundle):
    spec = make_spec(["true"])
    spec["process"].update(env=[SLOW_PATH], user=USER)
    bundle.write(spec)
    read_end, write_end = os.pipe()
    stdio = (read_end, write_end, write_end)
    fds = open_fds_before_exec(lambda: launch_container(bundle.path, spec, stdio))
    assert_only_stdio_and_channel(fds, stdio)
