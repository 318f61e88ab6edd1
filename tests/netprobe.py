"""Reaching a container's service from a network namespace the test names, as a client there would."""
from __future__ import annotations

import socket

from berth.network import netns


def fetch(namespace: str, address: str, port: int) -> str:
    """What an HTTP GET of /hostname from inside `namespace` answers ("" when nothing answers)."""
    with netns.entered(namespace):
        connection = socket.socket()
    connection.settimeout(3)
    try:
        connection.connect((address, port))
        connection.sendall(b"GET /hostname HTTP/1.0\r\n\r\n")
        answer = b""
        while chunk := connection.recv(4096):
            answer += chunk
        return answer.decode()
    except OSError:
        return ""
    finally:
        connection.close()
