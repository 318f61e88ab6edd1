"""The first drivers in a network namespace the test makes (never the host's): joining `none` or
`host` wires nothing, so a `none` sandbox holds loopback and nothing else."""
from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyroute2 import NetNS

from berth.daemon.networks import NetworkService
from berth.network.drivers import HostDriver, NetworkSpec, NullDriver, Sandbox
from tests.waiting import eventually

pytestmark = pytest.mark.root


@pytest.fixture
def sandbox() -> Iterator[int]:
    """The pid of a process in a network namespace of its own, made for the test."""
    process = subprocess.Popen(["unshare", "--net", "sleep", "60"])
    try:
        own = os.readlink("/proc/self/ns/net")
        eventually(lambda: os.readlink(f"/proc/{process.pid}/ns/net") != own, "the new namespace")
        yield process.pid
    finally:
        process.kill()
        process.wait()


def links(netns: str) -> list[tuple[str, str]]:
    with NetNS(netns) as ns:
        return [(link.get_attr("IFLA_IFNAME"), link.get_attr("IFLA_OPERSTATE")) for link in ns.get_links()]


def test_joining_none_leaves_loopback_alone_in_the_sandbox(sandbox: int) -> None:
    netns = f"/proc/{sandbox}/ns/net"
    before = links(netns)
    assert [name for name, _ in before] == ["lo"]
    driver, spec = NullDriver(), NetworkSpec("0" * 64, "none", "null", {})
    assert driver.sandbox(spec) is Sandbox.OWN
    assert driver.join(spec, "1" * 64, netns) == {}  # no address, no MAC: nothing to show
    assert links(netns) == before
    driver.leave(spec, "1" * 64)
    assert links(netns) == before


def test_joining_host_wires_nothing_either(sandbox: int) -> None:
    netns = f"/proc/{sandbox}/ns/net"
    before = links(netns)
    driver, spec = HostDriver(), NetworkSpec("0" * 64, "host", "host", {})
    assert driver.sandbox(spec) is Sandbox.HOST  # the container runs in the host's; this one stands in
    assert driver.join(spec, "1" * 64, netns) == {}
    assert links(netns) == before


def test_the_service_joins_a_sandbox_by_its_process(sandbox: int, tmp_path: Path) -> None:
    service = NetworkService(tmp_path)
    endpoints = service.join("c" * 64, ["none"], sandbox, name="web")
    assert endpoints["none"]["SandboxKey"] == f"/proc/{sandbox}/ns/net"
    assert [name for name, _ in links(endpoints["none"]["SandboxKey"])] == ["lo"]
    assert service.sandbox_of("c" * 64)["Key"] == f"/proc/{sandbox}/ns/net"  # type: ignore[index]
    service.leave("c" * 64)
    assert service.sandbox_of("c" * 64) is None and service.endpoints() == []


def test_a_start_after_a_killed_daemon_gets_a_live_namespace(tmp_path: Path) -> None:
    """A daemon killed while a container ran left its sandbox record; the next start of that container
    clears it and still gets a namespace file that holds a namespace."""
    service = NetworkService(tmp_path, sandboxes_dir=tmp_path / "netns")
    first, _ = service.attach("c" * 64, "web", {})
    second, _ = service.attach("c" * 64, "web", {})  # no leave in between: the daemon was killed
    try:
        assert second == first and os.stat(second).st_dev != os.stat(tmp_path / "netns").st_dev
        assert service.sandbox_of("c" * 64)["Key"] == second  # type: ignore[index]
    finally:
        service.leave("c" * 64)
    assert not Path(second).exists()
