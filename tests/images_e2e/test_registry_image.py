"""The course's private registry: `make registry-image` builds registry:2 with berth's builder, and
`run -d -p 5000:5000 --restart always --name registry registry:2` serves the publishing chapter,
survives a kill of its process and a daemon restart, and keeps its data in its volume."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.daemon_harness import Daemon
from tests.distribution.test_push_pull import new_image
from tests.registries import answers
from tests.waiting import eventually

ROOT = Path(__file__).resolve().parent.parent.parent
REGISTRY = "127.0.0.1:5000"


def serving(daemon: Daemon) -> bool:
    return answers(daemon.netns, "127.0.0.1", 5000)


def test_the_course_s_registry_image_serves_pushes_and_pulls_and_keeps_them(fresh_daemon):
    daemon = fresh_daemon
    subprocess.run(["bash", str(ROOT / "scripts" / "registry_image.sh")], env=daemon.env, check=True,
                   capture_output=True, cwd=ROOT)
    config = daemon.berth("image", "inspect", "-f", "{{json .Config.Volumes}} {{json .Config.ExposedPorts}}",
                          "registry:2").stdout.strip()
    assert config == '{"/var/lib/registry":{}} {"5000/tcp":{}}'
    daemon.berth("run", "-d", "-p", "5000:5000", "--restart", "always", "--name", "registry", "registry:2")
    eventually(lambda: serving(daemon), "the registry to listen on port 5000")

    name = new_image(daemon, f"{REGISTRY}/helloworld")
    assert "Pushed" in daemon.berth("push", name).stdout
    daemon.berth("rmi", name)
    assert daemon.berth("run", "--rm", name, "cat", "/made-by-test").stdout == f"{name}\n"

    os.kill(int(daemon.berth("inspect", "-f", "{{.State.Pid}}", "registry").stdout), 9)  # its process dies
    eventually(lambda: daemon.berth("inspect", "-f", "{{.RestartCount}}", "registry").stdout.strip() == "1",
               "the restart policy to start it again")
    eventually(lambda: serving(daemon), "the registry to listen again")
    daemon.berth("rmi", name)
    assert "Pull complete" in daemon.berth("pull", name).stdout  # the data outlived the process

    daemon.stop()
    daemon.start()
    eventually(lambda: serving(daemon), "the registry to come back with the daemon", timeout=20)
    daemon.berth("rmi", name)
    assert "Pull complete" in daemon.berth("pull", name).stdout


def test_berth_s_own_registry_runs_as_a_container_too(daemon):
    subprocess.run(["bash", str(ROOT / "scripts" / "registry_image.sh")], env=daemon.env, check=True,
                   capture_output=True, cwd=ROOT)
    daemon.berth("run", "-d", "-p", "5001:5000", "--name", "berth-registry", "berth/registry")
    eventually(lambda: answers(daemon.netns, "127.0.0.1", 5001), "berth's registry to listen on port 5001")
    name = new_image(daemon, "127.0.0.1:5001/from/berth-registry")
    assert "Pushed" in daemon.berth("push", name).stdout
    daemon.berth("rmi", name)
    assert "Pull complete" in daemon.berth("pull", name).stdout
    volume = daemon.berth("inspect", "-f", "{{range .Mounts}}{{.Destination}}{{end}}", "berth-registry").stdout
    assert volume.strip() == "/var/lib/registry"
    daemon.berth("rm", "-f", "-v", "berth-registry")
    daemon.berth("rmi", name, "berth/registry", "registry:2")
