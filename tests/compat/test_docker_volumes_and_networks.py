"""docker volume and docker network through the real docker CLI: dockerd 20.10's answers and errors."""
from __future__ import annotations

import json

import pytest

from tests.compat.test_docker_cli import docker

pytestmark = pytest.mark.docker_cli


def refused(daemon, *args: str) -> str:
    result = docker(daemon, *args, check=False)
    assert result.returncode == 1, (args, result.stdout)
    return result.stderr


def test_docker_volume_options_errors_and_prune(daemon):
    try:
        docker(daemon, "volume", "create", "-o", "type=tmpfs", "-o", "device=tmpfs", "-o", "o=size=1m", "scratch")
        docker(daemon, "volume", "create", "idle")
        options = docker(daemon, "volume", "inspect", "-f", "{{json .Options}}", "scratch").stdout
        assert json.loads(options) == {"type": "tmpfs", "device": "tmpfs", "o": "size=1m"}
        assert "create x: volume name is too short" in refused(daemon, "volume", "create", "x")
        assert 'create bad: invalid option: "colour"' in refused(daemon, "volume", "create", "-o", "colour=red", "bad")
        assert 'error looking up volume plugin nfs: plugin "nfs" not found' in refused(daemon, "volume", "create",
                                                                                      "-d", "nfs", "far")
        assert "get nosuch: no such volume" in refused(daemon, "volume", "rm", "nosuch")
        docker(daemon, "volume", "rm", "-f", "nosuch")  # -f: a missing volume is no error
        pruned = docker(daemon, "volume", "prune", "-f").stdout
        assert pruned == "Deleted Volumes:\nidle\n\nTotal reclaimed space: 0B\n"  # scratch's data is elsewhere
        assert docker(daemon, "volume", "ls", "-q").stdout == "scratch\n"
    finally:
        docker(daemon, "volume", "rm", "-f", "scratch", "idle")


def test_docker_network_refusals_come_from_the_drivers_in_dockerd_s_words(daemon):
    assert "none is a pre-defined network and cannot be removed" in refused(daemon, "network", "rm", "none")
    assert 'only one instance of "host" network is allowed' in refused(daemon, "network", "create", "-d", "host",
                                                                        "second-host")
    assert 'plugin "weave" not found' in refused(daemon, "network", "create", "-d", "weave", "mesh")
    assert "operation is not permitted on predefined none network" in refused(daemon, "network", "create", "none")
    assert docker(daemon, "network", "ls", "-q").stdout.count("\n") == 3  # bridge, host, none: nothing made


def test_the_course_network_chapter_through_the_docker_cli(daemon):
    """Two containers on a user network reach each other by name; a published port answers; the
    docker CLI's own views (network ls/inspect, port, ps) show what dockerd would."""
    docker(daemon, "network", "create", "--subnet", "10.91.0.0/24", "course")
    try:
        docker(daemon, "run", "-d", "--name", "course-web", "--network", "course", "--network-alias", "site",
               "-p", "8088:80", "busybox", "httpd", "-f", "-p", "80", "-h", "/etc")
        fetched = docker(daemon, "run", "--rm", "--network", "course", "busybox", "sh", "-c",
                         "for i in 1 2 3 4 5; do wget -qO- http://site/hostname && break; sleep 0.2; done").stdout
        web_id = docker(daemon, "inspect", "-f", "{{.Id}}", "course-web").stdout.strip()
        assert fetched.strip() == web_id[:12]
        assert docker(daemon, "port", "course-web").stdout == "80/tcp -> 0.0.0.0:8088\n"
        assert docker(daemon, "ps", "-f", "name=course-web", "--format", "{{.Ports}}").stdout == "0.0.0.0:8088->80/tcp\n"
        inspected = json.loads(docker(daemon, "network", "inspect", "course").stdout)[0]
        assert inspected["IPAM"]["Config"] == [{"Subnet": "10.91.0.0/24", "Gateway": "10.91.0.1"}]
        assert inspected["Containers"][web_id]["Name"] == "course-web"
        docker(daemon, "network", "disconnect", "course", "course-web")
        assert "course" not in docker(daemon, "inspect", "-f", "{{json .NetworkSettings.Networks}}", "course-web").stdout
        assert "course" in docker(daemon, "network", "ls", "--format", "{{.Name}}").stdout.split()
    finally:
        docker(daemon, "rm", "-f", "course-web", check=False)
        docker(daemon, "network", "rm", "course", check=False)
