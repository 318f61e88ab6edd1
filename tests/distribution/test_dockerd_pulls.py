"""What berth pushes, Docker itself pulls and runs: a dockerd beside the test daemon (same network
namespace, no bridge, no firewall rules of its own) pulls the image from berth's registry."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from berth.linux import syscalls
from tests.daemon_harness import dockerd_command, kill_processes_under, unmount_under
from tests.distribution.test_push_pull import new_image
from tests.registries import berth_registry
from tests.waiting import eventually

pytestmark = pytest.mark.docker_cli


def docker(host: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", "-H", host, *args], capture_output=True, text=True, timeout=120)


@contextmanager
def running_dockerd(namespace: Path) -> Iterator[str]:
    """A dockerd in the network namespace `namespace`; yields its host (unix://...)."""
    base = Path(tempfile.mkdtemp(prefix="berth-test-dockerd-"))
    host = f"unix://{base / 'engine.sock'}"
    fd = os.open(namespace, os.O_RDONLY)
    try:
        with open(base / "dockerd.log", "wb") as log:
            process = subprocess.Popen(dockerd_command(base, "--bridge", "none", "--iptables=false", "--ip6tables=false"),
                                       stdout=log, stderr=subprocess.STDOUT, pass_fds=(fd,), start_new_session=True,
                                       preexec_fn=lambda: syscalls.setns(fd, syscalls.CLONE_NEWNET))
    finally:
        os.close(fd)
    try:
        eventually(lambda: process.poll() is None and docker(host, "version").returncode == 0, "dockerd to answer",
                   timeout=60, interval=0.2)
        yield host
    finally:
        process.terminate()
        process.wait(30)
        kill_processes_under(base)
        unmount_under(base)
        shutil.rmtree(base, ignore_errors=True)


def test_dockerd_pulls_and_runs_what_berth_pushed(fresh_daemon, tmp_path):
    with berth_registry(fresh_daemon.netns, tmp_path / "registry") as registry:
        name = new_image(fresh_daemon, f"{registry}/for/dockerd")
        fresh_daemon.berth("push", name)
        with running_dockerd(fresh_daemon.netns) as host:
            pulled = docker(host, "pull", name)
            assert pulled.returncode == 0, pulled.stderr
            assert f"Status: Downloaded newer image for {name}:latest" in pulled.stdout
            ran = docker(host, "run", "--rm", "--network", "none", name, "cat", "/made-by-test")
            assert ran.stdout == f"{name}\n", ran.stderr
