"""The network store and the local IPAM: state that survives restarts and is never handed out twice."""
from __future__ import annotations

import threading
from dataclasses import asdict
from pathlib import Path

import pytest

from berth.errdefs import Conflict, InvalidArgument, NotFound, Unavailable
from berth.network.ipam import DEFAULT_POOLS, LocalIpam, request_free_pool
from berth.network.store import LocalStore, StaleVersion


def test_a_store_write_based_on_a_stale_read_is_refused(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    version = store.put("networks", "web", {"subnet": "10.1.0.0/24"}, 0)
    record, read_version = store.get("networks", "web")  # type: ignore[misc]
    store.put("networks", "web", {**record, "internal": True}, read_version)
    with pytest.raises(StaleVersion):  # another writer read the same version and came second
        store.put("networks", "web", {**record, "internal": False}, version)
    with pytest.raises(StaleVersion):  # a record that exists cannot be made again
        store.put("networks", "web", {}, 0)
    assert store.get("networks", "web") == ({"subnet": "10.1.0.0/24", "internal": True}, 2)
    assert LocalStore(tmp_path).list("networks") == {"web": {"subnet": "10.1.0.0/24", "internal": True}}
    store.delete("networks", "web")
    assert store.get("networks", "web") is None and store.list("networks") == {}
    for key in ("../escape", "nul\0byte"):
        with pytest.raises(InvalidArgument):
            store.get("networks", key)


def test_addresses_skip_the_gateway_and_aux_addresses_and_come_back_when_released(tmp_path: Path) -> None:
    ipam = LocalIpam(LocalStore(tmp_path))
    pool = ipam.request_pool("172.30.0.0/29", aux_addresses={"router": "172.30.0.2"})
    assert pool.gateway == "172.30.0.1"
    handed = [ipam.request_address(pool.id) for _ in range(4)]
    assert handed == ["172.30.0.3", "172.30.0.4", "172.30.0.5", "172.30.0.6"]
    with pytest.raises(Unavailable, match="no available IP addresses"):
        ipam.request_address(pool.id)
    ipam.release_address(pool.id, "172.30.0.4")
    assert LocalIpam(LocalStore(tmp_path)).request_address(pool.id) == "172.30.0.4"  # after a restart too


def test_a_chosen_address_must_be_free_and_inside_the_subnet(tmp_path: Path) -> None:
    ipam = LocalIpam(LocalStore(tmp_path))
    pool = ipam.request_pool("10.9.0.0/24", ip_range="10.9.0.128/25", gateway="10.9.0.254")
    assert ipam.request_address(pool.id) == "10.9.0.128"  # from the ip-range
    assert ipam.request_address(pool.id, preferred="10.9.0.7") == "10.9.0.7"  # the subnet, outside the range
    with pytest.raises(Conflict, match="Address already in use"):
        ipam.request_address(pool.id, preferred="10.9.0.7")
    with pytest.raises(Conflict, match="Address already in use"):
        ipam.request_address(pool.id, preferred="10.9.0.254")  # the gateway
    with pytest.raises(InvalidArgument, match="Invalid address 10.10.0.1: It does not belong to any of this network's subnets"):
        ipam.request_address(pool.id, preferred="10.10.0.1")


def test_an_ipv6_pool_hands_out_addresses_after_its_gateway_and_lives_beside_ipv4_ones(tmp_path: Path) -> None:
    ipam = LocalIpam(LocalStore(tmp_path))
    ipam.request_pool("10.0.0.0/8")
    pool = ipam.request_pool("2001:db8::/64")  # no overlap across families
    assert pool.gateway == "2001:db8::1"
    assert [ipam.request_address(pool.id) for _ in range(2)] == ["2001:db8::2", "2001:db8::3"]
    with pytest.raises(Conflict, match="Pool overlaps"):
        ipam.request_pool("2001:db8::/48")
    ranged = ipam.request_pool("2001:db9::/64", ip_range="2001:db9::/96", gateway="2001:db9::ffff")
    assert ipam.request_address(ranged.id) == "2001:db9::1"  # the subnet-router anycast address is never given
    with pytest.raises(NotFound, match="non-overlapping IPv6 address pool"):
        request_free_pool(ipam, DEFAULT_POOLS, [], version=6)  # dockerd's default pools are IPv4 only


def test_pools_must_not_overlap_and_must_hold_their_gateway_and_range(tmp_path: Path) -> None:
    ipam = LocalIpam(LocalStore(tmp_path))
    ipam.request_pool("10.20.0.0/16")
    with pytest.raises(Conflict, match="Pool overlaps"):
        ipam.request_pool("10.20.5.0/24")
    with pytest.raises(InvalidArgument, match="gateway address 10.30.1.1 is not within subnet"):
        ipam.request_pool("10.31.0.0/16", gateway="10.30.1.1")
    with pytest.raises(InvalidArgument, match="ip-range 10.40.0.0/16 is not within subnet"):
        ipam.request_pool("10.41.0.0/24", ip_range="10.40.0.0/16")
    with pytest.raises(InvalidArgument, match="invalid subnet"):
        ipam.request_pool("10.50.0.0/33")


def test_concurrent_requests_never_get_the_same_address(tmp_path: Path) -> None:
    ipam = LocalIpam(LocalStore(tmp_path))
    pool = ipam.request_pool("10.60.0.0/24")
    handed: list[str] = []

    def take_five() -> None:
        for _ in range(5):
            handed.append(LocalIpam(LocalStore(tmp_path)).request_address(pool.id))

    threads = [threading.Thread(target=take_five) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(handed) == 40 and len(set(handed)) == 40


def test_a_released_pool_can_be_had_again(tmp_path: Path) -> None:
    ipam = LocalIpam(LocalStore(tmp_path))
    pool = ipam.request_pool("10.70.0.0/24")
    ipam.release_pool(pool.id)
    assert ipam.request_pool("10.70.0.0/25").subnet == "10.70.0.0/25"


def test_swaps_from_many_writers_and_stores_lose_no_change(tmp_path: Path) -> None:
    """Read-modify-write through compare-and-swap, by 8 threads each with its own store on one root:
    every increment lands, and the directory holds whole records and no temporary file."""
    LocalStore(tmp_path).put("counters", "hits", {"n": 0}, 0)

    def add_ten() -> None:
        store = LocalStore(tmp_path)
        for _ in range(10):
            while True:
                record, version = store.get("counters", "hits")  # type: ignore[misc]
                try:
                    store.put("counters", "hits", {"n": record["n"] + 1}, version)
                    break
                except StaleVersion:
                    continue

    threads = [threading.Thread(target=add_ten) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert LocalStore(tmp_path).get("counters", "hits") == ({"n": 80}, 81)
    assert sorted(path.name for path in (tmp_path / "counters").iterdir()) == ["hits.json"]


def test_overlapping_pools_asked_for_at_once_are_never_both_had(tmp_path: Path) -> None:
    won: list[str] = []

    def ask(prefix: int) -> None:
        try:
            won.append(LocalIpam(LocalStore(tmp_path)).request_pool(f"10.80.0.0/{prefix}").subnet)
        except Conflict:
            pass

    threads = [threading.Thread(target=ask, args=(16 + i,)) for i in range(8)]  # each inside the one before
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1
    assert LocalStore(tmp_path).get("ipam-spaces", "local")[0] == {  # type: ignore[index]
        "subnets": {won[0].replace("/", "-"): won[0]}}


def test_a_pool_left_by_a_release_cut_short_is_made_anew(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    ipam = LocalIpam(store)
    pool = ipam.request_pool("10.90.0.0/24")
    ipam.request_address(pool.id)
    ipam.release_pool(pool.id)
    store.put("ipam-pools", pool.id, {**asdict(pool), "allocated": ["10.90.0.2"]}, 0)  # the record's delete was lost
    again = ipam.request_pool("10.90.0.0/24")
    assert ipam.pool(again.id).allocated == [] and ipam.request_address(again.id) == "10.90.0.2"


def test_network_and_broadcast_addresses_are_never_handed_out(tmp_path: Path) -> None:
    ipam = LocalIpam(LocalStore(tmp_path))
    pool = ipam.request_pool("10.95.0.0/30")
    for reserved in ("10.95.0.0", "10.95.0.3", "10.95.0.1"):
        with pytest.raises(Conflict, match=f"Address already in use: {reserved}"):
            ipam.request_address(pool.id, preferred=reserved)
    assert ipam.request_address(pool.id) == "10.95.0.2"
    with pytest.raises(Unavailable):
        ipam.request_address(pool.id)
    ipam.release_address(pool.id, "10.95.0.2")
    assert ipam.request_address(pool.id, preferred="10.95.0.2") == "10.95.0.2"
