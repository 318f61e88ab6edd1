"""The client side of HTTP/1.1 on a blocking socket: request heads, chunked uploads, response heads
and bodies (Content-Length, chunked, or until close).

Written for the CLI's start-up time: importing h11 costs the `berth` command about 7 ms, more than
this whole module does.
"""
from __future__ import annotations

TYPE_CHECKING = False  # what typing.TYPE_CHECKING is, without importing typing (start-up time)
if TYPE_CHECKING:
    from collections.abc import Iterator
    from socket import socket

    from berth.cli.unixstream import UnixStream

MAX_LINE = 65536
MAX_HEADERS = 128
_READ_SIZE = 65536


class ProtocolError(ConnectionError):
    """The peer's response is not HTTP/1.1 as we understand it."""


def encode_head(method: str, target: str, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", *(f"{name}: {value}" for name, value in headers.items()), "", ""]
    return "\r\n".join(lines).encode("latin-1")


def encode_chunk(data: bytes) -> bytes:
    """One chunk of a chunked body; b"" encodes the last chunk."""
    return b"%x\r\n%s\r\n" % (len(data), data)


class Reader:
    """Buffered reading from a socket."""

    def __init__(self, sock: UnixStream | socket) -> None:
        self.sock = sock
        self.buffer = bytearray()

    def _fill(self) -> bool:
        try:
            data = self.sock.recv(_READ_SIZE)
        except ConnectionResetError:
            data = b""
        self.buffer += data
        return bool(data)

    def line(self) -> bytes:
        """The next line without its CRLF; ProtocolError at the end of the stream or if too long."""
        while (end := self.buffer.find(b"\n")) < 0:
            if len(self.buffer) > MAX_LINE:
                raise ProtocolError("line too long")
            if not self._fill():
                raise ProtocolError("connection closed in the middle of a response")
        line = bytes(self.buffer[:end]).rstrip(b"\r")
        del self.buffer[:end + 1]
        return line

    def some(self, limit: int) -> bytes:
        """Up to `limit` bytes (buffered ones first); b"" at the end of the stream."""
        if not self.buffer and not self._fill():
            return b""
        data = bytes(self.buffer[:limit])
        del self.buffer[:limit]
        return data

    def exactly(self, size: int) -> Iterator[bytes]:
        """`size` bytes, in pieces as they arrive."""
        while size:
            data = self.some(min(size, _READ_SIZE))
            if not data:
                raise ProtocolError("connection closed in the middle of a body")
            size -= len(data)
            yield data

    def rest(self) -> bytes:
        """What has been read but not consumed (the first bytes after a protocol switch)."""
        data, self.buffer = bytes(self.buffer), bytearray()
        return data


def read_head(reader: Reader) -> tuple[int, dict[str, str]]:
    """A response's status code and headers (names in lower case; repeated ones joined by ", ")."""
    line = reader.line()
    version, _, rest = line.partition(b" ")
    code = rest[:3]
    if not version.startswith(b"HTTP/1.") or not code.isdigit():
        raise ProtocolError(f"malformed status line {line[:80]!r}")
    headers: dict[str, str] = {}
    for _ in range(MAX_HEADERS):
        line = reader.line()
        if not line:
            return int(code), headers
        name, colon, value = line.decode("latin-1").partition(":")
        if not colon or not name or name != name.strip():
            raise ProtocolError(f"malformed header line {line[:80]!r}")
        name, value = name.lower(), value.strip()
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    raise ProtocolError("too many headers")


def body_length(method: str, status: int, headers: dict[str, str]) -> int | None:
    """The body's length in bytes, or None when it is chunked or ends with the connection."""
    if method == "HEAD" or status in (204, 304) or status < 200:
        return 0
    if is_chunked(headers):
        return None
    length = headers.get("content-length")
    if length is None:
        return None
    if not length.isdigit():
        raise ProtocolError(f"bad Content-Length {length!r}")
    return int(length)


def read_body(reader: Reader, method: str, status: int, headers: dict[str, str]) -> Iterator[bytes]:
    """The body as it arrives (de-chunked)."""
    length = body_length(method, status, headers)
    if length is not None:
        yield from reader.exactly(length)
    elif is_chunked(headers):
        yield from _chunks(reader)
    else:
        while data := reader.some(_READ_SIZE):
            yield data


def _chunks(reader: Reader) -> Iterator[bytes]:
    while True:
        size_field = reader.line().split(b";", 1)[0].strip()
        try:
            size = int(size_field, 16)
        except ValueError:
            raise ProtocolError(f"bad chunk size {size_field[:20]!r}") from None
        if size == 0:
            while reader.line():  # trailers, up to the empty line
                pass
            return
        yield from reader.exactly(size)
        if reader.line():
            raise ProtocolError("chunk not followed by CRLF")


def is_chunked(headers: dict[str, str]) -> bool:
    return "chunked" in headers.get("transfer-encoding", "").lower()


def reusable(method: str, status: int, headers: dict[str, str]) -> bool:
    """Whether the connection can carry another request once this response's body is read."""
    delimited = body_length(method, status, headers) is not None or is_chunked(headers)
    return delimited and "close" not in headers.get("connection", "").lower()
