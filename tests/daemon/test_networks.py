"""The networks berth lists: the built-in none and host, with IDs that stay the same."""
import pytest

from berth.daemon.networks import NetworkService
from berth.errdefs import Conflict, InvalidArgument, NotFound


def test_none_and_host_are_listed_with_ids_that_survive_a_restart(tmp_path) -> None:
    first = NetworkService(tmp_path).list({})
    assert [(n["Name"], n["Driver"], n["Scope"]) for n in first] == [("none", "null", "local"),
                                                                       ("host", "host", "local")]
    assert NetworkService(tmp_path).list({}) == first  # the daemon restarted: same IDs, same times


def test_networks_are_found_by_name_id_or_prefix_and_filtered(tmp_path) -> None:
    service = NetworkService(tmp_path)
    host_id = service.list({"name": ["host"]})[0]["Id"]
    assert service.resolve(host_id[:12]) == "host" and service.resolve("none") == "none"
    assert [n["Name"] for n in service.list({"driver": ["null"]})] == ["none"]
    assert service.list({"type": ["custom"]}) == []
    with pytest.raises(InvalidArgument, match="Invalid filter 'colour'"):
        service.list({"colour": ["red"]})
    with pytest.raises(NotFound, match="network nosuch not found"):
        service.resolve("nosuch")
    with pytest.raises(Conflict, match="host is a pre-defined network and cannot be removed"):
        service.remove("host")
