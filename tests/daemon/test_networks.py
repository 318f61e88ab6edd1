"""The networks berth lists: the built-in none and host, with IDs that stay the same; containers
joining and leaving them, recorded in the network store."""
import json
from typing import Any

import pytest

from berth.daemon.networks import ENDPOINTS, NetworkService
from berth.errdefs import Forbidden, InvalidArgument, NotFound, Unavailable
from berth.network.drivers import EndpointSpec, NetworkSpec, Sandbox
from berth.network.store import LocalStore

C1, C2, C3 = "c1" * 32, "c2" * 32, "c3" * 32


def test_none_and_host_are_listed_with_ids_that_survive_a_restart(tmp_path) -> None:
    first = NetworkService(tmp_path).list_networks({})
    assert [(n["Name"], n["Driver"], n["Scope"]) for n in first] == [("none", "null", "local"),
                                                                       ("host", "host", "local")]
    assert NetworkService(tmp_path).list_networks({}) == first  # the daemon restarted: same IDs, same times


def test_networks_are_found_by_name_id_or_prefix_and_filtered(tmp_path) -> None:
    service = NetworkService(tmp_path)
    host_id = service.list_networks({"name": ["host"]})[0]["Id"]
    assert service.resolve(host_id[:12]) == "host" and service.resolve("none") == "none"
    assert [n["Name"] for n in service.list_networks({"driver": ["null"]})] == ["none"]
    assert service.list_networks({"type": ["custom"]}) == []
    with pytest.raises(InvalidArgument, match="Invalid filter 'colour'"):
        service.list_networks({"colour": ["red"]})
    with pytest.raises(NotFound, match="network nosuch not found"):
        service.resolve("nosuch")
    with pytest.raises(Forbidden, match="host is a pre-defined network and cannot be removed"):
        service.remove("host")


def test_network_create_goes_through_the_driver_it_names(tmp_path) -> None:
    service = NetworkService(tmp_path)
    with pytest.raises(Forbidden, match='only one instance of "host" network is allowed'):
        service.create({"Name": "myhost", "Driver": "host"})
    with pytest.raises(NotFound, match='plugin "weave" not found'):
        service.create({"Name": "mesh", "Driver": "weave"})
    with pytest.raises(NotFound, match='plugin "bridge" not found'):
        service.create({"Name": "mine"})  # bridge, the default, is the engine's to give (test_bridge.py)
    for name in ("none", "host", "bridge"):  # dockerd's words, trailing space and all
        with pytest.raises(Forbidden, match=f"^operation is not permitted on predefined {name} network $"):
            service.create({"Name": name, "Driver": "weave"})
    with pytest.raises(InvalidArgument, match="invalid name: "):
        service.create({"Driver": "null"})
    assert [n["Name"] for n in service.list_networks({})] == ["none", "host"]  # nothing half made


def test_the_ids_an_older_berth_kept_are_kept(tmp_path) -> None:
    older = tmp_path / "network" / "builtin.json"
    older.parent.mkdir()
    kept = {name: {"Id": name * 8, "Created": "2026-01-01T00:00:00Z"} for name in ("none", "host")}
    older.write_text(json.dumps(kept))
    service = NetworkService(tmp_path)
    assert service.id_of("host") == "host" * 8 and service.id_of("none") == "none" * 8
    assert service.sandbox("host") == Sandbox.HOST and service.sandbox("none") == Sandbox.OWN
    assert service.sandbox("container:web") == Sandbox.JOINED  # no driver is asked


def test_containers_join_and_leave_through_the_store(tmp_path) -> None:
    service = NetworkService(tmp_path)
    endpoint = service.join(C1, ["none"], 4242, name="web")["none"]
    assert (endpoint["Container"], endpoint["Network"], endpoint["SandboxKey"]) == (C1, "none", "/proc/4242/ns/net")
    assert service.join(C2, ["host"], "/run/netns/x", name="db")["host"]["NetworkID"] == service.id_of("host")
    assert service.join(C3, [], 4242, name="side") == {}  # a sandbox on no network
    restarted = NetworkService(tmp_path)
    none = restarted.inspect("none")
    assert none["Containers"] == {C1: {"Name": "web", "EndpointID": endpoint["Id"], "MacAddress": "",
                                       "IPv4Address": "", "IPv6Address": ""}}
    assert list(restarted.inspect("host")["Containers"]) == [C2]  # C3, on C1's sandbox, is on no network
    sandbox = restarted.sandbox_of(C3) or {}
    assert (sandbox["Container"], sandbox["Name"], sandbox["Key"], sandbox["Endpoints"]) == \
        (C3, "side", "/proc/4242/ns/net", [])
    restarted.leave(C1)
    restarted.leave(C1)  # a second exit report is no error
    assert restarted.inspect("none")["Containers"] == {} and restarted.sandbox_of(C1) is None
    restarted.reconcile([C3])  # after a daemon restart: C2 is no longer running
    assert restarted.endpoints() == [] and restarted.sandbox_of(C2) is None and restarted.sandbox_of(C3)


def test_inspect_also_lists_running_containers_that_have_not_joined(tmp_path) -> None:
    service = NetworkService(tmp_path)
    endpoint = service.join(C1, ["none"], 1, name="web")["none"]
    listed = service.inspect("none", [{"Id": C1, "Name": "web"}, {"Id": C2, "Name": "old"}])["Containers"]
    assert listed[C1]["EndpointID"] == endpoint["Id"] and listed[C2]["EndpointID"] == ""


def test_a_second_join_replaces_what_a_killed_daemon_left(tmp_path) -> None:
    service = NetworkService(tmp_path)
    first = service.join(C1, ["none"], 1)["none"]
    second = service.join(C1, ["host"], 2)["host"]
    assert [e["Id"] for e in service.endpoints()] == [second["Id"]] != [first["Id"]]
    service.store.put(ENDPOINTS, "e" * 64, {**first, "Id": "e" * 64}, 0)  # a join cut short: no sandbox holds it
    service.reconcile([C1])
    assert [e["Id"] for e in service.endpoints()] == [second["Id"]]


class Wiring:
    """A driver whose networks may be made, and which tells what it wired, as bridge will."""

    name, scope = "wiring", "local"

    def __init__(self, fail_join: bool = False, prepared: bool = False) -> None:
        self.fail_join, self.joined, self.made = fail_join, set(), set()
        self.prepared = prepared  # its networks get an address pool, its endpoints addresses

    def create_network(self, network: NetworkSpec) -> None:
        self.made.add(network.name)

    def delete_network(self, network: NetworkSpec) -> None:
        self.made.discard(network.name)

    def sandbox(self, network: NetworkSpec) -> Sandbox:
        return Sandbox.PREPARED if self.prepared else Sandbox.OWN

    def join(self, network: NetworkSpec, endpoint: EndpointSpec, netns_path: str) -> dict[str, Any]:
        if self.fail_join:
            raise Unavailable("no veth today")
        self.joined.add(endpoint.id)
        return {"IPv4Address": endpoint.address, "MacAddress": "02:42:0a:00:00:02"}

    def leave(self, network: NetworkSpec, endpoint_id: str, sandbox_ending: bool = False) -> None:
        self.joined.remove(endpoint_id)


def test_a_network_with_containers_on_it_is_not_removed(tmp_path) -> None:
    driver = Wiring(prepared=True)
    service = NetworkService(tmp_path, drivers=[driver])
    network_id = service.create({"Name": "front", "Driver": "wiring", "IPAM": {"Config": [{"Subnet": "10.0.0.0/24"}]}})["Id"]
    endpoint = service.join(C1, ["front"], 7, name="web")["front"]
    assert service.inspect("front")["Containers"][C1]["IPv4Address"] == "10.0.0.2/24"
    assert driver.joined == {endpoint["Id"]}
    with pytest.raises(Forbidden, match=f"^error while removing network: network front id {network_id} has "
                                        "active endpoints$"):
        service.remove("front")
    service.leave(C1)
    assert driver.joined == set()
    service.remove(network_id[:12])
    assert driver.made == set() and [n["Name"] for n in service.list_networks({})] == ["none", "host"]


def test_a_join_that_fails_leaves_nothing(tmp_path) -> None:
    driver = Wiring(fail_join=True)
    service = NetworkService(tmp_path, drivers=[driver])
    service.create({"Name": "front", "Driver": "wiring"})
    with pytest.raises(Unavailable):
        service.join(C1, ["front"], 7)
    assert service.sandbox_of(C1) is None and service.endpoints() == []
    driver.fail_join = False

    class Refusing(LocalStore):
        def put(self, kind, key, record, version):  # the sandbox record cannot be written
            if kind == "sandboxes":
                raise OSError("disk full")
            return super().put(kind, key, record, version)

    service.store = Refusing(tmp_path / "network")
    with pytest.raises(OSError):
        service.join(C1, ["front"], 7)
    assert service.endpoints() == [] and driver.joined == set()  # the endpoint was undone, in the driver too


def test_an_ambiguous_id_prefix_is_refused_in_dockerd_s_words(tmp_path) -> None:
    service = NetworkService(tmp_path, drivers=[Wiring()])
    for i in range(40):
        service.create({"Name": f"n{i}", "Driver": "wiring"})
    by_first: dict[str, int] = {}
    for network in service.list_networks({}):
        by_first[network["Id"][0]] = by_first.get(network["Id"][0], 0) + 1
    prefix, count = next((char, n) for char, n in by_first.items() if n > 1)  # 42 IDs, 16 first digits
    with pytest.raises(InvalidArgument, match=f"^{count} matches found based on ID prefix: network {prefix} is "
                                              "ambiguous$"):
        service.resolve(prefix)
    with pytest.raises(InvalidArgument, match=f"^network {prefix} is ambiguous \\({count} matches found based on "
                                              "ID prefix\\)$"):
        service.remove(prefix)


def test_prune_removes_the_unused_networks_its_filters_select(tmp_path) -> None:
    service = NetworkService(tmp_path, drivers=[Wiring(prepared=True)])
    for name, labels in (("old-keep", {"keep": "yes"}), ("old-drop", {}), ("busy", {})):
        service.create({"Name": name, "Driver": "wiring", "Labels": labels})
    service.join(C1, ["busy"], 7, name="web")
    assert service.prune({"until": ["1h"]}) == []  # all were made just now
    assert service.prune({"label!": ["keep"]}) == ["old-drop"]  # busy has a container on it
    service.create({"Name": "new", "Driver": "wiring", "Labels": {"keep": "no"}})
    assert service.prune({"label": ["keep=no"]}) == ["new"]
    with pytest.raises(InvalidArgument, match="Invalid filter 'name'"):
        service.prune({"name": ["old-keep"]})
    assert [n["Name"] for n in service.list_networks({})] == ["none", "host", "busy", "old-keep"]
