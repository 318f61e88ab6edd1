"""Fixtures for images end to end: the docker CLI against berthd, and a private real dockerd."""
from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.daemon_harness import Daemon, kill_processes_under, unmount_under
from tests.waiting import eventually

DOCKER = shutil.which("docker")
DOCKERD = shutil.which("dockerd")


def run(argv: list[str], env: dict[str, str] | None = None, input: str | bytes | None = None,
        check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run a command; text in and out unless `input` is bytes."""
    result = subprocess.run(argv, input=input, capture_output=True, text=not isinstance(input, bytes),
                            env=env, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return result


def docker(daemon: Daemon, *args: str, **kwargs) -> subprocess.CompletedProcess:
    """The real docker CLI (docker 28) against berthd."""
    assert DOCKER, "the docker CLI is part of these machines (scripts/system-deps.sh installs docker.io)"
    return run([DOCKER, *args], env=daemon.env, **kwargs)


def lines(result: subprocess.CompletedProcess) -> list[str]:
    return result.stdout.splitlines()


def image_id(daemon: Daemon, name: str) -> str:
    return daemon.berth("image", "inspect", "-f", "{{.Id}}", name).stdout.strip()


class RealDockerd:
    """Debian's dockerd in a private data root, exec root and socket, inside the test's namespaces."""

    def __init__(self, base: Path) -> None:
        assert DOCKERD and DOCKER, "dockerd is part of these machines (scripts/system-deps.sh installs docker.io)"
        self.base = base
        self.socket = base / "d.sock"
        self.env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "DOCKER_HOST": f"unix://{self.socket}",
                    "HOME": str(base)}
        self.log = open(base / "dockerd.log", "wb")
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        base = self.base
        self.process = subprocess.Popen(
            [DOCKERD, "--data-root", str(base / "data"), "--exec-root", str(base / "run"),
             "--pidfile", str(base / "docker.pid"), "-H", f"unix://{self.socket}", "--bridge", "none",
             "--iptables=false", "--ip6tables=false", "--ip-masq=false",
             "--containerd-namespace", "berth-test", "--containerd-plugins-namespace", "berth-test-p"],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        def answers() -> bool:
            if self.process.poll() is not None:
                raise RuntimeError(f"dockerd exited:\n{(base / 'dockerd.log').read_text()}")
            return self.docker("version", check=False).returncode == 0

        eventually(answers, "dockerd to answer", timeout=60, interval=0.2)

    def docker(self, *args: str, **kwargs) -> subprocess.CompletedProcess:
        assert DOCKER
        return run([DOCKER, *args], env=self.env, **kwargs)

    def image_id(self, name: str) -> str:
        return json.loads(self.docker("image", "inspect", name).stdout)[0]["Id"]

    def close(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        kill_processes_under(self.base)
        unmount_under(self.base)
        self.log.close()
        shutil.rmtree(self.base, ignore_errors=True)


@pytest.fixture(scope="module")
def real_dockerd() -> Iterator[RealDockerd]:
    """A real dockerd of the module's own, started once (its start costs seconds)."""
    dockerd = RealDockerd(Path(tempfile.mkdtemp(prefix="berth-dockerd-")))
    try:
        dockerd.start()
        yield dockerd
    finally:
        dockerd.close()
