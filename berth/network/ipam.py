"""IP address management: pools of addresses (a network's subnet) and the addresses handed out of them.

The local IPAM keeps its state in the network store (berth.network.store), so what it has handed out
survives a daemon restart, and every change is a compare-and-swap, so nothing is handed out twice:
- an address space (`ipam-spaces/<space>`) lists the subnets of its pools; a pool is reserved by one
  swap of that record, so two pools that overlap are never both reserved, also when two daemons
  sharing a store (etcd, for overlay networks) ask at once;
- each pool (`ipam-pools/<id>`) holds its subnet, gateway, ip-range, auxiliary addresses and the
  addresses handed out. A pool reserves its network and broadcast addresses, its gateway and its
  auxiliary addresses; addresses come from its `ip_range` when it has one, else from the whole subnet.
"""
from __future__ import annotations

import copy
import ipaddress
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Protocol

from berth.errdefs import Conflict, InvalidArgument, NotFound, Unavailable
from berth.network.store import NetworkStore, Record, StaleVersion

SPACES = "ipam-spaces"  # an address space: {"subnets": {pool id: subnet}}
POOLS = "ipam-pools"
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass
class Pool:
    id: str
    subnet: str
    gateway: str
    ip_range: str = ""
    aux_addresses: dict[str, str] = field(default_factory=dict)
    allocated: list[str] = field(default_factory=list)


class Ipam(Protocol):
    def request_pool(self, subnet: str, ip_range: str = "", gateway: str = "",
                     aux_addresses: dict[str, str] | None = None) -> Pool:
        """Reserve `subnet` (overlapping no other pool); the gateway defaults to its first address."""

    def release_pool(self, pool_id: str) -> None: ...

    def request_address(self, pool_id: str, preferred: str = "") -> str:
        """An address of the pool no one holds: `preferred` if it is free, else the first free one."""

    def release_address(self, pool_id: str, address: str) -> None: ...


class LocalIpam:
    def __init__(self, store: NetworkStore, space: str = "local") -> None:
        """`space`: the address space whose pools may not overlap ("local": this host's networks)."""
        self.store = store
        self.space = space

    def request_pool(self, subnet: str, ip_range: str = "", gateway: str = "",
                     aux_addresses: dict[str, str] | None = None) -> Pool:
        network = _network(subnet, "subnet")
        if ip_range and not _network(ip_range, "ip-range").subnet_of(network):  # type: ignore[arg-type]
            raise InvalidArgument(f"ip-range {ip_range} is not within subnet {subnet}")
        for name, address in {"gateway": gateway, **(aux_addresses or {})}.items():
            if address and _address(address) not in network:
                raise InvalidArgument(f"{name} address {address} is not within subnet {subnet}")
        first = next(network.hosts(), None)
        if first is None:
            raise InvalidArgument(f"subnet {subnet} has no address for a gateway")
        pool = Pool(id=str(network).replace("/", "-"), subnet=str(network), gateway=gateway or str(first),
                    ip_range=ip_range, aux_addresses=dict(aux_addresses or {}))

        def reserve(space: Record) -> None:
            for other in space["subnets"].values():
                if _overlap(_network(other, "subnet"), network):
                    raise Conflict("Pool overlaps with other one on this address space")
            space["subnets"][pool.id] = pool.subnet

        _swap(self.store, SPACES, self.space, {"subnets": {}}, reserve)
        # The space holds the subnet now, so no one else writes this pool; a record left by a release
        # cut short (see release_pool) is replaced.
        left = self.store.get(POOLS, pool.id)
        self.store.put(POOLS, pool.id, asdict(pool), left[1] if left else 0)
        return pool

    def release_pool(self, pool_id: str) -> None:
        """Give the subnet back, then forget the pool: cut short between the two, what is left is a
        pool record nobody reaches, never a subnet nobody can have again."""
        _swap(self.store, SPACES, self.space, {"subnets": {}}, lambda space: space["subnets"].pop(pool_id, None))
        self.store.delete(POOLS, pool_id)

    def pool(self, pool_id: str) -> Pool:
        found = self.store.get(POOLS, pool_id)
        if found is None:
            raise NotFound(f"no address pool {pool_id}")
        return Pool(**found[0])

    def request_address(self, pool_id: str, preferred: str = "") -> str:
        chosen = ""

        def take(record: Record) -> None:
            nonlocal chosen
            pool = Pool(**record)
            subnet = _network(pool.subnet, "subnet")
            reserved = {pool.gateway, *pool.aux_addresses.values(), *pool.allocated}
            if subnet.num_addresses > 2:  # an IPv4 /31, an IPv6 /127 use both
                reserved.add(str(subnet.network_address))  # IPv6's subnet-router anycast address
                if subnet.version == 4:
                    reserved.add(str(subnet.broadcast_address))
            if preferred:
                if _address(preferred) not in subnet:
                    raise InvalidArgument(f"Invalid address {preferred}: It does not belong to any of this "
                                          "network's subnets")
                if str(_address(preferred)) in reserved:
                    raise Conflict(f"Address already in use: {preferred}")
                chosen = str(_address(preferred))
            else:
                candidates = (str(address) for address in _network(pool.ip_range or pool.subnet, "ip-range"))
                chosen = next((address for address in candidates if address not in reserved), "")
                if not chosen:
                    raise Unavailable(f"no available IP addresses in pool {pool.subnet}")
            record["allocated"] = [*pool.allocated, chosen]

        _swap(self.store, POOLS, pool_id, None, take)
        return chosen

    def release_address(self, pool_id: str, address: str) -> None:
        def give_back(record: Record) -> None:
            record["allocated"] = [held for held in record["allocated"] if held != address]

        _swap(self.store, POOLS, pool_id, None, give_back)


def _swap(store: NetworkStore, kind: str, key: str, initial: Record | None,
          change: Callable[[Record], object]) -> None:
    """Read the record (or start from `initial` where there is none; None: NotFound), change it,
    write it back; again from the read if another writer came first. `change` may raise to refuse."""
    while True:
        found = store.get(kind, key)
        if found is None:
            if initial is None:
                raise NotFound(f"no address pool {key}")
            found = (copy.deepcopy(initial), 0)
        record, version = found
        change(record)
        try:
            store.put(kind, key, record, version)
        except StaleVersion:
            continue
        return


def _network(text: str, what: str) -> Network:
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise InvalidArgument(f"invalid {what}: {text}") from None


def _overlap(one: Network, other: Network) -> bool:
    """Whether two subnets share an address (never across families)."""
    return one.version == other.version and one.overlaps(other)  # type: ignore[arg-type]


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        raise InvalidArgument(f"invalid address: {text}") from None


@dataclass(frozen=True)
class AddressPool:
    """Where networks made without a subnet take theirs (daemon.json `default-address-pools`): subnets
    of prefix `size` carved out of `base`, in order."""

    base: str
    size: int

    def subnets(self) -> Iterator[Network]:
        base = _network(self.base, "address pool base")
        if self.size < base.prefixlen or self.size > base.max_prefixlen:
            raise InvalidArgument(f"invalid pool size {self.size} for base {self.base}")
        return base.subnets(new_prefix=self.size)


# dockerd's: 172.17-31.0.0/16 one network each, then 192.168.0.0/16 cut in /20s
DEFAULT_POOLS = (AddressPool("172.17.0.0/16", 16), *(AddressPool(f"172.{n}.0.0/16", 16) for n in range(18, 32)),
                 AddressPool("192.168.0.0/16", 20))


def request_free_pool(ipam: Ipam, pools: Iterable[AddressPool], avoid: Iterable[Network], version: int = 4) -> Pool:
    """A pool of the first IPv4 (or IPv6: `version`) subnet out of `pools` that overlaps neither another
    pool nor any of `avoid` (the host's routed subnets, as dockerd avoids them)."""
    taken = list(avoid)
    for address_pool in pools:
        if _network(address_pool.base, "address pool base").version != version:
            continue
        for subnet in address_pool.subnets():
            if any(_overlap(subnet, other) for other in taken):
                continue
            try:
                return ipam.request_pool(str(subnet))
            except Conflict:
                continue
    raise NotFound(f"could not find an available, non-overlapping IPv{version} address pool among the "  # dockerd's 404
                      "defaults to assign to the network")
