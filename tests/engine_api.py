"""A test daemon's Engine API spoken directly over its unix socket: for requests no CLI sends
(wrong types, broken HTTP) and for many requests at once."""
from __future__ import annotations

import socket

import httpx

from tests.daemon_harness import Daemon

BASE_URL = "http://berth/v1.41"


def client(daemon: Daemon) -> httpx.Client:
    return httpx.Client(transport=httpx.HTTPTransport(uds=str(daemon.socket)), base_url=BASE_URL, timeout=60)


def async_client(daemon: Daemon) -> httpx.AsyncClient:
    """Each request in flight on a connection of its own (up to httpx's 100)."""
    return httpx.AsyncClient(transport=httpx.AsyncHTTPTransport(uds=str(daemon.socket)), base_url=BASE_URL,
                             timeout=60)


def exchange(daemon: Daemon, data: bytes, timeout: float = 10) -> bytes:
    """Send raw bytes on a new connection, shut our side, and return all the daemon answers."""
    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(timeout)
        sock.connect(str(daemon.socket))
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
        return answer
