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
