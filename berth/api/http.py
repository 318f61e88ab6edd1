"""A small HTTP/1.1 server on h11 and asyncio, with what the Engine API needs beyond plain
request/response: chunked streaming bodies and connection hijacking (attach, exec)."""
from __future__ import annotations

import asyncio
import json
import logging
import re
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import h11

from berth.api import bodies, gojson

log = logging.getLogger("berth.api")

READ_SIZE = 1 << 20


class ApiError(Exception):
    """An error the client sees as Docker does: a status code and `{"message": ...}`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes = b""
    params: dict[str, str] = field(default_factory=dict)
    api_version: str | None = None
    stream: AsyncIterator[bytes] | None = None  # the body, for routes that take it as it arrives

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def args(self, name: str) -> list[str]:
        return self.query.get(name, [])

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.arg(name)
        if value is None:
            return default
        return value.lower() in ("1", "true", "yes")

    def int_arg(self, name: str, default: int | None = None) -> int | None:
        value = self.arg(name)
        if value in (None, ""):
            return default
        try:
            return int(value)
        except ValueError:
            raise ApiError(400, f"invalid value for {name}: {value!r}") from None

    def decoded(self, into: gojson.Struct) -> dict[str, Any]:
        """The JSON body read into one of the Engine API's types (berth.api.bodies) as dockerd reads
        it; {} when there is none."""
        try:
            return gojson.decode(self.body, into)
        except gojson.DecodeError as exc:
            raise ApiError(400, str(exc)) from None

    def json_arg(self, name: str) -> Any:
        """A query parameter that carries JSON, like `filters`."""
        value = self.arg(name)
        if not value:
            return {}
        try:
            return gojson.loads(value.encode())
        except gojson.DecodeError:
            raise ApiError(400, f"invalid {name} value: {value}") from None

    def filters(self) -> dict[str, list[str]]:
        """The `filters` parameter as dockerd reads it: {"name": {"value": true}}, or the older
        {"name": ["value"]}; each name's values as a list. Neither is dockerd's 400 of the first."""
        filters = self.json_arg("filters")
        if filters is None:
            return {}
        try:
            maps = bodies.FILTERS.decode(filters, gojson.Where())
        except gojson.DecodeError as refusal:
            try:
                return bodies.LEGACY_FILTERS.decode(filters, gojson.Where())
            except gojson.DecodeError:
                raise ApiError(400, str(refusal)) from None
        return {name: [value for value, on in values.items() if on] for name, values in maps.items()}

    @property
    def wants_upgrade(self) -> bool:
        return "upgrade" in self.headers.get("connection", "").lower()


@dataclass
class Response:
    body: bytes = b""
    status: int = 200
    content_type: str = "application/json"
    headers: list[tuple[str, str]] = field(default_factory=list)


def json_line(obj: Any, end: bytes = b"\n") -> bytes:
    """JSON as Go's encoder writes it (no spaces), then `end`."""
    return json.dumps(obj, separators=(",", ":")).encode() + end


def json_response(obj: Any, status: int = 200) -> Response:
    return Response(json_line(obj), status)


@dataclass
class StreamResponse:
    """A chunked body, sent as the iterator yields; headers go out before the first chunk."""

    chunks: AsyncIterator[bytes]
    content_type: str = "application/json"
    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)


class HijackedReader:
    """The client's side of a hijacked connection: first the bytes h11 had read past the request
    head, then the socket's."""

    def __init__(self, early: bytes, reader: asyncio.StreamReader) -> None:
        self._early = early
        self._reader = reader

    async def read(self, n: int = -1) -> bytes:
        if self._early:
            taken = self._early if n < 0 else self._early[:n]
            self._early = self._early[len(taken):]
            return taken
        return await self._reader.read(n)


HijackHandler = Callable[[HijackedReader, asyncio.StreamWriter], Awaitable[None]]


@dataclass
class Hijack:
    """Take over the connection after the response head: raw bytes both ways from then on."""

    handler: HijackHandler
    content_type: str = "application/vnd.docker.raw-stream"


Handler = Callable[[Request], Awaitable[Response | StreamResponse | Hijack]]

_VERSION_PREFIX = re.compile(r"^/v([0-9.]+)(/.*)$")  # as dockerd's router: `/v1/...` names version 1


@dataclass
class Route:
    method: str
    regex: re.Pattern[str]
    handler: Handler
    streams_body: bool


class Router:
    def __init__(self) -> None:
        self._routes: list[Route] = []

    def add(self, method: str, pattern: str, handler: Handler, streams_body: bool = False) -> None:
        """`{id}` matches one path segment; `{name:.*}` matches the rest, slashes included.

        With `streams_body` the handler reads the request body from `request.stream` as it arrives
        (image loads and imports can be gigabytes); otherwise it is read whole into `request.body`.
        """
        regex = re.sub(r"\{(\w+):\.\*\}", r"(?P<\1>.+)", pattern)
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", regex)
        self._routes.append(Route(method, re.compile(f"^{regex}$"), handler, streams_body))

    def route(self, method: str, pattern: str, streams_body: bool = False) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.add(method, pattern, handler, streams_body)
            return handler

        return register

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        found_path = False
        for route in self._routes:
            matched = route.regex.match(path)
            if matched:
                found_path = True
                if route.method == method or (method == "HEAD" and route.method == "GET"):
                    return route, {k: unquote(v) for k, v in matched.groupdict().items()}
        if found_path:
            raise ApiError(405, f"method {method} not allowed for {path}")
        raise ApiError(404, "page not found")


def version_key(version: str) -> tuple[int, ...]:
    """An API version, compared part by part as numbers ("1.9" < "1.41"), as dockerd compares them."""
    return tuple(int(part or 0) for part in version.split("."))


def check_version(version: str | None, oldest: str, newest: str) -> None:
    """Refuse an API version the daemon does not speak, in dockerd's words."""
    if version is None:
        return
    if version_key(version) > version_key(newest):
        raise ApiError(400, f"client version {version} is too new. Maximum supported API version is {newest}")
    if version_key(version) < version_key(oldest):
        raise ApiError(400, f"client version {version} is too old. Minimum supported API version is {oldest}, "
                            "please upgrade your client to a newer version")


def refusal(status: int) -> bytes:
    """What Go's HTTP server answers a request it cannot read (and then it closes the connection)."""
    text = f"{status} {HTTPStatus(status).phrase}"
    return f"HTTP/1.1 {text}\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n{text}".encode()


def _parse_request(event: h11.Request) -> Request:
    target = event.target.decode()
    parts = urlsplit(target)
    path = unquote(parts.path)
    version = None
    prefixed = _VERSION_PREFIX.match(path)
    if prefixed:
        version, path = prefixed.group(1), prefixed.group(2)
    headers = {k.decode().lower(): v.decode() for k, v in event.headers}
    return Request(event.method.decode(), path, parse_qs(parts.query, keep_blank_values=True),
                   headers, api_version=version)


class HttpServer:
    """Serves a Router on a unix socket; one h11 connection per client, kept alive between requests."""

    def __init__(self, router: Router, server_headers: list[tuple[str, str]], api_versions: tuple[str, str],
                 translate: Callable[[Exception], ApiError | None] = lambda exc: None) -> None:
        """`api_versions` are the oldest and newest a request's `/vX.Y/` may name; `translate` turns
        the services' own exceptions into the API errors clients see."""
        self.router = router
        self.server_headers = server_headers
        self.translate = translate
        self.api_versions = api_versions

    async def serve_unix(self, path: str) -> asyncio.AbstractServer:
        """Listen with the kernel's longest queue of connections not yet accepted (as Go's servers
        do): a burst of clients waits there instead of being refused (EAGAIN)."""
        return await asyncio.start_unix_server(self._connection, path=path, limit=READ_SIZE,
                                               backlog=socket.SOMAXCONN)

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = h11.Connection(h11.SERVER)
        try:
            while True:
                request = await self._read_head(conn, reader)
                if request is None:
                    return
                if conn.they_are_waiting_for_100_continue:  # curl -T and friends wait for this
                    writer.write(conn.send(h11.InformationalResponse(status_code=100, headers=[])))
                body = self._body(conn, reader)
                result = await self._dispatch(request, body)
                async for _ in body:  # whatever a streaming handler left unread
                    pass
                if isinstance(result, Hijack):
                    await self._hijack(conn, request, result, reader, writer)
                    return
                await self._respond(conn, writer, request, result)
                if conn.our_state is h11.MUST_CLOSE or conn.their_state is h11.MUST_CLOSE:
                    return
                conn.start_next_cycle()
        except h11.RemoteProtocolError as exc:  # not HTTP/1 we can read: answered as Go's server answers it
            log.debug("bad request: %s", exc)
            if conn.our_state in (h11.IDLE, h11.SEND_RESPONSE):
                writer.write(refusal(exc.error_status_hint))
                await writer.drain()
        except (ConnectionError, h11.ProtocolError, asyncio.IncompleteReadError) as exc:
            log.debug("connection closed: %s", exc)
        finally:
            writer.close()

    @staticmethod
    async def _next_event(conn: h11.Connection, reader: asyncio.StreamReader) -> Any:
        while (event := conn.next_event()) is h11.NEED_DATA:
            conn.receive_data(await reader.read(READ_SIZE))
        return event

    async def _read_head(self, conn: h11.Connection, reader: asyncio.StreamReader) -> Request | None:
        if conn.their_state is h11.IDLE and not conn.trailing_data[0]:
            data = await reader.read(READ_SIZE)
            if not data:
                return None  # the client closed a kept-alive connection
            conn.receive_data(data)
        event = await self._next_event(conn, reader)
        if not isinstance(event, h11.Request):
            return None
        if event.http_version not in (b"1.0", b"1.1"):
            raise h11.RemoteProtocolError("unsupported protocol version", error_status_hint=505)
        return _parse_request(event)

    async def _body(self, conn: h11.Connection, reader: asyncio.StreamReader) -> AsyncIterator[bytes]:
        while True:
            event = await self._next_event(conn, reader)
            if isinstance(event, h11.Data):
                yield bytes(event.data)
            elif isinstance(event, h11.EndOfMessage) or event is h11.PAUSED:
                return
            else:
                raise h11.RemoteProtocolError(f"unexpected {event!r} in a request body")

    async def _dispatch(self, request: Request, body: AsyncIterator[bytes]) -> Response | StreamResponse | Hijack:
        try:
            check_version(request.api_version, *self.api_versions)
            route, request.params = self.router.match(request.method, request.path)
            if route.streams_body:
                request.stream = body
            else:
                request.body = b"".join([chunk async for chunk in body])
            return await route.handler(request)
        except h11.RemoteProtocolError:
            raise  # the request itself could not be read: no route's error
        except Exception as exc:  # noqa: BLE001 - every failure becomes an error response
            error = exc if isinstance(exc, ApiError) else self.translate(exc)
            if error is None:
                log.exception("%s %s failed", request.method, request.path)
                error = ApiError(500, str(exc) or type(exc).__name__)
            elif error.status >= 500:
                log.error("%s %s: %s", request.method, request.path, error.message)
            if error.status == 304:
                return Response(b"", 304)
            return json_response({"message": error.message}, error.status)

    def _head(self, content_type: str, extra: list[tuple[str, str]]) -> list[tuple[str, str]]:
        return [("Content-Type", content_type), *self.server_headers, *extra]

    async def _respond(self, conn: h11.Connection, writer: asyncio.StreamWriter, request: Request,
                       result: Response | StreamResponse) -> None:
        if isinstance(result, Response):
            headers = self._head(result.content_type, result.headers)
            headers.append(("Content-Length", str(len(result.body))))
            writer.write(conn.send(h11.Response(status_code=result.status, headers=headers)))
            if request.method != "HEAD" and result.body:
                writer.write(conn.send(h11.Data(data=result.body)))
            writer.write(conn.send(h11.EndOfMessage()))
            await writer.drain()
            return
        headers = self._head(result.content_type, [*result.headers, ("Transfer-Encoding", "chunked")])
        writer.write(conn.send(h11.Response(status_code=result.status, headers=headers)))
        await writer.drain()
        try:
            async for chunk in result.chunks:
                if chunk:
                    writer.write(conn.send(h11.Data(data=chunk)))
                    await writer.drain()
        finally:
            aclose = getattr(result.chunks, "aclose", None)
            if aclose is not None:
                await aclose()
        writer.write(conn.send(h11.EndOfMessage()))
        await writer.drain()

    async def _hijack(self, conn: h11.Connection, request: Request, hijack: Hijack,
                      reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Answer 101 (or 200 for clients that did not ask to upgrade), then hand over the socket."""
        if request.wants_upgrade:
            head = "HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n"
        else:
            head = "HTTP/1.1 200 OK\r\n"
        head += f"Content-Type: {hijack.content_type}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in self.server_headers) + "\r\n"
        writer.write(head.encode())
        await writer.drain()
        leftover, _closed = conn.trailing_data
        await hijack.handler(HijackedReader(bytes(leftover), reader), writer)
