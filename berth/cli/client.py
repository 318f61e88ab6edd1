"""A small Engine API client: HTTP/1.1 over one socket per `Client`.

JSON requests and responses, streamed bodies (upload and download, chunked), streams of JSON
messages, and hijacked connections (`Upgrade: tcp` -> 101 -> raw socket) for attach and exec.
"""
from __future__ import annotations

from berth import API_VERSION
from berth.cli import http1, unixstream, wire
from berth.cli.errors import CLIError, ConnectError, DaemonError
from berth.cli.hosts import parse_host

TYPE_CHECKING = False  # what typing.TYPE_CHECKING is, without importing typing (start-up time)
if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from socket import socket
    from typing import Any, BinaryIO

    from berth.cli.unixstream import UnixStream

    Params = dict[str, Any]
    Body = bytes | Iterable[bytes] | BinaryIO | None
_CHUNK = 65536


def encode_params(params: Params | None) -> str:
    """A query string: None values are left out, booleans become 1/0, lists repeat the key."""
    if not params:
        return ""
    pairs: list[str] = []
    for key, value in params.items():
        if value is None:
            continue
        for item in value if isinstance(value, (list, tuple)) else [value]:
            text = ("1" if item else "0") if isinstance(item, bool) else str(item)
            pairs.append(f"{_quote(key)}={_quote(text)}")
    return "?" + "&".join(pairs) if pairs else ""


_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def _quote(text: str) -> str:
    """Percent-encode for a query string (urllib.parse costs more to import than the CLI can spare)."""
    return "".join(chr(b) if b in _UNRESERVED else f"%{b:02X}" for b in text.encode())


def encode_filters(filters: dict[str, list[str]]) -> str | None:
    """The `filters` query parameter: JSON of {name: [values]}, or None when empty."""
    return wire.dumps(filters, separators=(",", ":")) if filters else None


class Response:
    """A response whose body is read on demand."""

    def __init__(self, client: Client, status: int, headers: dict[str, str], body: Iterator[bytes]) -> None:
        self.client = client
        self.status = status
        self.headers = headers
        self._body = body

    def iter_bytes(self) -> Iterator[bytes]:
        """The body as it arrives."""
        yield from self._body

    def read(self) -> bytes:
        return b"".join(self.iter_bytes())

    def json(self) -> Any:
        data = self.read()
        return wire.loads(data) if data.strip() else None

    def first_json(self) -> Any:
        """The body's first JSON value, as soon as it is complete (None for an empty body): the
        daemon may end the body later, and docker does not wait for that either."""
        return next(self.iter_json(), None)

    def iter_json(self) -> Iterator[Any]:
        """A stream of JSON values (docker's progress and event streams), each as it arrives."""
        buffer = ""
        pending = b""
        for chunk in self.iter_bytes():
            pending += chunk
            try:
                buffer += pending.decode()
            except UnicodeDecodeError:
                continue
            pending = b""
            while True:
                stripped = buffer.lstrip()
                if not stripped:
                    buffer = ""
                    break
                try:
                    value, end = wire.raw_decode(stripped)
                except ValueError:
                    buffer = stripped
                    break
                buffer = stripped[end:]
                yield value


class Hijacked:
    """A raw, two-way connection after the daemon switched protocols."""

    def __init__(self, sock: UnixStream | socket, buffered: bytes) -> None:
        self.sock = sock
        self._buffered = buffered

    def recv(self, size: int = _CHUNK) -> bytes:
        if self._buffered:
            data, self._buffered = self._buffered, b""
            return data
        return self.sock.recv(size)

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def close_write(self) -> None:
        try:
            self.sock.shutdown(unixstream.SHUT_WR)
        except OSError:
            pass

    def close(self) -> None:
        self.sock.close()

    def fileno(self) -> int:
        return self.sock.fileno()


class Client:
    """One connection to the daemon, reused across requests (keep-alive)."""

    def __init__(self, host: str) -> None:
        self.host = host
        self.address = parse_host(host)
        self._sock: UnixStream | socket | None = None
        self._reader: http1.Reader | None = None
        self._idle = False  # connected, and the last response was read to its end

    def clone(self) -> Client:
        """Another client on a separate connection, for requests that run side by side."""
        return Client(self.host)

    # -- public API -----------------------------------------------------------------------

    def request(self, method: str, path: str, params: Params | None = None, json_body: Any = None,
                data: Body = None, headers: dict[str, str] | None = None) -> Response:
        """Send a request; raise DaemonError on 4xx/5xx, else return the unread response."""
        self._send(method, path, params, json_body, data, headers or {})
        status, response_headers = self._read_head()
        while 100 <= status < 200:  # informational responses (100 Continue) precede the real one
            status, response_headers = self._read_head()
        response = Response(self, status, response_headers, self._body(method, status, response_headers))
        if status >= 400:
            raise self._error(response)
        return response

    def call(self, method: str, path: str, params: Params | None = None, json_body: Any = None) -> Any:
        """A request whose answer is JSON (or empty)."""
        return self.request(method, path, params, json_body).json()

    def get(self, path: str, params: Params | None = None) -> Any:
        return self.call("GET", path, params)

    def post(self, path: str, params: Params | None = None, json_body: Any = None) -> Any:
        return self.call("POST", path, params, json_body)

    def delete(self, path: str, params: Params | None = None) -> Any:
        return self.call("DELETE", path, params)

    def hijack(self, path: str, params: Params | None = None, json_body: Any = None) -> Hijacked:
        """POST with `Connection: Upgrade`, wait for 101, then hand over the raw socket."""
        self._send("POST", path, params, json_body, None, {"Connection": "Upgrade", "Upgrade": "tcp"})
        status, headers = self._read_head()
        if status == 101:
            assert self._sock is not None and self._reader is not None
            hijacked = Hijacked(self._sock, self._reader.rest())
            self._sock = self._reader = None
            self._idle = False
            return hijacked
        response = Response(self, status, headers, self._body("POST", status, headers))
        if status >= 400:
            raise self._error(response)
        raise CLIError(f"the daemon did not switch protocols for {path} (status {status})")

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
        self._sock = self._reader = None
        self._idle = False

    # -- plumbing -------------------------------------------------------------------------

    def _connect(self) -> None:
        address = self.address
        sock: UnixStream | socket
        try:
            if address.path is not None:
                sock = unixstream.connect(address.path)
            else:
                assert address.tcp is not None
                # only here: TCP is rare, and importing socket costs start-up time
                from socket import create_connection

                sock = create_connection(address.tcp)
        except PermissionError:
            raise CLIError(f"permission denied while trying to connect to the berth daemon socket at "
                           f"{self.host}") from None
        except OSError:
            raise ConnectError(self.host) from None
        self._sock = sock
        self._reader = http1.Reader(sock)

    def _send(self, method: str, path: str, params: Params | None, json_body: Any, data: Body,
              headers: dict[str, str]) -> None:
        if not self._idle:
            self.close()
            self._connect()
        self._idle = False
        assert self._sock is not None
        target = f"/v{API_VERSION}{path}{encode_params(params)}"
        all_headers = {"Host": "berth", "User-Agent": "berth-cli", **headers}
        if json_body is not None:
            data = wire.dumps(json_body).encode()
            all_headers["Content-Type"] = "application/json"
        if isinstance(data, bytes):
            all_headers["Content-Length"] = str(len(data))
        elif data is not None:
            all_headers["Transfer-Encoding"] = "chunked"
            all_headers.setdefault("Content-Type", "application/x-tar")
        else:
            all_headers["Content-Length"] = "0"
        head = http1.encode_head(method, target, all_headers)
        try:
            if isinstance(data, bytes):
                self._sock.sendall(head + data)
            elif data is None:
                self._sock.sendall(head)
            else:
                self._sock.sendall(head)
                for chunk in _body_chunks(data):
                    self._sock.sendall(http1.encode_chunk(chunk))
                self._sock.sendall(http1.encode_chunk(b""))
        except BrokenPipeError:
            pass  # the daemon answered early (an error, usually); read what it said

    def _read_head(self) -> tuple[int, dict[str, str]]:
        assert self._reader is not None
        try:
            return http1.read_head(self._reader)
        except http1.ProtocolError as err:
            self.close()
            raise CLIError(f"error reading the daemon's response: {err}") from None

    def _body(self, method: str, status: int, headers: dict[str, str]) -> Iterator[bytes]:
        """The response body; the connection is reused once it has been read to its end."""
        reader = self._reader
        assert reader is not None
        try:
            yield from http1.read_body(reader, method, status, headers)
        except http1.ProtocolError as err:
            self.close()
            raise CLIError(f"error reading the daemon's response: {err}") from None
        if reader is self._reader:
            if http1.reusable(method, status, headers):
                self._idle = True
            else:
                self.close()

    def _error(self, response: Response) -> DaemonError:
        body = response.read()
        try:
            message = wire.loads(body).get("message") or body.decode().strip()
        except (ValueError, AttributeError):
            message = body.decode(errors="replace").strip()
        return DaemonError(response.status, message or f"status {response.status}")


def _body_chunks(data: Body) -> Iterator[bytes]:
    if data is None:
        return
    if isinstance(data, bytes):
        if data:
            yield data
        return
    read = getattr(data, "read", None)
    if read is not None:
        while chunk := read(_CHUNK):
            yield chunk
        return
    for chunk in data:  # type: ignore[union-attr]
        if chunk:
            yield chunk
