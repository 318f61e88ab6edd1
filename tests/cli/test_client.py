"""The API client against a small scripted HTTP server on a unix socket."""
import json
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from berth.cli.client import Client, encode_params
from berth.cli.errors import CLIError, ConnectError, DaemonError

Handler = Callable[[bytes, socket.socket], None]


def _read_request(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
            while len(body) < length:
                body += conn.recv(4096)
    return head + b"\r\n\r\n" + body


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Callable[[Handler], str]]:
    """Serve each accepted connection with a handler; yields a function returning the host URL."""
    path = str(tmp_path / "api.sock")
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(path)
    listener.listen()
    threads: list[threading.Thread] = []

    def start(handler: Handler) -> str:
        def serve() -> None:
            while True:
                try:
                    conn, _ = listener.accept()
                except OSError:
                    return
                with conn:
                    while request := _read_request(conn):
                        handler(request, conn)
        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        threads.append(thread)
        return f"unix://{path}"

    yield start
    listener.close()


def _json_response(conn: socket.socket, status: int, body: object) -> None:
    data = json.dumps(body).encode()
    conn.sendall(b"HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                 % (status, len(data), data))


def test_json_requests_use_the_versioned_path_and_keep_the_connection(server) -> None:
    seen: list[bytes] = []

    def handler(request: bytes, conn: socket.socket) -> None:
        seen.append(request.split(b"\r\n")[0])
        _json_response(conn, 200, [{"Id": "abc"}])

    client = Client(server(handler))
    assert client.get("/containers/json", {"all": True, "limit": None}) == [{"Id": "abc"}]
    assert client.get("/containers/json") == [{"Id": "abc"}]
    assert seen == [b"GET /v1.41/containers/json?all=1 HTTP/1.1", b"GET /v1.41/containers/json HTTP/1.1"]


def test_daemon_errors_carry_the_message(server) -> None:
    client = Client(server(lambda request, conn: _json_response(conn, 404, {"message": "No such container: x"})))
    with pytest.raises(DaemonError) as err:
        client.get("/containers/x/json")
    assert err.value.status == 404
    assert err.value.message == "Error response from daemon: No such container: x"


def test_streams_of_json_messages_arrive_one_by_one(server) -> None:
    def handler(request: bytes, conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        for piece in (b'{"status":"a"}\r\n{"sta', b'tus":"b"}\r\n'):
            conn.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
        conn.sendall(b"0\r\n\r\n")

    client = Client(server(handler))
    assert list(client.request("POST", "/images/create").iter_json()) == [{"status": "a"}, {"status": "b"}]


def test_hijacked_connection_is_raw_after_101(server) -> None:
    def handler(request: bytes, conn: socket.socket) -> None:
        assert b"Upgrade: tcp" in request
        conn.sendall(b"HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\nearly")
        conn.sendall(b" bytes " + conn.recv(100))

    hijacked = Client(server(handler)).hijack("/containers/x/attach", {"stream": True})
    hijacked.send(b"echo")
    received = b""
    while len(received) < len(b"early bytes echo"):
        received += hijacked.recv()
    assert received == b"early bytes echo"
    hijacked.close()


def test_uploads_stream_with_chunked_encoding(server) -> None:
    bodies: list[bytes] = []

    def handler(request: bytes, conn: socket.socket) -> None:
        while not request.endswith(b"0\r\n\r\n"):
            request += conn.recv(4096)
        bodies.append(request.partition(b"\r\n\r\n")[2])
        _json_response(conn, 200, {})

    Client(server(handler)).request("POST", "/images/load", data=iter([b"abc", b"de"])).read()
    assert bodies == [b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"]


def test_no_daemon_gives_dockers_message(tmp_path: Path) -> None:
    host = f"unix://{tmp_path}/none.sock"
    with pytest.raises(ConnectError) as err:
        Client(host).get("/_ping")
    assert err.value.message.startswith(f"Cannot connect to the berth daemon at {host}. Is the daemon running?")
    assert "berthd" in err.value.message


def test_query_encoding() -> None:
    assert encode_params({"names": ["a b", "c/d"], "force": False, "skip": None}) == "?names=a%20b&names=c%2Fd&force=0"


def test_chunk_extensions_and_trailers_are_understood(server) -> None:
    def handler(request: bytes, conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                     b"5;name=x\r\n[1,2]\r\n0\r\nX-Trailer: y\r\n\r\n")

    client = Client(server(handler))
    assert client.get("/a") == [1, 2]
    assert client.get("/b") == [1, 2]


def test_a_body_without_length_ends_with_the_connection_and_the_next_request_reconnects(server) -> None:
    connections: list[int] = []

    def handler(request: bytes, conn: socket.socket) -> None:
        connections.append(conn.fileno())
        conn.sendall(b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{"n": 1}')
        conn.shutdown(socket.SHUT_WR)

    client = Client(server(handler))
    assert client.get("/a") == {"n": 1}
    assert client.get("/b") == {"n": 1}
    assert len(connections) == 2


def test_connection_close_is_honoured(server) -> None:
    seen: list[bytes] = []

    def handler(request: bytes, conn: socket.socket) -> None:
        seen.append(request.split(b" ")[1])
        conn.sendall(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
        conn.shutdown(socket.SHUT_WR)

    client = Client(server(handler))
    assert client.post("/a") is None
    assert client.post("/b") is None
    assert seen == [b"/v1.41/a", b"/v1.41/b"]


def test_a_garbled_response_is_a_clear_error(server) -> None:
    client = Client(server(lambda request, conn: conn.sendall(b"SPDY/3 200 OK\r\n\r\n")))
    with pytest.raises(CLIError) as err:
        client.get("/_ping")
    assert err.value.message.startswith("error reading the daemon's response: malformed status line")
