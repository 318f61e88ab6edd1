"""`berth network explain CONTAINER`: a container's network as the kernel has it, the way the course
looks at it by hand with `ip netns` and veth pairs: its namespace, each interface with its veth peer
and bridge, addresses, routes, its DNS servers and the firewall rules that apply to its addresses."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from berth.daemon.container import HAS_PROCESS, Container
from berth.daemon.namespaces import joined_container
from berth.daemon.networks import NetworkService
from berth.errdefs import Conflict
from berth.network import wiring

RulesFor = Callable[[str], list[str]]  # an address -> the readable firewall rules that apply to it


def explain(container: Container, networks: NetworkService, resolv_conf: Path, rules_for: RulesFor) -> dict[str, Any]:
    """The container's wiring (it must be running). Blocking: netlink, on a worker thread."""
    if container.state.status not in HAS_PROCESS:
        raise Conflict(f"container {container.name} is not running: it has no network to explain")
    mode = container.host_config.get("NetworkMode") or ""
    explained: dict[str, Any] = {"Container": container.name, "Id": container.id, "NetworkMode": mode,
                                 "DNS": _resolver(resolv_conf), "Interfaces": [], "Routes": [], "Rules": []}
    if mode == "host":
        explained["Namespace"] = "the host's"
        return explained
    sandbox = networks.sandbox_of(container.id)
    namespace = sandbox["Key"] if sandbox else f"/proc/{container.state.pid}/ns/net"
    explained["Namespace"] = namespace
    if owner := joined_container(mode):
        explained["SharedWith"] = owner
    described = wiring.describe(namespace)
    on_network = {endpoint.get("Interface"): endpoint["Network"] for endpoint in networks.endpoints()
                  if endpoint["Container"] == container.id}
    for interface in described["interfaces"]:
        interface["network"] = on_network.get(interface["name"], "")
        if interface.get("bridge"):
            interface["gateway"] = wiring.bridge_addresses(interface["bridge"])
    explained["Interfaces"] = described["interfaces"]
    explained["Routes"] = described["routes"]
    explained["Rules"] = [rule for interface in described["interfaces"] if interface["kind"] != "loopback"
                          for address in interface["addresses"] for rule in rules_for(address.split("/")[0])]
    return explained


def _resolver(resolv_conf: Path) -> dict[str, list[str]]:
    """The nameservers, search domains and options of the container's resolv.conf."""
    found: dict[str, list[str]] = {"nameservers": [], "search": [], "options": []}
    try:
        lines = resolv_conf.read_text().splitlines()
    except OSError:
        return found
    for words in (line.split() for line in lines):
        if words[:1] == ["nameserver"] and len(words) > 1:
            found["nameservers"].append(words[1])
        elif words[:1] in (["search"], ["domain"]):
            found["search"] += words[1:]
        elif words[:1] == ["options"]:
            found["options"] += words[1:]
    return found
