"""Legacy links (`--link NAME[:ALIAS]`) on the default bridge, as dockerd makes them: the linked
container's address under its alias in /etc/hosts, and environment variables naming it, its
exposed ports and its environment (ALIAS_NAME, ALIAS_PORT_80_TCP_ADDR, ALIAS_ENV_X...)."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from berth.daemon.container import HAS_PROCESS, Container
from berth.errdefs import InvalidArgument, NotFound

_NOT_PASSED_ON = ("HOME", "PATH")  # variables of the linked container's image that dockerd leaves out


@dataclass(frozen=True)
class Link:
    target: Container
    alias: str
    address: str


def normalize(links: Sequence[str], name: str, find: Callable[[str], Container]) -> list[str]:
    """A new container's HostConfig.Links as dockerd records them ("/db:/web/db"); every linked
    container must exist."""
    recorded = []
    for link in links:
        target_ref, _, alias = link.lstrip("/").partition(":")
        try:
            target = find(target_ref)
        except NotFound:
            raise InvalidArgument(f"could not get container for {target_ref}") from None
        recorded.append(f"/{target.name}:/{name}/{(alias or target_ref).rpartition('/')[2]}")
    return recorded


def resolve(container: Container, find: Callable[[str], Container]) -> list[Link]:
    """The links of a container that is starting: each linked container must be running on the bridge."""
    found = []
    for link in container.host_config.get("Links") or []:
        target_name, _, link_path = link.partition(":")
        alias = link_path.rpartition("/")[2]
        target = find(target_name.lstrip("/"))
        address = (target.networks.get("bridge") or {}).get("IPAddress") or ""
        if target.state.status not in HAS_PROCESS or not address:
            raise InvalidArgument(f"Cannot link to a non running container: {target_name} AS {link_path}")
        found.append(Link(target, alias, address))
    return found


def hosts_lines(links: Sequence[Link]) -> list[str]:
    """/etc/hosts entries: the address, the alias, the linked container's hostname and its name."""
    lines = []
    for link in links:
        names = [link.alias, link.target.config.get("Hostname") or link.target.id[:12]]
        if link.target.name != link.alias:
            names.append(link.target.name)
        lines.append(f"{link.address}\t{' '.join(names)}")
    return lines


def environment(container: Container, links: Sequence[Link]) -> list[str]:
    """The variables each link gives the container's processes."""
    variables = []
    for link in links:
        prefix = link.alias.upper().replace("-", "_")
        variables.append(f"{prefix}_NAME=/{container.name}/{link.alias}")
        ports = sorted(_ports(link.target))
        if ports:
            port, proto = ports[0]
            variables.append(f"{prefix}_PORT={proto}://{link.address}:{port}")
        for port, proto in ports:
            key = f"{prefix}_PORT_{port}_{proto.upper()}"
            variables += [f"{key}={proto}://{link.address}:{port}", f"{key}_ADDR={link.address}",
                          f"{key}_PORT={port}", f"{key}_PROTO={proto}"]
        for entry in link.target.config.get("Env") or []:
            key, sep, value = entry.partition("=")
            if sep and key not in _NOT_PASSED_ON:
                variables.append(f"{prefix}_ENV_{key}={value}")
    return variables


def _ports(container: Container) -> list[tuple[int, str]]:
    ports = []
    for exposed in container.config.get("ExposedPorts") or {}:
        number, _, proto = exposed.partition("/")
        ports.append((int(number), proto or "tcp"))
    return ports
