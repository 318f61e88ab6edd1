"""Host ports for published container ports: held, then forwarded.

A published port is held by a socket bound to it in the daemon (no listen: berth forwards with DNAT,
not with a userland proxy), so that no other program takes it while the container runs and a port
already taken is a clear error at start, in dockerd's words; then the firewall forwards it
(berth.network.firewall). Asking for host port 0 takes one the kernel picks from
`ip_local_port_range`; a host port range takes its first free port. A container's ports are held
all or none.
"""
from __future__ import annotations

import errno
import socket
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from berth.errdefs import Conflict
from berth.network.firewall import Firewall, PortRule

_KINDS = {"tcp": socket.SOCK_STREAM, "udp": socket.SOCK_DGRAM}


@dataclass(frozen=True)
class PortRequest:
    """One port to publish: the host's address ("" for all), its port range (0, 0 for any port),
    the container's port."""

    proto: str
    host_ip: str
    host_ports: tuple[int, int]
    container_port: int


class PortMapper:
    def __init__(self, firewall: Firewall) -> None:
        self.firewall = firewall
        self._held: dict[tuple[str, str, int], socket.socket] = {}
        self._lock = threading.Lock()

    def map(self, requests: Sequence[PortRequest], container_ip: str, bridge: str, endpoint: str) -> list[PortRule]:
        """Hold a host port for each request and forward it to `container_ip`; all or none.
        `endpoint` ("name (id)") names the container in errors, as dockerd does."""
        rules: list[PortRule] = []
        try:
            for request in requests:
                port = self._hold(request, endpoint)
                rules.append(PortRule(request.proto, request.host_ip, port, container_ip, request.container_port,
                                      bridge))
            self.firewall.publish(rules)
        except BaseException:
            self._release(rules)
            raise
        return rules

    def unmap(self, rules: Iterable[PortRule]) -> None:
        rules = list(rules)
        self.firewall.unpublish(rules)
        self._release(rules)

    def restore(self, rules: Iterable[PortRule]) -> list[PortRule]:
        """After a daemon restart: hold again the ports of running containers and forward them; the
        rules whose port another program took meanwhile are returned, not forwarded."""
        kept, lost = [], []
        for rule in rules:
            request = PortRequest(rule.proto, rule.host_ip, (rule.host_port, rule.host_port), rule.container_port)
            try:
                self._hold(request, "")
            except Conflict:
                lost.append(rule)
            else:
                kept.append(rule)
        self.firewall.publish(kept)
        return lost

    def _hold(self, request: PortRequest, endpoint: str) -> int:
        first, last = request.host_ports
        candidates = range(first, last + 1) if first else [0]
        failure: OSError | None = None
        for port in candidates:
            with self._lock:
                if port and self._taken_by_berth(request.proto, request.host_ip, port):
                    failure = failure or OSError(errno.EEXIST, "berth")
                    continue
                held = socket.socket(socket.AF_INET, _KINDS[request.proto])
                try:
                    held.bind((request.host_ip or "0.0.0.0", port))
                except OSError as error:
                    held.close()
                    failure = failure or error
                    continue
                port = held.getsockname()[1]
                self._held[(request.proto, request.host_ip, port)] = held
                return port
        raise Conflict(_refusal(request, endpoint, failure))

    def _taken_by_berth(self, proto: str, host_ip: str, port: int) -> bool:
        return any(held_proto == proto and held_port == port and (held_ip == host_ip or "" in (held_ip, host_ip))
                   for held_proto, held_ip, held_port in self._held)

    def _release(self, rules: Iterable[PortRule]) -> None:
        with self._lock:
            for rule in rules:
                held = self._held.pop((rule.proto, rule.host_ip, rule.host_port), None)
                if held is not None:
                    held.close()


def _refusal(request: PortRequest, endpoint: str, failure: OSError | None) -> str:
    address = request.host_ip or "0.0.0.0"
    first, last = request.host_ports
    ports = f"{first}-{last}" if last != first else str(first)
    prefix = f"driver failed programming external connectivity on endpoint {endpoint}: "
    if failure is None or failure.errno == errno.EEXIST:
        return prefix + f"Bind for {address}:{ports} failed: port is already allocated"
    reason = "address already in use" if failure.errno == errno.EADDRINUSE else (failure.strerror or "").lower()
    return prefix + f"Error starting userland proxy: listen {request.proto}4 {address}:{ports}: bind: {reason}"
