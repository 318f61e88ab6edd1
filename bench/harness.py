"""Start berthd and (when installed) Debian's dockerd side by side, each in its own temporary root,
inside a private network namespace, with a busybox image imported into both."""
from __future__ import annotations

import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from berth.linux.syscalls import CLONE_NEWNET, setns  # noqa: E402
from tests.daemon_harness import dockerd_command, isolate, make_host_netns, remove_cgroups  # noqa: E402,F401 - the suite's helpers

BIN = Path(sys.executable).parent
DOCKER = shutil.which("docker")
DOCKERD = shutil.which("dockerd")
BERTHD_CGROUP_PARENT = "berth-bench"


class Engine:
    def __init__(self, name: str, argv: Callable[[Path], list[str]], cli: str) -> None:
        self.name = name
        self.base = Path(tempfile.mkdtemp(prefix=f"bench-{name}-"))
        self.socket = self.base / "engine.sock"
        self.host = f"unix://{self.socket}"
        self.cli = cli
        self.log = open(self.base / "daemon.log", "wb")
        # each engine's host is a network namespace of its own: their bridges and firewall rules
        # (dockerd's FORWARD policy DROP among them) never meet
        self.netns = self.base / "host-netns"
        make_host_netns(self.netns)
        netns_fd = os.open(self.netns, os.O_RDONLY)
        try:
            self.process = subprocess.Popen(argv(self.base), stdout=self.log, stderr=subprocess.STDOUT,
                                            start_new_session=True, pass_fds=(netns_fd,),
                                            preexec_fn=lambda: setns(netns_fd, CLONE_NEWNET))
        finally:
            os.close(netns_fd)
        deadline = time.monotonic() + 60
        while subprocess.run([cli, "-H", self.host, "version"], capture_output=True).returncode != 0:
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError(f"{name} did not start; see {self.base / 'daemon.log'}")
            time.sleep(0.2)

    def run(self, *args: str, cli: str | None = None, **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run([cli or self.cli, "-H", self.host, *args], capture_output=True, check=True, **kwargs)

    def import_busybox(self) -> None:
        rootfs = subprocess.run([sys.executable, str(ROOT / "scripts/busybox_rootfs.py")], capture_output=True,
                                check=True).stdout
        self.run("import", "-c", 'CMD ["sh"]', "-", "busybox:latest", input=rootfs)

    def close(self) -> None:
        for container in self.run("ps", "-aq").stdout.split():
            subprocess.run([self.cli, "-H", self.host, "rm", "-f", container], capture_output=True)
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        with open("/proc/self/mountinfo") as mountinfo:
            targets = [line.split()[4] for line in mountinfo if line.split()[4].startswith(str(self.base))]
        for target in sorted(targets, key=len, reverse=True):
            subprocess.run(["umount", "-l", target], capture_output=True)
        shutil.rmtree(self.base, ignore_errors=True)
        if self.name == "berthd":
            remove_cgroups(BERTHD_CGROUP_PARENT)


def start_berthd() -> Engine:
    def argv(base: Path) -> list[str]:
        (base / "daemon.json").write_text(f'{{"cgroup-parent": "{BERTHD_CGROUP_PARENT}"}}')
        return [str(BIN / "berthd"), "--data-root", str(base / "data"), "--exec-root", str(base / "run"),
                "-H", f"unix://{base / 'engine.sock'}", "--config-file", str(base / "daemon.json")]

    engine = Engine("berthd", argv, str(BIN / "berth"))
    engine.import_busybox()
    return engine


def start_dockerd() -> Engine | None:
    if not (DOCKERD and DOCKER):
        return None

    def argv(base: Path) -> list[str]:
        return dockerd_command(base, "--ip6tables=false")  # its default bridge and NAT, in its own network namespace

    engine = Engine("dockerd", argv, DOCKER)
    engine.import_busybox()
    return engine


def median_seconds(action: Callable[[], object], runs: int, warmup: int = 3) -> float:
    for _ in range(warmup):
        action()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def used_memory() -> int:
    """The system's used memory in bytes (MemTotal - MemAvailable), as `free` counts it."""
    values = {}
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            key, value = line.split(":")
            values[key] = int(value.split()[0]) * 1024
    return values["MemTotal"] - values["MemAvailable"]


def drop_caches() -> None:
    os.sync()
    Path("/proc/sys/vm/drop_caches").write_text("3\n")


def side_by_side(measure: Callable[[Engine, Path], dict[str, float]], prefix: str) -> dict[str, dict[str, float]]:
    """`measure(engine, scratch)` on berthd, then on dockerd (required), each in a fresh engine: results by name."""
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix=prefix, dir="/var/tmp") as scratch:
        for start in (start_berthd, start_dockerd):
            engine = start()
            if engine is None:
                raise SystemExit("dockerd is not installed: the comparison needs it (docker.io)")
            try:
                results[engine.name] = measure(engine, Path(scratch))
            finally:
                engine.close()
    return results
