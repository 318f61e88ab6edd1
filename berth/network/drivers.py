"""Network drivers: what a network of each kind is, and what joining it gives a container.

A driver answers for its networks: whether more than its built-in one can be made, and which network
namespace (sandbox) a container joining it gets: one of its own (`null`, the `none` network: only
loopback, which the runtime brings up) or the host's (`host`). Drivers that wire interfaces (bridge,
overlay) also set up and tear down the network itself and each endpoint in a sandbox.

`--network container:NAME` is not a driver: it names no network, only a sandbox, the one another
container already has (dockerd's libnetwork does the same: such a container has no endpoint and no
network lists it). So it is a third kind of `Sandbox`, JOINED, which the daemon resolves before any
driver is asked; a driver never sees it. Issue 8's `network connect` adds endpoints to a sandbox,
whichever kind it is.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from berth.errdefs import Forbidden


class Sandbox(StrEnum):
    """The network namespace a container on a network gets."""

    OWN = "own"  # a new one, made by the runtime with the container (loopback only)
    PREPARED = "prepared"  # a new one the daemon makes and wires before the container starts, kept as a file
    HOST = "host"  # the host's
    JOINED = "joined"  # another container's (`--network container:NAME`; no driver is asked)


@dataclass
class NetworkSpec:
    """What a network is made of: its name, driver and the options it was created with."""

    id: str
    name: str
    driver: str
    options: dict[str, Any]
    subnet: str = ""  # the IPv4 pool, "172.18.0.0/16"
    gateway: str = ""  # its gateway with the subnet's prefix, "172.18.0.1/16"
    internal: bool = False
    gateway6: str = ""  # an IPv6 network's gateway with its subnet's prefix, "2001:db8::1/64"


@dataclass
class EndpointSpec:
    """A container's place on a network, as the daemon asks a driver to wire it."""

    id: str
    address: str = ""  # with the subnet's prefix, "172.18.0.2/16"
    gateway: str = ""  # the address of the network's gateway, "172.18.0.1"
    address6: str = ""  # on an IPv6 network, "2001:db8::2/64"
    gateway6: str = ""
    mac: str = ""  # chosen by the user (--mac-address); else the driver derives one
    ifname: str = "eth0"  # the interface's name inside the container
    default_route: bool = True  # the container's first network gives it its default route


class NetworkDriver(Protocol):
    name: str  # as `network create -d NAME` names it
    scope: str  # "local", or "swarm"/"global" for networks that span hosts

    def create_network(self, network: NetworkSpec) -> None:
        """Make the network (a bridge device, an overlay's tunnel...). Raises Forbidden where only the
        built-in network of this driver may exist."""

    def delete_network(self, network: NetworkSpec) -> None: ...

    def sandbox(self, network: NetworkSpec) -> Sandbox:
        """The namespace a container joining `network` runs in."""

    def join(self, network: NetworkSpec, endpoint: EndpointSpec, netns_path: str) -> dict[str, Any]:
        """Wire an endpoint of `network` into the network namespace at `netns_path` (a container's
        sandbox: `/proc/PID/ns/net` or a bind-mounted namespace file); what inspect shows of it
        (MacAddress, IPv4Address, IPv6Address), kept in the endpoint's record."""

    def leave(self, network: NetworkSpec, endpoint_id: str, sandbox_ending: bool = False) -> None:
        """Undo `join`; also when the sandbox is gone already. `sandbox_ending`: the namespace is
        being let go of with the container (it exited), so what lives only in it dies with it and
        may be left to the kernel."""


class _BuiltinOnly:
    """A driver whose one network is made by the daemon itself, as dockerd's `null` and `host`."""

    name = ""
    scope = "local"

    def create_network(self, network: NetworkSpec) -> None:
        raise Forbidden(f'only one instance of "{self.name}" network is allowed')

    def delete_network(self, network: NetworkSpec) -> None:
        raise Forbidden(f"{network.name} is a pre-defined network and cannot be removed")

    def join(self, network: NetworkSpec, endpoint: EndpointSpec, netns_path: str) -> dict[str, Any]:
        return {}  # nothing to wire: the namespace is what the container gets

    def leave(self, network: NetworkSpec, endpoint_id: str, sandbox_ending: bool = False) -> None:
        pass


class NullDriver(_BuiltinOnly):
    """`none`: the container's own namespace with only loopback."""

    name = "null"

    def sandbox(self, network: NetworkSpec) -> Sandbox:
        return Sandbox.OWN


class HostDriver(_BuiltinOnly):
    """`host`: the host's namespace, its interfaces and ports."""

    name = "host"

    def sandbox(self, network: NetworkSpec) -> Sandbox:
        return Sandbox.HOST
