"""The embedded DNS server of user-defined networks, as dockerd's: at 127.0.0.11:53 inside each
container on such a network, it answers the names of the containers that share a network with the
asker (their names, network aliases and short IDs, also as NAME.NETWORK), and the addresses back
(PTR); any other question goes to the container's `--dns` servers, else the host's.

Its sockets are made inside the container's network namespace (berth.network.netns) and served from
the daemon's event loop; the questions it forwards leave from the daemon's own namespace. The DNS
wire format is dnspython's.
"""
from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import struct
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.reversename
import dns.rrset

from berth.network import netns

ADDRESS = "127.0.0.11"
TTL = 600  # dockerd's
FORWARD_TIMEOUT = 2.0
_TCP_LENGTH = struct.Struct("!H")


@dataclass
class _Entry:
    container: str
    names: tuple[str, ...]  # lower case: name, aliases, short ID
    addresses: tuple[str, ...]  # its IPv4 address, and its IPv6 one on an IPv6 network
    links: dict[str, str]  # its own names for others (`--link NAME:ALIAS` on a user network): alias -> name


@dataclass
class NameTable:
    """Who is on which network, by name: what the embedded server answers from. Changed from the
    network service's threads, read from the event loop."""

    _networks: dict[str, dict[str, _Entry]] = field(default_factory=dict)  # network -> endpoint ID -> entry
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, network: str, endpoint_id: str, container_id: str, names: Iterable[str], addresses: Iterable[str],
            links: Iterable[str] = ()) -> None:
        """An endpoint on `network`, found by its `names` and short ID; `links` ("NAME:ALIAS") name other
        containers of the network under aliases only this one sees."""
        aliases = {(alias or name).lower(): name.lower() for name, _, alias in (link.partition(":") for link in links)}
        entry = _Entry(container_id, tuple(dict.fromkeys(name.lower() for name in (*names, container_id[:12]) if name)),
                       tuple(addresses), aliases)
        with self._lock:
            self._networks.setdefault(network, {})[endpoint_id] = entry

    def remove(self, network: str, endpoint_id: str) -> None:
        with self._lock:
            self._networks.get(network, {}).pop(endpoint_id, None)

    def lookup(self, container_id: str, name: str) -> list[str] | None:
        """The addresses `name` has for the container asking (None: not a container's name)."""
        name = name.rstrip(".").lower()
        with self._lock:
            found: list[str] | None = None
            for network, entries, asker in self._shared_with(container_id):
                wanted = name[: -len(network) - 1] if name.endswith(f".{network.lower()}") else name
                wanted = asker.links.get(wanted, wanted)
                for entry in entries.values():
                    if wanted in entry.names:
                        found = [*(found or []), *entry.addresses]
            return found

    def reverse(self, container_id: str, address: str) -> str | None:
        with self._lock:
            for network, entries, _ in self._shared_with(container_id):
                for entry in entries.values():
                    if address in entry.addresses:
                        return f"{entry.names[0]}.{network}"
        return None

    def _shared_with(self, container_id: str) -> Iterator[tuple[str, dict[str, _Entry], _Entry]]:
        """Each network the container is on: its name, its entries, and the container's own entry."""
        for network, entries in self._networks.items():
            own = next((entry for entry in entries.values() if entry.container == container_id), None)
            if own is not None:
                yield network, entries, own


class EmbeddedDns:
    def __init__(self, names: NameTable) -> None:
        self.names = names
        self._served: dict[str, tuple[asyncio.DatagramTransport, asyncio.Server]] = {}

    async def serve(self, container_id: str, netns_path: str, upstream: Sequence[str]) -> None:
        """Answer at 127.0.0.11:53 in the namespace at `netns_path`, for the container, forwarding
        other names to `upstream` (addresses of DNS servers)."""
        await self.stop(container_id)
        udp, tcp = await asyncio.to_thread(_sockets_in, netns_path)
        loop = asyncio.get_running_loop()
        answer = _Answerer(self.names, container_id, list(upstream))
        transport, _ = await loop.create_datagram_endpoint(lambda: _UdpServer(answer), sock=udp)
        server = await asyncio.start_server(answer.serve_stream, sock=tcp)
        self._served[container_id] = (transport, server)

    def serving(self, container_id: str) -> bool:
        return container_id in self._served

    async def stop(self, container_id: str) -> None:
        """Close the container's sockets (they keep its namespace alive)."""
        served = self._served.pop(container_id, None)
        if served is not None:
            transport, server = served
            transport.close()
            server.close()
            await server.wait_closed()


def upstream_servers(resolv_conf: str, chosen: Sequence[str] = ()) -> list[str]:
    """Where the embedded server forwards: the container's `--dns` servers, else the nameservers of the
    host's resolv.conf that a container can reach (not the host's loopback), else Google's, as dockerd."""
    if chosen:
        return list(chosen)
    servers = [words[1] for words in (line.split() for line in resolv_conf.splitlines())
               if len(words) > 1 and words[0] == "nameserver"]
    reachable = [server for server in servers if not _is_loopback(server)]
    return reachable or ["8.8.8.8", "8.8.4.4"]


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return True


def _sockets_in(netns_path: str) -> tuple[socket.socket, socket.socket]:
    with netns.entered(netns_path):
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    for sock in (udp, tcp):
        sock.setblocking(False)
        sock.bind((ADDRESS, 53))
    tcp.listen(16)
    return udp, tcp


class _Answerer:
    """Answers one container's questions."""

    def __init__(self, names: NameTable, container_id: str, upstream: list[str]) -> None:
        self.names = names
        self.container_id = container_id
        self.upstream = upstream

    async def answer(self, wire: bytes, over_tcp: bool) -> bytes | None:
        try:
            query = dns.message.from_wire(wire)
        except Exception:  # noqa: BLE001 - dnspython raises many kinds for bad input: not a question
            return None
        if not query.question:
            return None
        question = query.question[0]
        local = self._local(query, question.name, question.rdtype)
        if local is not None:
            return local.to_wire()
        forwarded = await self._forward(wire, over_tcp)
        if forwarded is not None:
            return forwarded
        failure = dns.message.make_response(query)
        failure.set_rcode(dns.rcode.SERVFAIL)
        return failure.to_wire()

    def _local(self, query: dns.message.Message, name: dns.name.Name,
               rdtype: dns.rdatatype.RdataType) -> dns.message.Message | None:
        text = name.to_text()
        if rdtype == dns.rdatatype.PTR:
            address = _address_of_ptr(name)
            target = self.names.reverse(self.container_id, address) if address else None
            if target is None:
                return None
            return _response(query, name, rdtype, [target + "."])
        addresses = self.names.lookup(self.container_id, text)
        if addresses is None:
            return None
        version = 6 if rdtype == dns.rdatatype.AAAA else 4
        wanted = [address for address in addresses if ipaddress.ip_address(address).version == version]
        return _response(query, name, rdtype, wanted if rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA) else [])

    async def _forward(self, wire: bytes, over_tcp: bool) -> bytes | None:
        for server in self.upstream:
            with contextlib.suppress(OSError, asyncio.TimeoutError, ConnectionError):
                answer = await asyncio.wait_for(_ask_udp(server, wire), FORWARD_TIMEOUT)
                if dns.flags.TC & _flags(answer) or over_tcp:
                    answer = await asyncio.wait_for(_ask_tcp(server, wire), FORWARD_TIMEOUT)
                return answer
        return None

    async def serve_stream(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                (length,) = _TCP_LENGTH.unpack(await reader.readexactly(_TCP_LENGTH.size))
                answer = await self.answer(await reader.readexactly(length), over_tcp=True)
                if answer is None:
                    break
                writer.write(_TCP_LENGTH.pack(len(answer)) + answer)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


class _UdpServer(asyncio.DatagramProtocol):
    def __init__(self, answerer: _Answerer) -> None:
        self.answerer = answerer
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        asyncio.get_running_loop().create_task(self._reply(data, addr))

    async def _reply(self, data: bytes, addr: tuple[str, int]) -> None:
        answer = await self.answerer.answer(data, over_tcp=False)
        if answer is not None and self.transport is not None and not self.transport.is_closing():
            self.transport.sendto(answer, addr)


def _response(query: dns.message.Message, name: dns.name.Name, rdtype: dns.rdatatype.RdataType,
              values: list[str]) -> dns.message.Message:
    response = dns.message.make_response(query)
    response.flags |= dns.flags.AA | dns.flags.RA
    if values:
        response.answer.append(dns.rrset.from_text_list(name, TTL, dns.rdataclass.IN, rdtype, values))
    return response


def _address_of_ptr(name: dns.name.Name) -> str | None:
    """The address a PTR question is about (4.3.2.1.in-addr.arpa -> 1.2.3.4, and IPv6's ip6.arpa)."""
    try:
        return dns.reversename.to_address(name)
    except (dns.exception.DNSException, ValueError):
        return None


def _flags(wire: bytes) -> int:
    return _TCP_LENGTH.unpack_from(wire, 2)[0] if len(wire) >= 4 else 0


async def _ask_udp(server: str, wire: bytes) -> bytes:
    loop = asyncio.get_running_loop()
    answered: asyncio.Future[bytes] = loop.create_future()

    class Client(asyncio.DatagramProtocol):
        def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
            if not answered.done():
                answered.set_result(data)

        def error_received(self, exc: Exception) -> None:
            if not answered.done():
                answered.set_exception(exc)

    transport, _ = await loop.create_datagram_endpoint(Client, remote_addr=(server, 53))
    try:
        transport.sendto(wire)
        return await answered
    finally:
        transport.close()


async def _ask_tcp(server: str, wire: bytes) -> bytes:
    reader, writer = await asyncio.open_connection(server, 53)
    try:
        writer.write(_TCP_LENGTH.pack(len(wire)) + wire)
        await writer.drain()
        (length,) = _TCP_LENGTH.unpack(await reader.readexactly(_TCP_LENGTH.size))
        return await reader.readexactly(length)
    finally:
        writer.close()
