"""Debian's docker-compose 1.29 against berthd (issue 11): a project of three services, one built from a
Dockerfile and published on a host port with a healthcheck, one with a named volume, one scaled, on
the project's own network, goes through up, ps, exec, logs, restart, scale and down -v."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.daemon_harness import Daemon
from tests.netprobe import fetch
from tests.waiting import eventually

COMPOSE = shutil.which("docker-compose")
PROJECT = """\
version: "3.8"
services:
  web:
    build: .
    ports:
      - "8089:80"
    depends_on:
      - store
    environment:
      - GREETING=hello from compose
    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "-", "http://127.0.0.1:80/hostname"]
      interval: 1s
  store:
    image: busybox
    command: sh -c "echo stored > /data/kept; echo store ready; sleep 1000"
    volumes:
      - data:/data
  worker:
    image: busybox
    command: sleep 1000
volumes:
  data:
"""
DOCKERFILE = """\
FROM busybox
RUN mkdir -p /www && echo served > /www/hostname
CMD ["httpd", "-f", "-p", "80", "-h", "/www"]
"""


@pytest.fixture
def compose(daemon: Daemon, tmp_path: Path):
    assert COMPOSE, "docker-compose is part of these machines: scripts/system-deps.sh installs it"
    (tmp_path / "docker-compose.yml").write_text(PROJECT)
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run([COMPOSE, "-p", "berthcourse", *args], cwd=tmp_path, capture_output=True,
                                text=True, env=daemon.env, timeout=180)
        if check and result.returncode != 0:
            raise AssertionError(f"docker-compose {' '.join(args)} exited {result.returncode}:\n"
                                 f"{result.stdout}{result.stderr}")
        return result

    try:
        yield run
    finally:
        run("down", "-v", "--rmi", "local", check=False)


def test_a_compose_project_runs_on_berthd(daemon: Daemon, compose) -> None:
    compose("up", "-d")
    states = compose("ps").stdout
    assert all(f"berthcourse_{service}_1" in states for service in ("web", "store", "worker"))
    eventually(lambda: "(healthy)" in compose("ps", "web").stdout, "the web service's healthcheck to pass")
    # services find each other by name on the project's network; the named volume holds the store's data
    assert compose("exec", "-T", "worker", "wget", "-q", "-O", "-", "http://web/hostname").stdout == "served\n"
    assert compose("exec", "-T", "store", "cat", "/data/kept").stdout == "stored\n"
    assert "store ready" in compose("logs", "store").stdout
    assert fetch(str(daemon.netns), "127.0.0.1", 8089).endswith("\r\n\r\nserved\n")  # the published port
    compose("restart", "worker")
    compose("up", "-d", "--scale", "worker=2")
    assert len(compose("ps", "-q", "worker").stdout.split()) == 2
    compose("down", "-v")
    assert "berthcourse" not in daemon.berth("ps", "-a").stdout
    assert "berthcourse_data" not in daemon.berth("volume", "ls").stdout
    assert "berthcourse_default" not in daemon.berth("network", "ls").stdout
