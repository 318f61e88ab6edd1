"""A small HTTP/1.1 server on h11 and asyncio for the registry: TCP (and TLS), keep-alive, request
bodies streamed to the handler as they arrive, response bodies streamed with a known length.

berth.api has the Engine API's own server (unix socket, hijacking, Docker's error shape); the layers
keep the registry from importing it (tests/test_layering.py), so this is the registry's, kept to what
the distribution API needs."""
from __future__ import annotations

import asyncio
import logging
import os
import select
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import BinaryIO
from urllib.parse import parse_qs, unquote, urlsplit

import h11

log = logging.getLogger("berth.registry")

READ_SIZE = 1 << 20
SEND_TIMEOUT = 60.0  # seconds a client may take no data before its connection is dropped
SENDERS = 32  # blob downloads served at once by the kernel; more wait their turn


class BodyTooLarge(Exception):
    """A request body longer than the handler takes whole."""


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: AsyncIterator[bytes]

    def arg(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None

    async def read(self, limit: int) -> bytes:
        """The whole body (BodyTooLarge past `limit` bytes)."""
        chunks, size = [], 0
        async for chunk in self.body:
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge(f"request body larger than {limit} bytes")
            chunks.append(chunk)
        return b"".join(chunks)


@dataclass
class FileBody:
    """`length` bytes of an open file from `offset`, sent by sendfile(2) (over TLS, read and written by
    the event loop); the server closes the file once sent."""

    file: BinaryIO
    offset: int
    length: int


class _SentByKernel:
    """Stands for a FileBody's bytes in h11's count of the Content-Length (the kernel sent them)."""

    def __init__(self, length: int) -> None:
        self.length = length

    def __len__(self) -> int:
        return self.length


@dataclass
class Response:
    """`body` is bytes, chunks streamed after the head (`length` bytes in all), or a file's bytes."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | AsyncIterator[bytes] | FileBody = b""
    length: int | None = None


Handler = Callable[[Request], Awaitable[Response]]


class HttpServer:
    """Serves one handler; one h11 connection per client, kept alive between requests."""

    def __init__(self, handler: Handler, server_headers: list[tuple[str, str]]) -> None:
        self.handler = handler
        self.server_headers = server_headers
        # threads of their own: slow clients of big blobs never hold up the storage work of other requests
        self._senders = ThreadPoolExecutor(SENDERS, thread_name_prefix="sendfile")

    async def serve_tcp(self, host: str, port: int, tls: ssl.SSLContext | None = None) -> asyncio.Server:
        return await asyncio.start_server(self._connection, host or None, port, ssl=tls, limit=READ_SIZE)

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = h11.Connection(h11.SERVER)
        try:
            while True:
                event = await self._next_event(conn, reader)
                if not isinstance(event, h11.Request):
                    return  # the client closed a kept-alive connection
                if conn.they_are_waiting_for_100_continue:
                    writer.write(conn.send(h11.InformationalResponse(status_code=100, headers=[])))
                request = _request(event, self._body(conn, reader))
                response = await self._handle(request)
                async for _ in request.body:  # what the handler left unread
                    pass
                await self._respond(conn, writer, response, request.method == "HEAD")
                if conn.our_state is h11.MUST_CLOSE or conn.their_state is h11.MUST_CLOSE:
                    return
                conn.start_next_cycle()
        except (ConnectionError, h11.ProtocolError, asyncio.IncompleteReadError, ssl.SSLError) as exc:
            log.debug("connection closed: %s", exc)
        except Exception:  # noqa: BLE001 - a response body that failed half-way: the client sees it cut short
            log.exception("response failed")
        finally:
            writer.close()

    async def _handle(self, request: Request) -> Response:
        try:
            response = await self.handler(request)
        except Exception:  # noqa: BLE001 - the handler answers its own errors; this is a bug in it
            log.exception("%s %s failed", request.method, request.path)
            response = Response(500)
        log.info("%s %s %d", request.method, request.path, response.status)
        return response

    @staticmethod
    async def _next_event(conn: h11.Connection, reader: asyncio.StreamReader) -> object:
        while (event := conn.next_event()) is h11.NEED_DATA:
            conn.receive_data(await reader.read(READ_SIZE))
        return event

    async def _body(self, conn: h11.Connection, reader: asyncio.StreamReader) -> AsyncIterator[bytes]:
        while True:
            event = await self._next_event(conn, reader)
            if isinstance(event, h11.Data):
                yield bytes(event.data)
            elif isinstance(event, h11.EndOfMessage):
                return
            else:
                raise h11.RemoteProtocolError(f"unexpected {event!r} in a request body")

    async def _respond(self, conn: h11.Connection, writer: asyncio.StreamWriter, response: Response,
                       head_only: bool) -> None:
        """Send the response; to a HEAD request, its head only (with the Content-Length a GET would have)."""
        headers = [*self.server_headers, *response.headers]
        body = response.body
        length = len(body) if isinstance(body, bytes) and response.length is None else response.length
        if isinstance(body, FileBody):
            length = body.length
        if length is not None and response.status != 204:
            headers.append(("Content-Length", str(length)))
        writer.write(conn.send(h11.Response(status_code=response.status, headers=headers)))
        if isinstance(body, bytes):
            if body and not head_only:
                writer.write(conn.send(h11.Data(data=body)))
        elif isinstance(body, FileBody):
            with body.file:
                if not head_only and body.length:
                    await writer.drain()
                    if writer.get_extra_info("ssl_object") is None:  # the kernel copies, in a worker thread
                        await asyncio.get_running_loop().run_in_executor(
                            self._senders, _send_file, writer.get_extra_info("socket").fileno(), body)
                    else:
                        await asyncio.get_running_loop().sendfile(writer.transport, body.file, body.offset, body.length)
                    conn.send_with_data_passthrough(h11.Data(data=_SentByKernel(body.length)))  # type: ignore[arg-type]
        else:
            try:
                while not head_only and (chunk := await anext(body, None)) is not None:
                    writer.write(conn.send(h11.Data(data=chunk)))
                    await writer.drain()
            finally:
                aclose = getattr(body, "aclose", None)
                if aclose is not None:
                    await aclose()
        writer.write(conn.send(h11.EndOfMessage()))
        await writer.drain()


def _send_file(socket_fd: int, body: FileBody) -> None:
    """sendfile(2) the body to the (non-blocking) socket, waiting whenever its buffer is full: the
    copying happens in this thread, so many clients are served on every CPU, not only the event loop's."""
    offset, left = body.offset, body.length
    while left:
        try:
            sent = os.sendfile(socket_fd, body.file.fileno(), offset, left)
        except BlockingIOError:
            if not select.select([], [socket_fd], [], SEND_TIMEOUT)[1]:
                raise ConnectionError(f"the client took nothing for {SEND_TIMEOUT:g} s") from None
            continue
        if sent == 0:
            raise EOFError("the blob's file is shorter than its size")
        offset, left = offset + sent, left - sent


def _request(event: h11.Request, body: AsyncIterator[bytes]) -> Request:
    """The request; a header sent more than once (Accept) is one value, its values joined by commas."""
    parts = urlsplit(event.target.decode())
    headers: dict[str, str] = {}
    for raw_name, raw_value in event.headers:
        name, value = raw_name.decode().lower(), raw_value.decode()
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return Request(event.method.decode(), unquote(parts.path), parse_qs(parts.query, keep_blank_values=True),
                   headers, body)
