"""The bridge driver: a network is a Linux bridge on the host, whose address is the network's gateway;
a container joins it through a veth pair, one end (`eth0`, `eth1`...) in the container's namespace
with its address and a default route through the gateway, the other on the bridge. What goes
through the host (outbound NAT, published ports, isolation between networks) is the firewall's
(berth.network.firewall); this module only wires links, through netlink (pyroute2).
"""
from __future__ import annotations

import contextlib
import errno
import ipaddress
import os
import socket
from dataclasses import dataclass
from typing import Any

from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError

from berth.errdefs import Conflict
from berth.network import netns
from berth.network.drivers import EndpointSpec, NetworkSpec, Sandbox

NAME_OPTION = "com.docker.network.bridge.name"
MTU_OPTION = "com.docker.network.driver.mtu"
ICC_OPTION = "com.docker.network.bridge.enable_icc"
MASQUERADE_OPTION = "com.docker.network.bridge.enable_ip_masquerade"
DEFAULT_MTU = 1500
IFA_F_NODAD = 0x02  # linux/if_addr.h


@dataclass(frozen=True)
class BridgeSettings:
    """What a bridge network's options (`-o`) say, with Docker's defaults."""

    name: str
    mtu: int
    icc: bool
    masquerade: bool

    @classmethod
    def of(cls, network: NetworkSpec) -> BridgeSettings:
        options = network.options
        return cls(name=options.get(NAME_OPTION) or f"br-{network.id[:12]}",
                   mtu=int(options.get(MTU_OPTION) or DEFAULT_MTU),
                   icc=_true(options.get(ICC_OPTION, "true")),
                   masquerade=_true(options.get(MASQUERADE_OPTION, "true")))


def _true(value: Any) -> bool:
    return str(value).lower() in ("1", "t", "true", "yes", "on")


def link_index(ipr: IPRoute, name: str) -> int | None:
    """The index of the interface `name` (None if there is none), asked for alone: listing every
    link to find one would cost each start more with every container on the host."""
    try:
        return int(ipr.link("get", ifname=name)[0]["index"])
    except NetlinkError as error:
        if error.code == errno.ENODEV:
            return None
        raise


def made_link(ipr: IPRoute, name: str) -> int:
    """The index of the interface `name` that was just made."""
    if (index := link_index(ipr, name)) is None:
        raise Conflict(f"interface {name} vanished as it was made")
    return index


def host_side(endpoint_id: str) -> str:
    """The name of an endpoint's veth end on the bridge (docker's pattern: veth + 7 characters)."""
    return f"veth{endpoint_id[:7]}"


def mac_of(address: str) -> str:
    """Docker's MAC for an IPv4 address: 02:42 and the address's four bytes."""
    packed = ipaddress.IPv4Interface(address).ip.packed
    return ":".join(f"{byte:02x}" for byte in (0x02, 0x42, *packed))


class BridgeDriver:
    name = "bridge"
    scope = "local"

    def create_network(self, network: NetworkSpec) -> None:
        """The bridge, up, with the gateway's address (the subnet's prefix) on it; an existing bridge
        of that name (made by hand, or left by a daemon killed) is taken over."""
        settings = BridgeSettings.of(network)
        with IPRoute() as ipr:
            index = link_index(ipr, settings.name)
            if index is None:
                try:
                    ipr.link("add", ifname=settings.name, kind="bridge", mtu=settings.mtu)
                except NetlinkError as error:
                    raise Conflict(f"cannot make bridge {settings.name}: {os.strerror(error.code)}") from None
                index = made_link(ipr, settings.name)
            held = {(a.get_attr("IFA_ADDRESS"), a["prefixlen"]) for a in ipr.get_addr(index=index)}
            for gateway in (ipaddress.ip_interface(text) for text in (network.gateway, network.gateway6) if text):
                if (str(gateway.ip), gateway.network.prefixlen) not in held:
                    _add_address(ipr, index, gateway)
            ipr.link("set", index=index, state="up")

    def delete_network(self, network: NetworkSpec) -> None:
        with IPRoute() as ipr:
            if (index := link_index(ipr, BridgeSettings.of(network).name)) is not None:
                ipr.link("del", index=index)

    def sandbox(self, network: NetworkSpec) -> Sandbox:
        return Sandbox.PREPARED

    def join(self, network: NetworkSpec, endpoint: EndpointSpec, netns_path: str) -> dict[str, Any]:
        """A veth pair: `endpoint.ifname` in the namespace at `netns_path`, with the endpoint's address,
        MAC and the default route (a container's first network gives it); the other end on the bridge."""
        settings = BridgeSettings.of(network)
        mac = endpoint.mac or mac_of(endpoint.address)
        outside = host_side(endpoint.id)
        namespace_fd = os.open(netns_path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            with IPRoute() as ipr:
                bridge = link_index(ipr, settings.name)
                if bridge is None:
                    raise Conflict(f"bridge {settings.name} of network {network.name} is gone")
                ipr.link("add", ifname=outside, kind="veth", mtu=settings.mtu, master=bridge,
                         peer={"ifname": endpoint.ifname, "address": mac, "mtu": settings.mtu,
                               "net_ns_fd": namespace_fd})
                try:
                    index = made_link(ipr, outside)
                    # hairpin: a container reaching its own published port through the host's address;
                    # isolated (icc=false): no frame from one isolated port to another, the host still reached
                    ipr.brport("set", index=index, mode=1, isolated=0 if settings.icc else 1)
                    _without_ipv6(outside)  # a bridge port: no addresses, no probes
                    ipr.link("set", index=index, state="up")
                    self._configure_inside(netns_path, endpoint)
                except BaseException:
                    ipr.link("del", ifname=outside)
                    raise
        finally:
            os.close(namespace_fd)
        return {"MacAddress": mac, "IPv4Address": endpoint.address, "IPv6Address": endpoint.address6}

    @staticmethod
    def _configure_inside(netns_path: str, endpoint: EndpointSpec) -> None:
        with netns.entered(netns_path):
            inside = IPRoute()
            if not endpoint.address6:  # on an IPv4 network, no link-local IPv6 either (as Docker 26's)
                _without_ipv6(endpoint.ifname)
        with inside:
            index = made_link(inside, endpoint.ifname)
            for address in (endpoint.address, endpoint.address6):
                if address:
                    _add_address(inside, index, ipaddress.ip_interface(address))
            inside.link("set", index=index, state="up")
            inside.link("set", index=1, state="up")  # lo is always the first link of a namespace
            if endpoint.default_route and endpoint.gateway:
                inside.route("add", dst="default", gateway=endpoint.gateway)
            if endpoint.default_route and endpoint.gateway6:
                inside.route("add", dst="::/0", gateway=endpoint.gateway6, family=socket.AF_INET6)

    def leave(self, network: NetworkSpec, endpoint_id: str, sandbox_ending: bool = False) -> None:
        """Delete the pair (both ends go together). When the container's namespace is ending, the
        kernel deletes the pair as it tears the namespace down, in the background: deleting it here
        would make the container's exit wait for the kernel's grace periods (some 30 ms)."""
        if sandbox_ending:
            return
        with IPRoute() as ipr:
            if (index := link_index(ipr, host_side(endpoint_id))) is not None:
                ipr.link("del", index=index)


def _without_ipv6(interface: str) -> None:
    """Turn IPv6 off on an interface of the calling thread's namespace, before it is up: else its
    duplicate-address, router and multicast probes flood every port of the bridge, and starts slow
    down as a network fills."""
    with contextlib.suppress(FileNotFoundError), \
            open(f"/proc/sys/net/ipv6/conf/{interface}/disable_ipv6", "w") as knob:  # a kernel without IPv6
        knob.write("1")


def _add_address(ipr: IPRoute, index: int, interface: ipaddress.IPv4Interface | ipaddress.IPv6Interface) -> None:
    """An address on a link; an IPv6 one usable at once, as no one else on a bridge network holds it
    (no duplicate address detection, as Docker's)."""
    flags = IFA_F_NODAD if interface.version == 6 else 0
    ipr.addr("add", index=index, address=str(interface.ip), prefixlen=interface.network.prefixlen, flags=flags)


def routed_subnets() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """The subnets the host has routes to (not the default routes): a network made without a subnet
    keeps clear of them, as dockerd's does."""
    with IPRoute() as ipr:
        return [ipaddress.ip_network(f"{route.get_attr('RTA_DST')}/{route['dst_len']}", strict=False)
                for family in (socket.AF_INET, socket.AF_INET6)
                for route in ipr.get_routes(family=family, table=254)
                if route["dst_len"] and route.get_attr("RTA_DST")]
