"""The networks berth lists: the built-in none and host, with IDs that stay the same."""
import json

import pytest

from berth.daemon.networks import NetworkService
from berth.errdefs import Forbidden, InvalidArgument, NotFound, Unimplemented
from berth.network.drivers import Sandbox


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
    with pytest.raises(Unimplemented, match="creating networks is not in this berth yet"):
        service.create({"Name": "mine"})  # bridge, the default: issue 8
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
