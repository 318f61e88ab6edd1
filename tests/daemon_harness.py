"""A berthd per test (or per session): its own data root, exec root, socket and cgroup parent,
and a cleanup that ends every process, mount and cgroup it made."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from berth.linux import syscalls
from tests.waiting import eventually

BIN = Path(sys.executable).parent


def isolate() -> None:
    """Move this process into fresh network and mount namespaces (only `lo`, up): what it starts
    never touches the host's network and leaves no mount behind. The suite and bench/ use it."""
    syscalls.unshare(syscalls.CLONE_NEWNET | syscalls.CLONE_NEWNS)
    syscalls.mount(None, "/", None, syscalls.MS_REC | syscalls.MS_PRIVATE)
    from pyroute2 import IPRoute

    with IPRoute() as ipr:
        ipr.link("set", index=ipr.link_lookup(ifname="lo")[0], state="up")


def make_host_netns(path: Path) -> None:
    """A network namespace at `path` with `lo` up: a daemon's host, so that two daemons of the suite
    never share a bridge, an address or a firewall table."""
    from pyroute2 import IPRoute

    from berth.network import netns

    netns.create(path)
    with netns.entered(str(path)):
        ipr = IPRoute()
    with ipr:
        ipr.link("set", index=ipr.link_lookup(ifname="lo")[0], state="up")


def is_namespace(path: Path) -> bool:
    """Whether `path` holds a namespace (is bind-mounted from nsfs), not only the empty file."""
    try:
        return path.stat().st_dev != path.parent.stat().st_dev
    except FileNotFoundError:
        return False


class Daemon:
    """A berthd process with its own data root, exec root, socket and network namespace."""

    def __init__(self, base: Path, config: dict | None = None) -> None:
        self.base = base
        self.data_root = base / "data"
        self.exec_root = base / "run"
        self.socket = base / "berth.sock"
        self.host = f"unix://{self.socket}"
        self.config_file = base / "daemon.json"
        self.log_file = base / "berthd.log"
        self.cgroup_parent = f"berth-test-{base.name}"
        self.config = {"cgroup-parent": self.cgroup_parent, **(config or {})}
        self.netns = base / "host-netns"  # the daemon's "host" network: its bridges, rules and ports
        self.process: subprocess.Popen | None = None

    @property
    def env(self) -> dict[str, str]:
        env = dict(os.environ, BERTH_HOST=self.host, DOCKER_HOST=self.host)
        env["PATH"] = f"{BIN}:{env.get('PATH', '')}"
        return env

    def start(self) -> None:
        self.config_file.write_text(json.dumps(self.config))
        if not is_namespace(self.netns):  # first start, or the machine "rebooted"
            self.netns.unlink(missing_ok=True)
            make_host_netns(self.netns)
        log = open(self.log_file, "ab")
        netns_fd = os.open(self.netns, os.O_RDONLY)
        try:
            self.process = subprocess.Popen(
                [str(BIN / "berthd"), "--data-root", str(self.data_root), "--exec-root", str(self.exec_root),
                 "-H", self.host, "--config-file", str(self.config_file), "--debug"],
                stdout=log, stderr=subprocess.STDOUT, env=self.env, start_new_session=True, pass_fds=(netns_fd,),
                preexec_fn=lambda: syscalls.setns(netns_fd, syscalls.CLONE_NEWNET),
            )
        finally:
            os.close(netns_fd)
        def answers() -> bool:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"berthd exited {self.process.returncode}:\n{self.log_file.read_text()}")
            return self.socket.exists() and self.berth("version", check=False).returncode == 0

        try:
            eventually(answers, "berthd to answer", timeout=20, interval=0.05)
        except AssertionError:
            raise RuntimeError(f"berthd did not answer:\n{self.log_file.read_text()}") from None

    def kill9(self) -> None:
        """Kill the daemon as a crash would, leaving its containers running."""
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def berth(self, *args: str, input: str | bytes | None = None, stdin: IO[bytes] | None = None,
              check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
        """Run the berth CLI against this daemon; text in, text out (bytes with bytes `input` or a
        `stdin` file)."""
        text = stdin is None and not isinstance(input, bytes)
        result = subprocess.run([str(BIN / "berth"), *args], input=input, stdin=stdin, capture_output=True,
                                text=text, env=self.env, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"berth {' '.join(args)} exited {result.returncode}:\n"
                                 f"{result.stdout}\n{result.stderr}")
        return result

    def run_refused(self, *flags: str) -> str:
        """`berth run --rm FLAGS busybox true`, which must be refused as docker refuses a bad request
        (exit 125); what it printed on stderr."""
        result = self.berth("run", "--rm", *flags, "busybox", "true", check=False)
        assert result.returncode == 125, (flags, result.stdout, result.stderr)
        return result.stderr

    def cleanup(self) -> None:
        """Stop the daemon, end every process it started, unmount and remove its files."""
        self.stop()
        kill_processes_under(self.base)
        unmount_under(self.base)
        remove_cgroups(self.cgroup_parent)
        shutil.rmtree(self.base, ignore_errors=True)


def dockerd_command(base: Path, *flags: str) -> list[str]:
    """Debian's dockerd with everything of its own under `base` (its containerd in namespaces of its own)."""
    tag = hashlib.sha256(str(base).encode()).hexdigest()[:12]  # containerd takes [A-Za-z0-9] words only
    return [shutil.which("dockerd") or "dockerd", "--data-root", str(base / "data"), "--exec-root", str(base / "run"),
            "--pidfile", str(base / "docker.pid"), "-H", f"unix://{base / 'engine.sock'}",
            "--containerd-namespace", f"ns-{tag}", "--containerd-plugins-namespace", f"plugins-{tag}",
            "--storage-driver", "overlay2", *flags]


def kill_processes_under(base: Path) -> None:
    """SIGKILL every process whose command line or working files mention `base`, and its cgroup kids;
    return once they are gone."""
    marker = str(base)
    victims: set[int] = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            environ = (entry / "environ").read_bytes().decode(errors="replace")
        except OSError:
            continue
        try:
            root = os.readlink(entry / "root")
        except OSError:
            root = ""
        if marker in cmdline or marker in environ or root.startswith(marker):
            victims.add(int(entry.name))
    for pid_file in base.rglob("*.pid") if base.exists() else []:
        try:
            victims.add(int(pid_file.read_text().strip()))
        except (OSError, ValueError):
            pass
    _kill(victims)
    eventually(lambda: not any(_running(pid) for pid in victims), "the killed processes to be gone")


def _running(pid: int) -> bool:
    """Whether `pid` is a process that has not ended (a zombie has)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


def remove_cgroups(parent: str, timeout: float = 10) -> None:
    """Remove the cgroup directories a test daemon made, in every hierarchy, deepest first. A cgroup
    whose processes are still dying (killed a moment ago) cannot go yet: they are killed again and
    the removal retried until none is left."""
    def all_removed() -> bool:
        left = []
        for hierarchy in Path("/sys/fs/cgroup").iterdir():
            top = hierarchy / parent
            if not top.is_dir():
                continue
            for directory, _subdirs, _files in os.walk(top, topdown=False):
                try:
                    os.rmdir(directory)
                except OSError:
                    left.append(directory)
                    _kill_members(Path(directory))
        return not left

    eventually(all_removed, f"the cgroups under {parent} to be removed", timeout=timeout, interval=0.05)


def _kill_members(cgroup: Path) -> None:
    try:
        _kill(int(pid) for pid in (cgroup / "cgroup.procs").read_text().split())
    except (OSError, ValueError):
        pass


def _kill(pids: Iterable[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def unmount_under(base: Path) -> None:
    prefix = str(base)
    with open("/proc/self/mountinfo") as mountinfo:
        targets = [line.split()[4] for line in mountinfo]
    for target in sorted((t for t in targets if t.startswith(prefix)), key=len, reverse=True):
        try:
            syscalls.umount2(target, syscalls.MNT_DETACH)
        except OSError:
            pass


@contextmanager
def running_daemon(busybox_tar: Path, config: dict | None = None) -> Iterator[Daemon]:
    """A started daemon with busybox:latest imported, cleaned up afterwards whatever happens."""
    daemon = new_daemon(config)
    try:
        daemon.start()
        daemon.berth("import", "-c", 'CMD ["sh"]', str(busybox_tar), "busybox:latest")
        yield daemon
    finally:
        daemon.cleanup()


def new_daemon(config: dict | None = None) -> Daemon:
    return Daemon(Path(tempfile.mkdtemp(prefix="berth-test-")), config)
