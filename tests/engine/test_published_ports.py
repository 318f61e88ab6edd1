"""Published ports, the way out, and networks kept apart (issue 8): real traffic from another "host"
(a namespace wired to the daemon's), from the daemon's host itself, and between containers."""
from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from nftables import Nftables
from pyroute2 import IPRoute

from berth.network import netns
from tests.daemon_harness import Daemon
from tests.netprobe import fetch
from tests.waiting import eventually

HOST_ADDRESS, OUTSIDE_ADDRESS = "192.0.2.1", "192.0.2.2"  # TEST-NET-1: the daemon's host, another host


@pytest.fixture
def outside(daemon: Daemon, tmp_path: Path) -> Iterator[str]:
    """Another host: a namespace joined to the daemon's by a veth pair; its namespace file."""
    path = tmp_path / "outside"
    netns.create(path)
    with netns.entered(str(daemon.netns)):
        host = IPRoute()
    with host, open(path) as namespace:
        host.link("add", ifname="vtest-host", kind="veth", peer={"ifname": "vtest-out", "net_ns_fd": namespace.fileno()})
        index = host.link_lookup(ifname="vtest-host")[0]
        host.addr("add", index=index, address=HOST_ADDRESS, prefixlen=24)
        host.link("set", index=index, state="up")
    with netns.entered(str(path)):
        other = IPRoute()
    with other:
        index = other.link_lookup(ifname="vtest-out")[0]
        other.addr("add", index=index, address=OUTSIDE_ADDRESS, prefixlen=24)
        other.link("set", index=index, state="up")
        other.link("set", index=other.link_lookup(ifname="lo")[0], state="up")
    try:
        yield str(path)
    finally:
        with netns.entered(str(daemon.netns)):
            host = IPRoute()
        with host:
            host.link("del", ifname="vtest-host")  # now: a namespace ends some time after its last user
        netns.remove(path)


def web_server(daemon: Daemon, *flags: str) -> str:
    """A container serving its /etc on port 80 with busybox httpd (GET /hostname: its hostname)."""
    return daemon.berth("run", "-d", *flags, "busybox", "httpd", "-f", "-p", "80", "-h", "/etc").stdout.strip()


def test_a_published_port_is_reached_from_another_host_the_host_itself_and_containers(daemon: Daemon,
                                                                                     outside: str) -> None:
    web = web_server(daemon, "-p", "8080:80")
    try:
        expected = web[:12]
        eventually(lambda: expected in fetch(outside, HOST_ADDRESS, 8080), "the server to answer from outside")
        host = str(daemon.netns)
        assert expected in fetch(host, "127.0.0.1", 8080)  # through loopback
        assert expected in fetch(host, HOST_ADDRESS, 8080)
        hairpin = daemon.berth("run", "--rm", "busybox", "wget", "-qO-", f"http://{HOST_ADDRESS}:8080/hostname")
        assert expected in hairpin.stdout  # from another container, through the host's address
        assert daemon.berth("port", web).stdout == "80/tcp -> 0.0.0.0:8080\n"
        assert daemon.berth("ps", "--format", "{{.Ports}}", "-f", f"id={web}").stdout == "0.0.0.0:8080->80/tcp\n"
        ports = json.loads(daemon.berth("inspect", web).stdout)[0]["NetworkSettings"]["Ports"]
        assert ports == {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}]}
        taken = daemon.berth("run", "-d", "-p", "8080:80", "--name", "second", "busybox", "true", check=False)
        assert taken.returncode == 125 and "Bind for 0.0.0.0:8080 failed: port is already allocated" in taken.stderr
        assert json.loads(daemon.berth("inspect", "second").stdout)[0]["State"]["Status"] == "created"
    finally:
        daemon.berth("rm", "-f", web, "second", check=False)
    assert fetch(outside, HOST_ADDRESS, 8080) == ""  # the rule went with the container


def test_publish_all_and_ports_on_one_address(daemon: Daemon) -> None:
    web = web_server(daemon, "-P", "--expose", "80", "-p", "127.0.0.1:8181:80/udp")
    try:
        ports = json.loads(daemon.berth("inspect", web).stdout)[0]["NetworkSettings"]["Ports"]
        chosen = int(ports["80/tcp"][0]["HostPort"])
        assert ports["80/udp"] == [{"HostIp": "127.0.0.1", "HostPort": "8181"}]
        assert web[:12] in fetch(str(daemon.netns), "127.0.0.1", chosen)
    finally:
        daemon.berth("rm", "-f", web)


def test_containers_get_out_through_the_hosts_address(daemon: Daemon, outside: str) -> None:
    with netns.entered(outside):
        listener = socket.socket()
    with listener:
        listener.bind((OUTSIDE_ADDRESS, 9000))
        listener.listen()
        client = daemon.berth("run", "-d", "busybox", "sh", "-c", f"echo hello | nc {OUTSIDE_ADDRESS} 9000").stdout
        try:
            listener.settimeout(10)
            connection, (source, _) = listener.accept()
            with connection:
                assert connection.recv(100) == b"hello\n"
            assert source == HOST_ADDRESS  # masqueraded
        finally:
            daemon.berth("rm", "-f", client.strip())


def test_user_networks_are_kept_apart_and_an_internal_one_has_no_way_out(daemon: Daemon, outside: str) -> None:
    daemon.berth("network", "create", "--subnet", "10.81.0.0/24", "apart-a")
    daemon.berth("network", "create", "--subnet", "10.82.0.0/24", "apart-b")
    daemon.berth("network", "create", "--internal", "--subnet", "10.83.0.0/24", "closed")
    try:
        web = web_server(daemon, "--network", "apart-a", "--name", "apart-web")
        address = json.loads(daemon.berth("inspect", web).stdout)[0]["NetworkSettings"]["Networks"]["apart-a"]["IPAddress"]

        def reached_from(network: str) -> bool:
            return daemon.berth("run", "--rm", "--network", network, "busybox", "ping", "-c", "1", "-W", "2",
                                address, check=False).returncode == 0

        eventually(lambda: reached_from("apart-a"), "the server to answer on its own network")
        assert not reached_from("apart-b") and not reached_from("bridge")
        way_out = daemon.berth("run", "--rm", "--network", "closed", "busybox", "ping", "-c", "1", "-W", "2",
                               OUTSIDE_ADDRESS, check=False)
        assert way_out.returncode != 0
        assert daemon.berth("run", "--rm", "busybox", "ping", "-c", "1", "-W", "2", OUTSIDE_ADDRESS).returncode == 0
    finally:
        daemon.berth("rm", "-f", "apart-web", check=False)
        for network in ("apart-a", "apart-b", "closed"):
            daemon.berth("network", "rm", network, check=False)


def test_icc_false_keeps_a_bridges_containers_apart(daemon: Daemon) -> None:
    daemon.berth("network", "create", "-o", "com.docker.network.bridge.enable_icc=false", "lonely")
    try:
        web = web_server(daemon, "--network", "lonely", "--name", "lonely-web")
        address = json.loads(daemon.berth("inspect", web).stdout)[0]["NetworkSettings"]["Networks"]["lonely"]["IPAddress"]
        eventually(lambda: web[:12] in fetch(str(daemon.netns), address, 80), "the server to answer the host")
        refused = daemon.berth("run", "--rm", "--network", "lonely", "busybox", "ping", "-c", "1", "-W", "2",
                               address, check=False)
        assert refused.returncode != 0
    finally:
        daemon.berth("rm", "-f", "lonely-web", check=False)
        daemon.berth("network", "rm", "lonely", check=False)


def test_a_container_cannot_reach_the_hosts_loopback_through_its_bridge(daemon: Daemon) -> None:
    # route_localnet on berth's bridges (for ports published on 127.0.0.1) would let a container that
    # routes 127.0.0.1 to its gateway reach the host's loopback-only services: berth's guard drops that
    with netns.entered(str(daemon.netns)):
        service = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # a loopback-only service of the host
    service.bind(("127.0.0.1", 0))
    service.settimeout(2)
    gateway = json.loads(daemon.berth("network", "inspect", "bridge").stdout)[0]["IPAM"]["Config"][0]["Gateway"]
    attack = ["run", "--rm", "--cap-add", "NET_ADMIN", "--sysctl", "net.ipv4.conf.eth0.route_localnet=1", "busybox",
              "sh", "-c", "ip route del local 127.0.0.1 table local && ip route del local 127.0.0.0/8 table local && "
              f"ip route add 127.0.0.1/32 via {gateway} dev eth0 && "
              f"timeout 2 tftp -g -r leaked 127.0.0.1 {service.getsockname()[1]}"]  # a UDP datagram naming `leaked`

    def delivered() -> bool:
        daemon.berth(*attack, check=False)  # tftp gets no answer
        try:
            return b"leaked" in service.recv(100)
        except TimeoutError:
            return False

    with service:
        assert not delivered()
        # the guard is what stops it: without it, the datagram gets through
        with netns.entered(str(daemon.netns)):
            Nftables().cmd("flush chain inet berth guard")
        try:
            assert delivered()
        finally:
            daemon.berth("network", "create", "rewrite-rules")  # berth writes its table whole again
            daemon.berth("network", "rm", "rewrite-rules")
        assert "127.0.0.0/8 drop" in nft_in(daemon, "list chain inet berth guard")


def nft_in(daemon: Daemon, command: str) -> str:
    with netns.entered(str(daemon.netns)):
        return Nftables().cmd(command)[1]


def test_published_ports_survive_a_daemon_killed_and_leave_nothing_when_gone(fresh_daemon: Daemon) -> None:
    daemon = fresh_daemon
    web = web_server(daemon, "-p", "8282:80")
    daemon.kill9()
    daemon.start()
    eventually(lambda: web[:12] in fetch(str(daemon.netns), "127.0.0.1", 8282), "the port forwarded again")
    taken = daemon.berth("run", "-d", "-p", "8282:80", "busybox", "true", check=False)
    assert "port is already allocated" in taken.stderr  # held again after the restart
    daemon.berth("rm", "-f", web)
    assert fetch(str(daemon.netns), "127.0.0.1", 8282) == ""
    with netns.entered(str(daemon.netns)):
        free = socket.socket()
    with free:
        free.bind(("0.0.0.0", 8282))  # the port is the host's again
