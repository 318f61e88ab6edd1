"""berth's firewall: outbound NAT, published ports and isolation between networks, as nftables rules in
a table of berth's own (`inet berth`: IPv4 and IPv6 alike). (Containers of one `icc=false` bridge are kept apart by the
bridge itself: its ports are isolated, berth.network.bridge.)

The rules are declared, not patched: the firewall holds what should be (the bridge networks and the
published ports) and each change writes berth's table whole, in one nftables transaction that
deletes and remakes them. So a daemon restarted after a crash, or a table someone half-emptied,
comes back to exactly what the daemon's records say, with nothing duplicated and nothing left; and
rules berth did not write (other tables, docker's chains) are never touched. nftables is reached
through its own library (libnftables, by its Python binding `nftables`), never by parsing `nft`'s text.

Published ports are DNAT rules: from other hosts (prerouting), from the host itself to any of its
addresses, 127.0.0.1 included (output; `route_localnet` on the bridge lets such a packet leave
for the container, and it is masqueraded there), and from containers to the host's address (the
hairpin: masqueraded when it leaves through the bridge it came from).
"""
from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nftables import Nftables

from berth.errdefs import Unavailable

TABLE = "berth"


@dataclass(frozen=True)
class BridgeRules:
    """What the firewall does for one bridge network."""

    bridge: str  # the interface
    subnet: str
    internal: bool = False  # no traffic in or out of the network but between its members
    masquerade: bool = True  # outbound NAT to the host's address
    subnet6: str = ""  # an IPv6 network's, masqueraded as its IPv4 subnet is


@dataclass(frozen=True)
class PortRule:
    """One published port: host_ip:host_port/proto to container_ip:container_port."""

    proto: str  # "tcp" or "udp"
    host_ip: str  # "" for every address of the host
    host_port: int
    container_ip: str
    container_port: int
    bridge: str


class Firewall:
    def __init__(self, table: str = TABLE) -> None:
        self.table = table
        self.bridges: dict[str, BridgeRules] = {}
        self.ports: set[PortRule] = set()
        self._lock = threading.Lock()
        self._nft = Nftables()

    # --- what should be ----------------------------------------------------------------------
    def add_bridge(self, rules: BridgeRules) -> None:
        with self._lock:
            self.bridges[rules.bridge] = rules
            _enable_localnet(rules.bridge)
            self._apply()

    def remove_bridge(self, bridge: str) -> None:
        with self._lock:
            self.bridges.pop(bridge, None)
            self.ports = {rule for rule in self.ports if rule.bridge != bridge}
            self._apply()

    def publish(self, rules: Iterable[PortRule]) -> None:
        with self._lock:
            self.ports |= set(rules)
            self._apply()

    def unpublish(self, rules: Iterable[PortRule]) -> None:
        with self._lock:
            self.ports -= set(rules)
            self._apply()

    def reconcile(self, bridges: Iterable[BridgeRules], ports: Iterable[PortRule]) -> None:
        """After a daemon start: exactly these, whatever the table held."""
        with self._lock:
            self.bridges = {rules.bridge: rules for rules in bridges}
            self.ports = set(ports)
            for bridge in self.bridges:
                _enable_localnet(bridge)
            self._apply()

    def teardown(self) -> None:
        """Remove berth's table."""
        with self._lock:
            self.bridges, self.ports = {}, set()
            self._run([*_deleted(self.table), *self._admitted_by_others()])

    # --- what is ------------------------------------------------------------------------------
    def rules_for(self, address: str) -> list[str]:
        """The rules of berth's table that name `address` (not one it begins, such as 10.0.0.2 of
        10.0.0.20), as `nft` writes them (for `network explain`)."""
        named = re.compile(rf"(?<![\w.:]){re.escape(address)}(?![\w]|:\w*:)")
        with self._lock:
            code, text, _ = self._nft.cmd(f"list table inet {self.table}")
        return [line.strip() for line in (text if code == 0 else "").splitlines() if named.search(line)]

    # --- writing ------------------------------------------------------------------------------
    def _apply(self) -> None:
        self._run([*_deleted(self.table), *self._table(), *self._admitted_by_others()])

    def _admitted_by_others(self) -> list[dict[str, Any]]:
        """Rules that let the bridges' traffic through the forward chains of iptables' `filter` tables
        where there are such (dockerd's drops by default what it did not make: without them, no
        packet of a berth network would pass, bridged ones included once dockerd loaded br_netfilter).
        berth's own there, told apart by their comment, are made anew; no other rule is touched."""
        commands: list[dict[str, Any]] = []
        for family in ("ip", "ip6"):
            chain = {"family": family, "table": "filter", "chain": "FORWARD"}
            code, listed, _ = self._nft.json_cmd({"nftables": [{"list": {"chain": {"family": family, "table": "filter", "name": "FORWARD"}}}]})
            if code != 0:  # no such chain: nothing in the way
                continue
            for item in listed["nftables"]:
                if (rule := item.get("rule")) and rule.get("comment") == self.table:
                    commands.append({"delete": {"rule": {**chain, "handle": rule["handle"]}}})
            for bridge in sorted(self.bridges):
                for key in ("iifname", "oifname"):
                    commands.append({"insert": {"rule": {**chain, "comment": self.table,
                                                         "expr": [_meta(key, bridge), {"accept": None}]}}})
        return commands

    def _run(self, commands: list[dict[str, Any]]) -> None:
        code, _, error = self._nft.json_cmd({"nftables": commands})
        if code != 0:
            raise Unavailable(f"cannot write berth's firewall rules: {str(error).strip()}")

    def _table(self) -> list[dict[str, Any]]:
        table = {"family": "inet", "table": self.table}
        commands: list[dict[str, Any]] = [{"add": {"table": {"family": "inet", "name": self.table}}}]
        for name, kind, hook, priority in (("prerouting", "nat", "prerouting", -100), ("output", "nat", "output", -100),
                                           ("postrouting", "nat", "postrouting", 100),
                                           ("forward", "filter", "forward", 0)):
            commands.append({"add": {"chain": {**table, "name": name, "type": kind, "hook": hook, "prio": priority,
                                               "policy": "accept"}}})
        commands.append({"add": {"chain": {**table, "name": "published"}}})
        # route_localnet lets packets for 127.0.0.0/8 leave by a bridge; none may come in by one (a
        # container with CAP_NET_RAW could otherwise reach the host's loopback services)
        commands.append({"add": {"chain": {**table, "name": "guard", "type": "filter", "hook": "prerouting",
                                           "prio": -300, "policy": "accept"}}})
        local = {"match": {"op": "==", "left": {"fib": {"result": "type", "flags": ["daddr"]}}, "right": "local"}}
        for chain in ("prerouting", "output"):
            commands.append(_rule(table, chain, local, {"jump": {"target": "published"}}))
        for port in sorted(self.ports, key=lambda p: (p.host_port, p.proto, p.host_ip)):
            commands.append(_rule(table, "published", *_port_match(port),
                                  {"dnat": {"family": "ip", "addr": port.container_ip, "port": port.container_port}}))
        bridges = sorted(self.bridges.values(), key=lambda rules: rules.bridge)
        names = [rules.bridge for rules in bridges]
        if names:
            commands.append(_rule(table, "guard", _meta("iifname", {"set": names}), _ip("daddr", "127.0.0.0/8"),
                                  {"drop": None}))
        for rules in bridges:
            into, out_of = _meta("oifname", rules.bridge), _meta("iifname", rules.bridge)
            if rules.masquerade and not rules.internal:
                for subnet in (rules.subnet, rules.subnet6):
                    if subnet:
                        commands.append(_rule(table, "postrouting", _ip("saddr", subnet),
                                              _meta("oifname", rules.bridge, "!="), {"masquerade": None}))
            # a published port reached through 127.0.0.1, or from a container of this bridge through
            # the host's address (hairpin): the answer must come back through the host
            for source in ("127.0.0.0/8", rules.subnet):
                commands.append(_rule(table, "postrouting", into, _dnat_done(), _ip("saddr", source),
                                      {"masquerade": None}))
            if rules.internal:
                commands.append(_rule(table, "forward", out_of, _meta("oifname", rules.bridge, "!="), {"drop": None}))
                commands.append(_rule(table, "forward", into, _meta("iifname", rules.bridge, "!="), {"drop": None}))
            others = [name for name in names if name != rules.bridge]
            if others:
                commands.append(_rule(table, "forward", out_of, _meta("oifname", {"set": others}), {"drop": None}))
        return commands


def _deleted(table: str) -> list[dict[str, Any]]:
    """Delete berth's table, whether or not it exists (adding an empty one first makes it so), and the
    IPv4-only `ip` table of that name that berth wrote before it had IPv6 networks."""
    return [{verb: {"table": {"family": family, "name": table}}} for family in ("inet", "ip") for verb in ("add", "delete")]


def _rule(table: dict[str, str], chain: str, *expressions: Any) -> dict[str, Any]:
    return {"add": {"rule": {**table, "chain": chain, "expr": list(expressions)}}}


def _meta(key: str, value: Any, op: str = "==") -> dict[str, Any]:
    return {"match": {"op": op, "left": {"meta": {"key": key}}, "right": value}}


def _ip(field: str, value: str) -> dict[str, Any]:
    """A match on an IPv4 or IPv6 (as `value` is) source or destination address or subnet."""
    network, _, prefix = value.partition("/")
    right: Any = {"prefix": {"addr": network, "len": int(prefix)}} if prefix else network
    protocol = "ip6" if ":" in network else "ip"
    return {"match": {"op": "==", "left": {"payload": {"protocol": protocol, "field": field}}, "right": right}}


def _dnat_done() -> dict[str, Any]:
    return {"match": {"op": "in", "left": {"ct": {"key": "status"}}, "right": "dnat"}}


def _port_match(port: PortRule) -> list[dict[str, Any]]:
    matches = [_ip("daddr", port.host_ip)] if port.host_ip not in ("", "0.0.0.0") else []
    matches.append({"match": {"op": "==", "left": {"payload": {"protocol": port.proto, "field": "dport"}},
                              "right": port.host_port}})
    return matches


def _enable_localnet(bridge: str) -> None:
    """Let packets from 127.0.0.1 (published ports reached through loopback) leave by the bridge."""
    path = Path(f"/proc/sys/net/ipv4/conf/{bridge}/route_localnet")
    if path.exists():
        path.write_text("1")


def enable_forwarding(ipv6: bool = False) -> None:
    """IPv4 forwarding in this network namespace (daemon.json ip-forward), without which bridge
    networks have no way out; IPv6 forwarding too once an IPv6 network is made (as dockerd: the
    host then stops taking router advertisements on interfaces that do not ask for them anyway)."""
    Path("/proc/sys/net/ipv4/ip_forward").write_text("1")
    if ipv6:
        Path("/proc/sys/net/ipv6/conf/all/forwarding").write_text("1")
