"""IP address management: pools of addresses (a network's subnet) and the addresses handed out of them.

The local IPAM keeps each pool in the network store (berth.network.store), so what it has handed out
survives a daemon restart, and every change is a compare-and-swap, so an address is never handed
out twice. A pool reserves its network and broadcast addresses, its gateway and its auxiliary
addresses; addresses come from its `ip_range` when it has one, else from the whole subnet.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Protocol

from berth.errdefs import Conflict, InvalidArgument, NotFound, Unavailable
from berth.network.store import NetworkStore, StaleVersion

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
    def __init__(self, store: NetworkStore) -> None:
        self.store = store

    def request_pool(self, subnet: str, ip_range: str = "", gateway: str = "",
                     aux_addresses: dict[str, str] | None = None) -> Pool:
        network = _network(subnet, "subnet")
        if ip_range and not _network(ip_range, "ip-range").subnet_of(network):  # type: ignore[arg-type]
            raise InvalidArgument(f"ip-range {ip_range} is not within subnet {subnet}")
        for name, address in {"gateway": gateway, **(aux_addresses or {})}.items():
            if address and _address(address) not in network:
                raise InvalidArgument(f"{name} address {address} is not within subnet {subnet}")
        for other in self.store.list(POOLS).values():
            if _network(other["subnet"], "subnet").overlaps(network):  # type: ignore[arg-type]
                raise Conflict("Pool overlaps with other one on this address space")
        first = next(network.hosts(), None)
        if first is None:
            raise InvalidArgument(f"subnet {subnet} has no address for a gateway")
        pool = Pool(id=str(network).replace("/", "-"), subnet=str(network), gateway=gateway or str(first),
                    ip_range=ip_range, aux_addresses=dict(aux_addresses or {}))
        try:
            self.store.put(POOLS, pool.id, asdict(pool), 0)
        except StaleVersion:
            raise Conflict("Pool overlaps with other one on this address space") from None
        return pool

    def release_pool(self, pool_id: str) -> None:
        self.store.delete(POOLS, pool_id)

    def pool(self, pool_id: str) -> Pool:
        found = self.store.get(POOLS, pool_id)
        if found is None:
            raise NotFound(f"no address pool {pool_id}")
        return Pool(**found[0])

    def request_address(self, pool_id: str, preferred: str = "") -> str:
        def take(pool: Pool) -> str:
            reserved = {pool.gateway, *pool.aux_addresses.values(), *pool.allocated}
            if preferred:
                if _address(preferred) not in _network(pool.subnet, "subnet"):
                    raise InvalidArgument(f"address {preferred} is not within subnet {pool.subnet}")
                if preferred in reserved:
                    raise Conflict(f"Address already in use: {preferred}")
                return preferred
            subnet = _network(pool.subnet, "subnet")
            reserved |= {str(subnet.network_address), str(subnet.broadcast_address)}
            for candidate in _network(pool.ip_range or pool.subnet, "ip-range"):
                if str(candidate) not in reserved:
                    return str(candidate)
            raise Unavailable(f"no available IP addresses in pool {pool.subnet}")

        return self._change(pool_id, take, lambda pool, address: pool.allocated.append(address))

    def release_address(self, pool_id: str, address: str) -> None:
        def give_back(pool: Pool, _: str) -> None:
            if address in pool.allocated:
                pool.allocated.remove(address)

        self._change(pool_id, lambda pool: address, give_back)

    def _change(self, pool_id: str, choose: Callable[[Pool], str], apply: Callable[[Pool, str], None]) -> str:
        """Read the pool, choose, apply, write back; again from the read if another writer came first."""
        while True:
            found = self.store.get(POOLS, pool_id)
            if found is None:
                raise NotFound(f"no address pool {pool_id}")
            record, version = found
            pool = Pool(**record)
            chosen = choose(pool)
            apply(pool, chosen)
            try:
                self.store.put(POOLS, pool_id, asdict(pool), version)
            except StaleVersion:
                continue
            return chosen


def _network(text: str, what: str) -> Network:
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise InvalidArgument(f"invalid {what}: {text}") from None


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        raise InvalidArgument(f"invalid address: {text}") from None
