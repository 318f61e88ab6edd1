"""Networking on one host (issue 8): the default bridge, user-defined bridge networks, connect and
disconnect, and nothing left behind. Each daemon of the suite has a network namespace of its own
(tests/daemon_harness.py), which stands for the host here."""
from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import threading

import pytest
from pyroute2 import IPRoute

from berth.network import netns
from tests.daemon_harness import Daemon, running_daemon
from tests.waiting import eventually


def host_links(daemon: Daemon) -> dict[str, str]:
    """The daemon's host's interfaces: name -> kind (bridge, veth...)."""
    with netns.entered(str(daemon.netns)):
        ipr = IPRoute()
    with ipr:
        links = {}
        for link in ipr.get_links():
            info = link.get_attr("IFLA_LINKINFO")
            links[link.get_attr("IFLA_IFNAME")] = info.get_attr("IFLA_INFO_KIND") if info else ""
        return links


def inspect(daemon: Daemon, ref: str) -> dict:
    return json.loads(daemon.berth("inspect", ref).stdout)[0]


def run_d(daemon: Daemon, *args: str) -> str:
    return daemon.berth("run", "-d", *args).stdout.strip()


def test_containers_on_the_default_bridge_reach_each_other_by_address(daemon: Daemon) -> None:
    names = daemon.berth("network", "ls", "--format", "{{.Name}} {{.Driver}}").stdout.split("\n")
    assert names[:3] == ["bridge bridge", "host host", "none null"]
    assert host_links(daemon)["berth0"] == "bridge"
    server = run_d(daemon, "busybox", "sleep", "100")
    try:
        settings = inspect(daemon, server)["NetworkSettings"]
        address = settings["IPAddress"]
        assert address.startswith("172.17.0.") and settings["Gateway"] == "172.17.0.1"
        assert settings["IPPrefixLen"] == 16 and settings["Networks"]["bridge"]["IPAddress"] == address
        octets = [int(part) for part in address.split(".")]
        assert settings["MacAddress"] == "02:42:" + ":".join(f"{octet:02x}" for octet in octets)
        assert f"{address}\t{server[:12]}" in daemon.berth("exec", server, "cat", "/etc/hosts").stdout
        ping = daemon.berth("run", "--rm", "busybox", "ping", "-c", "1", "-W", "2", address, check=False)
        assert ping.returncode == 0, ping.stdout + ping.stderr
        route = daemon.berth("exec", server, "ip", "route").stdout
        assert route.startswith("default via 172.17.0.1 dev eth0")
        on_bridge = json.loads(daemon.berth("network", "inspect", "bridge").stdout)[0]
        assert on_bridge["IPAM"]["Config"] == [{"Subnet": "172.17.0.0/16", "Gateway": "172.17.0.1"}]
        assert on_bridge["Containers"][server]["IPv4Address"] == f"{address}/16"
    finally:
        daemon.berth("rm", "-f", server)
    eventually(lambda: not [name for name, kind in host_links(daemon).items() if kind == "veth"],
               "its veth pair to go with its namespace")


def test_a_user_network_gives_the_address_asked_and_is_kept_while_in_use(daemon: Daemon) -> None:
    daemon.berth("network", "create", "--subnet", "10.77.0.0/24", "--gateway", "10.77.0.254", "front")
    try:
        web = run_d(daemon, "--network", "front", "--ip", "10.77.0.10", "--name", "web", "busybox", "sleep", "100")
        assert "inet 10.77.0.10/24" in daemon.berth("exec", web, "ip", "-4", "addr", "show", "eth0").stdout
        assert daemon.berth("exec", web, "ip", "route").stdout.startswith("default via 10.77.0.254")
        other = daemon.berth("run", "--rm", "--network", "front", "busybox", "ping", "-c", "1", "-W", "2",
                             "10.77.0.10", check=False)
        assert other.returncode == 0, other.stdout + other.stderr
        taken = daemon.berth("run", "--rm", "--network", "front", "--ip", "10.77.0.10", "busybox", "true", check=False)
        assert taken.returncode != 0 and "Address already in use" in taken.stderr
        refused = daemon.berth("network", "rm", "front", check=False)
        assert refused.returncode == 1 and "has active endpoints" in refused.stderr
        bridge = json.loads(daemon.berth("network", "inspect", "front").stdout)[0]["Options"].get(
            "com.docker.network.bridge.name") or f"br-{inspect(daemon, web)['NetworkSettings']['Networks']['front']['NetworkID'][:12]}"
        assert host_links(daemon)[bridge] == "bridge"
        daemon.berth("rm", "-f", web)
    finally:
        daemon.berth("rm", "-f", "web", check=False)
        daemon.berth("network", "rm", "front", check=False)
    assert bridge not in host_links(daemon)
    assert "front" not in daemon.berth("network", "ls").stdout


def test_a_running_container_is_connected_and_disconnected(daemon: Daemon) -> None:
    daemon.berth("network", "create", "--subnet", "10.78.0.0/24", "back")
    try:
        db = run_d(daemon, "--network", "back", "--name", "db", "busybox", "sleep", "100")
        app = run_d(daemon, "--name", "app", "busybox", "sleep", "100")
        unreachable = daemon.berth("exec", app, "ping", "-c", "1", "-W", "1", "10.78.0.2", check=False)
        assert unreachable.returncode != 0
        daemon.berth("network", "connect", "--ip", "10.78.0.20", "back", "app")
        assert "inet 10.78.0.20/24" in daemon.berth("exec", app, "ip", "-4", "addr", "show", "eth1").stdout
        assert daemon.berth("exec", app, "ip", "route").stdout.startswith("default via 172.17.0.1 dev eth0")
        assert daemon.berth("exec", app, "ping", "-c", "1", "-W", "2", "10.78.0.2", check=False).returncode == 0
        networks = inspect(daemon, app)["NetworkSettings"]["Networks"]
        assert sorted(networks) == ["back", "bridge"] and networks["back"]["IPAddress"] == "10.78.0.20"
        again = daemon.berth("network", "connect", "back", "app", check=False)
        assert "endpoint with name app already exists in network back" in again.stderr
        daemon.berth("network", "disconnect", "back", "app")
        assert daemon.berth("exec", app, "ip", "link", "show", "eth1", check=False).returncode != 0  # at once
        assert list(inspect(daemon, app)["NetworkSettings"]["Networks"]) == ["bridge"]
        daemon.berth("rm", "-f", db)
        daemon.berth("stop", "-t", "0", app)
        daemon.berth("network", "connect", "back", "app")  # stopped: it joins at its next start
        daemon.berth("start", app)
        assert "inet 10.78.0." in daemon.berth("exec", app, "ip", "-4", "addr", "show", "eth1").stdout
    finally:
        daemon.berth("rm", "-f", "db", "app", check=False)
        daemon.berth("network", "rm", "back", check=False)


@pytest.mark.parametrize("flags, message", [
    (("--ip", "172.17.0.99"), "user specified IP address is supported on user defined networks only"),
    (("--network-alias", "x"), "network-scoped alias is supported only for containers in user defined networks"),
    (("--network", "nosuch"), "network nosuch not found"),
])
def test_what_only_user_networks_allow_is_refused_on_the_default_bridge(daemon: Daemon, flags, message) -> None:
    assert message in daemon.run_refused(*flags)


def test_nothing_is_left_when_containers_stop_or_the_daemon_is_killed(fresh_daemon: Daemon) -> None:
    daemon = fresh_daemon
    kept = run_d(daemon, "busybox", "sleep", "100")
    address = inspect(daemon, kept)["NetworkSettings"]["IPAddress"]
    gone = run_d(daemon, "busybox", "sleep", "100")
    pid = inspect(daemon, gone)["State"]["Pid"]
    daemon.kill9()
    os.kill(pid, signal.SIGKILL)  # one container ends while the daemon is down
    daemon.start()
    eventually(lambda: inspect(daemon, gone)["State"]["Status"] == "exited", "the ended container seen as exited")
    assert inspect(daemon, kept)["NetworkSettings"]["IPAddress"] == address
    assert daemon.berth("run", "--rm", "busybox", "ping", "-c", "1", "-W", "2", address, check=False).returncode == 0
    assert sorted(path.name for path in (daemon.exec_root / "netns").iterdir()) == [kept]
    newcomer = run_d(daemon, "busybox", "sleep", "100")
    assert inspect(daemon, newcomer)["NetworkSettings"]["IPAddress"] != address
    daemon.berth("rm", "-f", kept, gone, newcomer)
    assert list((daemon.exec_root / "netns").iterdir()) == []
    eventually(lambda: not [name for name, kind in host_links(daemon).items() if kind == "veth"],
               "the veth pairs to go with their namespaces")


def test_a_legacy_link_names_the_linked_container_in_hosts_and_environment(daemon: Daemon) -> None:
    db = run_d(daemon, "--name", "linkdb", "--expose", "5432", "-e", "SECRET=x", "busybox", "sleep", "100")
    try:
        address = inspect(daemon, db)["NetworkSettings"]["IPAddress"]
        shown = daemon.berth("run", "--rm", "--link", "linkdb:db", "busybox", "sh", "-c",
                             "cat /etc/hosts; env; ping -c 1 -W 2 db").stdout
        assert f"{address}\tdb {db[:12]} linkdb" in shown
        for variable in (f"DB_PORT=tcp://{address}:5432", f"DB_PORT_5432_TCP_ADDR={address}", "DB_ENV_SECRET=x"):
            assert variable in shown
        assert "1 packets received" in shown
        missing = daemon.berth("run", "--rm", "--link", "nosuch:db", "busybox", "true", check=False)
        assert missing.returncode == 125 and "could not get container for nosuch" in missing.stderr
    finally:
        daemon.berth("rm", "-f", db)


def test_network_explain_shows_the_wiring_the_course_looks_at_by_hand(daemon: Daemon) -> None:
    box = run_d(daemon, "--name", "explained", "busybox", "sleep", "100")
    try:
        explained = json.loads(daemon.berth("network", "explain", "--format", "json", box).stdout)
        assert explained["Namespace"] == str(daemon.exec_root / "netns" / box)
        eth0 = next(interface for interface in explained["Interfaces"] if interface["name"] == "eth0")
        address = inspect(daemon, box)["NetworkSettings"]["IPAddress"]
        assert (eth0["kind"], eth0["network"], eth0["bridge"], eth0["addresses"]) == \
            ("veth", "bridge", "berth0", [f"{address}/16"])
        assert host_links(daemon)[eth0["peer"]] == "veth" and eth0["gateway"] == ["172.17.0.1/16"]
        assert {"destination": "default", "gateway": "172.17.0.1", "device": "eth0"} in explained["Routes"]
        tree = daemon.berth("network", "explain", box).stdout
        assert f"veth peer on the host: {eth0['peer']}, on bridge berth0" in tree
        stopped = daemon.berth("network", "explain", "nosuch", check=False)
        assert stopped.returncode == 1 and "No such container: nosuch" in stopped.stderr
    finally:
        daemon.berth("rm", "-f", box)


def test_containers_on_a_user_network_find_each_other_by_name_alias_and_id(daemon: Daemon) -> None:
    daemon.berth("network", "create", "named")
    try:
        db = run_d(daemon, "--network", "named", "--name", "named-db", "--network-alias", "database",
                   "busybox", "sleep", "100")
        address = inspect(daemon, db)["NetworkSettings"]["Networks"]["named"]["IPAddress"]
        asked = daemon.berth("run", "--rm", "--network", "named", "busybox", "sh", "-c",
                             f"cat /etc/resolv.conf; for n in named-db database {db[:12]} NAMED-DB named-db.named; "
                             "do nslookup $n | grep -A1 ^Name: | tail -1; done").stdout
        assert asked.startswith("nameserver 127.0.0.11\n") and "options ndots:0" in asked
        assert asked.count(f"Address: {address}") == 5
        app = run_d(daemon, "--name", "named-app", "busybox", "sleep", "100")
        daemon.berth("network", "connect", "named", app)
        assert daemon.berth("exec", app, "ping", "-c", "1", "-W", "2", "database").returncode == 0
        daemon.berth("network", "disconnect", "named", db)
        gone = daemon.berth("exec", app, "nslookup", "database", check=False)
        assert f"Address: {address}" not in gone.stdout
        plain = daemon.berth("run", "--rm", "busybox", "cat", "/etc/resolv.conf").stdout
        assert "127.0.0.11" not in plain  # the default bridge has no name resolution, as in Docker
    finally:
        daemon.berth("rm", "-f", "named-db", "named-app", check=False)
        daemon.berth("network", "rm", "named", check=False)


def test_other_names_go_to_the_containers_dns_servers(daemon: Daemon) -> None:
    import dns.message
    import dns.rrset

    with netns.entered(str(daemon.netns)):
        upstream = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    upstream.bind(("127.0.0.1", 53))
    upstream.settimeout(10)
    asked: list[str] = []

    def answer() -> None:
        with contextlib.suppress(OSError):
            while True:
                wire, client = upstream.recvfrom(4096)
                query = dns.message.from_wire(wire)
                asked.append(query.question[0].name.to_text())
                reply = dns.message.make_response(query)
                if query.question[0].rdtype == 1:
                    reply.answer.append(dns.rrset.from_text(query.question[0].name, 60, "IN", "A", "203.0.113.7"))
                upstream.sendto(reply.to_wire(), client)

    threading.Thread(target=answer, daemon=True).start()
    daemon.berth("network", "create", "forwarding")
    try:
        found = daemon.berth("run", "--rm", "--network", "forwarding", "--dns", "127.0.0.1", "busybox",
                             "nslookup", "www.example.test").stdout
        assert "Address: 203.0.113.7" in found and "www.example.test." in asked
    finally:
        upstream.close()
        daemon.berth("network", "rm", "forwarding", check=False)
    refused = daemon.berth("network", "create", "failing")
    try:
        down = daemon.berth("run", "--rm", "--network", "failing", "--dns", "127.0.0.1", "busybox",
                            "nslookup", "www.example.test", check=False)
        assert "SERVFAIL" in down.stdout + down.stderr  # nothing answers upstream now
    finally:
        daemon.berth("network", "rm", "failing", check=False)
    assert refused.returncode == 0


def test_stats_count_a_bridge_containers_traffic_and_rm_link_drops_a_link(daemon: Daemon) -> None:
    box = run_d(daemon, "--name", "counted", "busybox", "sleep", "100")
    linker = run_d(daemon, "--link", "counted:target", "busybox", "sleep", "100")
    try:
        address = inspect(daemon, box)["NetworkSettings"]["IPAddress"]
        daemon.berth("exec", linker, "ping", "-c", "3", "-W", "2", address)
        received, _, sent = daemon.berth("stats", "--no-stream", "--format", "{{.NetIO}}", box).stdout.partition(" / ")
        assert received.strip() not in ("0B", "") and sent.strip() not in ("0B", "")
        daemon.berth("rm", "-l", f"{inspect(daemon, linker)['Name'][1:]}/target")
        assert inspect(daemon, linker)["HostConfig"]["Links"] == []
        daemon.berth("kill", box)
        state = inspect(daemon, box)["State"]  # as dockerd: a SIGKILL's answer waits for the exit
        assert (state["Status"], state["ExitCode"]) == ("exited", 137)
    finally:
        daemon.berth("rm", "-f", box, linker)


def test_daemon_json_sets_the_default_bridge_and_the_pools(busybox_tar) -> None:
    config = {"bip": "10.99.0.1/24", "mtu": 1400, "default-address-pools": [{"base": "10.100.0.0/16", "size": 24}]}
    with running_daemon(busybox_tar, config) as daemon:
        shown = daemon.berth("run", "--rm", "--add-host", "outside:host-gateway", "busybox", "sh", "-c",
                             "ip -4 addr show eth0; ip link show eth0; grep outside /etc/hosts").stdout
        assert "inet 10.99.0.2/24" in shown and "mtu 1400" in shown and "10.99.0.1\toutside" in shown
        daemon.berth("network", "create", "pooled")
        pooled = json.loads(daemon.berth("network", "inspect", "pooled").stdout)[0]["IPAM"]["Config"]
        assert pooled == [{"Subnet": "10.100.0.0/24", "Gateway": "10.100.0.1"}]
        refused = daemon.berth("network", "create", "--ipv6", "six", check=False)  # no IPv6 pool among them
        assert refused.returncode == 1 and "non-overlapping IPv6 address pool" in refused.stderr


def test_an_ipv6_network_gives_its_containers_addresses_routes_and_names_of_both_families(daemon: Daemon) -> None:
    daemon.berth("network", "create", "--ipv6", "--subnet", "fd00:b1::/64", "--subnet", "10.81.0.0/24", "six")
    daemon.berth("network", "create", "--ipv6", "--subnet", "fd00:b2::/64", "other-six")
    network = json.loads(daemon.berth("network", "inspect", "six").stdout)[0]
    assert network["EnableIPv6"] is True
    assert network["IPAM"]["Config"] == [{"Subnet": "10.81.0.0/24", "Gateway": "10.81.0.1"},
                                         {"Subnet": "fd00:b1::/64", "Gateway": "fd00:b1::1"}]
    first = run_d(daemon, "--network", "six", "--name", "six-a", "busybox", "sleep", "100")
    chosen = run_d(daemon, "--network", "six", "--ip6", "fd00:b1::99", "--name", "six-b", "busybox", "sleep", "100")
    stranger = run_d(daemon, "--network", "other-six", "busybox", "sleep", "100")
    try:
        settings = inspect(daemon, first)["NetworkSettings"]["Networks"]["six"]
        assert (settings["IPAddress"], settings["GlobalIPv6Address"]) == ("10.81.0.2", "fd00:b1::2")
        assert (settings["GlobalIPv6PrefixLen"], settings["IPv6Gateway"]) == (64, "fd00:b1::1")
        settings = inspect(daemon, chosen)["NetworkSettings"]["Networks"]["six"]
        assert settings["IPAMConfig"] == {"IPv6Address": "fd00:b1::99"} and settings["GlobalIPv6Address"] == "fd00:b1::99"
        inside = daemon.berth("exec", first, "sh", "-c", "ip -6 route; cat /etc/hosts").stdout
        assert "default via fd00:b1::1 dev eth0" in inside and f"fd00:b1::2\t{first[:12]}" in inside
        assert daemon.berth("exec", first, "ping6", "-c", "1", "-W", "2", "six-b").returncode == 0
        assert "Address: fd00:b1::99" in daemon.berth("exec", first, "nslookup", "six-b").stdout
        assert "fd00:b1::99" in daemon.berth("network", "explain", chosen).stdout
        stranger_address = inspect(daemon, stranger)["NetworkSettings"]["Networks"]["other-six"]["GlobalIPv6Address"]
        across = daemon.berth("exec", first, "ping6", "-c", "1", "-W", "1", stranger_address, check=False)
        assert across.returncode != 0  # networks are kept apart in IPv6 as in IPv4
    finally:
        daemon.berth("rm", "-f", first, chosen, stranger)
        daemon.berth("network", "rm", "six", "other-six")


def test_an_ipv6_subnet_without_ipv6_on_gives_no_ipv6_address_as_with_dockerd(daemon: Daemon) -> None:
    daemon.berth("network", "create", "--subnet", "fd00:b4::/64", "six-off")
    try:
        box = run_d(daemon, "--network", "six-off", "--ip6", "fd00:b4::5", "busybox", "sleep", "100")
        settings = inspect(daemon, box)["NetworkSettings"]["Networks"]["six-off"]
        assert settings["IPAMConfig"] == {"IPv6Address": "fd00:b4::5"} and settings["GlobalIPv6Address"] == ""
        assert "inet6" not in daemon.berth("exec", box, "ip", "-6", "addr", "show", "eth0").stdout
        daemon.berth("rm", "-f", box)
    finally:
        daemon.berth("network", "rm", "six-off")


@pytest.mark.parametrize(("args", "error"), [
    (("--ip6", "zz"), "invalid IPv6 address: zz"),
    (("--ip", "fd00::5"), "invalid IPv4 address: fd00::5"),
    (("--ip6", "fd00:b3::5"), "user specified IP address is supported only when connecting to networks with user "
                              "configured subnets"),
])
def test_addresses_a_network_cannot_give_are_refused(daemon: Daemon, args: tuple[str, ...], error: str) -> None:
    daemon.berth("network", "create", "four-only")  # an IPv4 subnet of the default pools, no IPv6
    try:
        refused = daemon.berth("run", "--rm", "--network", "four-only", *args, "busybox", "true", check=False)
        assert refused.returncode == 125 and error in refused.stderr
    finally:
        daemon.berth("network", "rm", "four-only")


def test_names_keep_resolving_after_the_daemon_is_killed(fresh_daemon: Daemon) -> None:
    daemon = fresh_daemon
    daemon.berth("network", "create", "kept")
    db = run_d(daemon, "--network", "kept", "--name", "kept-db", "busybox", "sleep", "100")
    app = run_d(daemon, "--network", "kept", "--name", "kept-app", "busybox", "sleep", "100")
    daemon.kill9()
    daemon.start()
    address = inspect(daemon, db)["NetworkSettings"]["Networks"]["kept"]["IPAddress"]
    eventually(lambda: f"Address: {address}" in daemon.berth("exec", app, "nslookup", "kept-db", check=False).stdout,
               "the embedded DNS server to answer again")
    daemon.berth("rm", "-f", db, app)
    daemon.berth("network", "rm", "kept")


def test_run_names_a_network_by_its_id_or_a_prefix_of_it(daemon: Daemon) -> None:
    network_id = daemon.berth("network", "create", "by-id").stdout.strip()
    try:
        for ref in (network_id, network_id[:12]):
            box = run_d(daemon, "--network", ref, "busybox", "sleep", "100")
            assert list(inspect(daemon, box)["NetworkSettings"]["Networks"]) == ["by-id"]
            daemon.berth("rm", "-f", box)
    finally:
        daemon.berth("network", "rm", "by-id")
