"""Where and how to reach a registry: HTTPS by default, with the certificates under
`certs.d/HOST[:PORT]/`; plain HTTP only for registries listed as insecure (by name or CIDR) and for
loopback, as dockerd decides. Docker Hub names go to `registry-mirrors` first, then Docker Hub.
"""
from __future__ import annotations

import ipaddress
import socket
import ssl
from dataclasses import dataclass, field
from pathlib import Path

from berth.errdefs import InvalidArgument

DOCKER_HUB = "docker.io"
DOCKER_HUB_ENDPOINT = "https://registry-1.docker.io"
LOOPBACK = ("127.0.0.0/8", "::1/128")

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Endpoint:
    """One base URL to try, and how to verify it: an SSLContext, or False for no verification."""

    url: str
    verify: ssl.SSLContext | bool

    @property
    def plain_http(self) -> bool:
        return self.url.startswith("http://")


@dataclass
class RegistryPolicy:
    insecure: list[str] = field(default_factory=list)  # daemon.json insecure-registries
    mirrors: list[str] = field(default_factory=list)  # daemon.json registry-mirrors
    certs_dir: Path = Path("/etc/berth/certs.d")

    def __post_init__(self) -> None:
        self._cidrs: list[IPNetwork] = [ipaddress.ip_network(c) for c in LOOPBACK]
        self._hosts: set[str] = set()
        for entry in self.insecure:
            if "://" in entry:
                raise InvalidArgument(f"insecure registry {entry} should not contain '://'")
            try:
                self._cidrs.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                self._hosts.add(entry)
        for mirror in self.mirrors:
            if not mirror.startswith(("http://", "https://")):
                raise InvalidArgument(f"invalid mirror: unsupported scheme in {mirror!r}: must use either 'https://' or 'http://'")

    def is_secure(self, host: str) -> bool:
        """dockerd's rule: insecure if listed by name, or if the host (an IP, or a name's addresses)
        falls in an insecure CIDR (loopback is one)."""
        if host in self._hosts:
            return False
        name = _hostname(host)
        try:
            addresses = [ipaddress.ip_address(name)]
        except ValueError:
            try:
                addresses = [ipaddress.ip_address(info[4][0]) for info in socket.getaddrinfo(name, None)]
            except (OSError, UnicodeError):
                return True
        return not any(address in cidr for address in addresses for cidr in self._cidrs
                       if address.version == cidr.version)

    def endpoints(self, host: str) -> list[Endpoint]:
        """The base URLs to try for the registry `host` (a reference's domain), in order."""
        if host == DOCKER_HUB:
            mirrors = [Endpoint(m.rstrip("/"), self._tls(_hostport(m))) for m in self.mirrors]
            return mirrors + [Endpoint(DOCKER_HUB_ENDPOINT, self._tls("registry-1.docker.io"))]
        if self.is_secure(host):
            return [Endpoint(f"https://{host}", self._tls(host))]
        return [Endpoint(f"https://{host}", False), Endpoint(f"http://{host}", False)]

    def _tls(self, host: str) -> ssl.SSLContext:
        """The system's CAs plus certs.d/HOST/*.crt, and a client certificate if one is there."""
        context = ssl.create_default_context()
        directory = self.certs_dir / host
        if directory.is_dir():
            for ca in sorted(directory.glob("*.crt")):
                context.load_verify_locations(ca)
            for cert in sorted(directory.glob("*.cert")):
                key = cert.with_suffix(".key")
                if not key.exists():
                    raise InvalidArgument(f"missing key {key.name} for client certificate {cert.name}")
                context.load_cert_chain(cert, key)
        return context


def _hostname(host: str) -> str:
    """`host` without its port (`[::1]:5000` -> `::1`)."""
    if host.startswith("["):
        return host[1:].partition("]")[0]
    return host.rpartition(":")[0] if host.count(":") == 1 else host


def _hostport(url: str) -> str:
    return url.split("://", 1)[1].split("/", 1)[0]
