"""A container's ports as the Engine API has them: what `-p`/`-P` ask (HostConfig.PortBindings,
PublishAllPorts, Config.ExposedPorts), and what it got (NetworkSettings.Ports, the Ports of
`docker ps`), from the rules its start published (berth.network.portmapper)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any

from berth.errdefs import InvalidArgument
from berth.network.firewall import PortRule
from berth.network.portmapper import PortRequest


def requested(config: Mapping[str, Any], host_config: Mapping[str, Any]) -> list[PortRequest]:
    """The ports to publish: each PortBindings entry, and with PublishAllPorts every exposed port
    that has none (on a free host port)."""
    bindings: dict[str, list[dict[str, str]]] = dict(host_config.get("PortBindings") or {})
    if host_config.get("PublishAllPorts"):
        for port in config.get("ExposedPorts") or {}:
            bindings.setdefault(port, [{"HostIp": "", "HostPort": ""}])
    found = []
    for port, entries in sorted(bindings.items()):
        number, proto = split_port(port)
        for entry in entries or [{}]:
            found.append(PortRequest(proto, entry.get("HostIp") or "", _host_ports(entry.get("HostPort") or ""), number))
    return found


def check_bindings(bindings: Mapping[str, Any]) -> None:
    """PortBindings as dockerd checks them at create."""
    for port, entries in bindings.items():
        split_port(port)
        for entry in entries or []:
            _host_ports(entry.get("HostPort") or "")
            if ":" in (entry.get("HostIp") or ""):  # dockerd would proxy it in user space
                raise InvalidArgument(f"berth publishes ports on the host's IPv4 addresses only, not on "
                                      f"[{entry['HostIp']}]")


def split_port(port: str) -> tuple[int, str]:
    """"80/tcp" -> (80, "tcp")."""
    number, _, proto = port.partition("/")
    proto = proto or "tcp"
    if proto not in ("tcp", "udp") or not number.isdigit() or not 0 < int(number) < 65536:
        raise InvalidArgument(f"invalid port specification: \"{port}\"")
    return int(number), proto


def _host_ports(text: str) -> tuple[int, int]:
    if not text:
        return 0, 0
    first, _, last = text.partition("-")
    try:
        ports = int(first), int(last or first)
    except ValueError:
        raise InvalidArgument(f"invalid hostPort: {text}") from None
    if not 0 < ports[0] <= ports[1] < 65536:
        raise InvalidArgument(f"invalid hostPort: {text}")
    return ports


def settings(config: Mapping[str, Any], published: Sequence[Mapping[str, Any]], running: bool) -> dict[str, Any]:
    """NetworkSettings.Ports of a container: while it runs, each exposed port with its host bindings
    (None where it has none); nothing when it does not run."""
    if not running:
        return {}
    ports: dict[str, Any] = {port: None for port in config.get("ExposedPorts") or {}}
    for rule in published:
        key = f"{rule['container_port']}/{rule['proto']}"
        ports[key] = [*(ports.get(key) or []), {"HostIp": rule["host_ip"] or "0.0.0.0",
                                                "HostPort": str(rule["host_port"])}]
    return ports


def summary(config: Mapping[str, Any], published: Sequence[Mapping[str, Any]], running: bool) -> list[dict[str, Any]]:
    """The Ports of a `GET /containers/json` entry."""
    entries = []
    for port, bindings in settings(config, published, running).items():
        number, proto = split_port(port)
        if not bindings:
            entries.append({"PrivatePort": number, "Type": proto})
        for binding in bindings or []:
            entries.append({"IP": binding["HostIp"], "PrivatePort": number, "PublicPort": int(binding["HostPort"]),
                            "Type": proto})
    return entries


def as_records(rules: Sequence[PortRule]) -> list[dict[str, Any]]:
    """The rules as a container's record keeps them."""
    return [asdict(rule) for rule in rules]


def as_rules(records: Sequence[Mapping[str, Any]]) -> list[PortRule]:
    return [PortRule(**record) for record in records]
