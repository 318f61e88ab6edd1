"""What is wired, read back from the kernel: a network namespace's interfaces, addresses and routes,
and for each veth its peer on the host and the bridge that peer is on (what `ip netns exec NS ip
addr`, `ip route` and `ip link` show, the course's way of looking at a container's network)."""
from __future__ import annotations

import socket
from typing import Any

from pyroute2 import IPRoute

from berth.network import netns
from berth.network.bridge import link_index

FAMILIES = (socket.AF_INET, socket.AF_INET6)
RTN_UNICAST = 1  # linux/rtnetlink.h: a route to a destination (not local, broadcast or multicast)


def describe(netns_path: str) -> dict[str, Any]:
    """{"interfaces": [...], "routes": [...]} of the namespace at `netns_path`; a veth's entry has its
    host-side "peer" and that peer's "bridge"."""
    with netns.entered(netns_path):
        inside = IPRoute()
    with inside, IPRoute() as host:
        host_links = {link["index"]: link for link in host.get_links()}
        interfaces = []
        for link in inside.get_links():
            entry = _interface(link, inside)
            peer_index = link.get_attr("IFLA_LINK")
            if entry["kind"] == "veth" and peer_index in host_links:
                peer = host_links[peer_index]
                entry["peer"] = peer.get_attr("IFLA_IFNAME")
                master = peer.get_attr("IFLA_MASTER")
                entry["bridge"] = host_links[master].get_attr("IFLA_IFNAME") if master in host_links else ""
            interfaces.append(entry)
        names = {entry["index"]: entry["name"] for entry in interfaces}
        routes = [_route(route, names) for family in FAMILIES for route in inside.get_routes(family=family, table=254)
                  if route["type"] == RTN_UNICAST and not _link_local(route.get_attr("RTA_DST") or "")]
    return {"interfaces": interfaces, "routes": routes}


def bridge_addresses(name: str) -> list[str]:
    """The addresses on a host bridge (its network's gateway), with their prefixes."""
    with IPRoute() as host:
        index = link_index(host, name)
        if index is None:
            return []
        return _addresses(host, index)


def _interface(link: Any, ipr: Any) -> dict[str, Any]:
    info = link.get_attr("IFLA_LINKINFO")
    return {
        "index": link["index"], "name": link.get_attr("IFLA_IFNAME"),
        "kind": (info.get_attr("IFLA_INFO_KIND") if info else "") or ("loopback" if link["index"] == 1 else ""),
        "mac": link.get_attr("IFLA_ADDRESS"), "mtu": link.get_attr("IFLA_MTU"),
        "state": link.get_attr("IFLA_OPERSTATE"),
        "addresses": _addresses(ipr, link["index"]),
    }


def _addresses(ipr: Any, index: int) -> list[str]:
    """A link's addresses with their prefixes, IPv4 then IPv6, but for the link-local ones every
    IPv6 link has."""
    return [f"{address.get_attr('IFA_ADDRESS')}/{address['prefixlen']}" for family in FAMILIES
            for address in ipr.get_addr(index=index, family=family) if not _link_local(address.get_attr("IFA_ADDRESS"))]


def _link_local(address: str) -> bool:
    return address.lower().startswith("fe80:")


def _route(route: Any, names: dict[int, str]) -> dict[str, str]:
    destination = route.get_attr("RTA_DST")
    return {"destination": f"{destination}/{route['dst_len']}" if destination else "default",
            "gateway": route.get_attr("RTA_GATEWAY") or "", "device": names.get(route.get_attr("RTA_OIF"), "")}
