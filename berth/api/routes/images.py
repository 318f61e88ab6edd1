"""Engine API: /images/..., /commit, and the container endpoints that read a container's files."""
from __future__ import annotations

import asyncio
import fcntl
import json
import os
from collections.abc import AsyncIterator, Callable
import urllib.error
import urllib.parse
import urllib.request
from typing import BinaryIO, TypeVar

from berth.api.http import ApiError, Request, Response, Router, StreamResponse, json_response
from berth.api.streaming import consume_in_thread
from berth.daemon.engine import Engine

PIPE_CHUNK = 1 << 20
URL_TIMEOUT = 60  # seconds without progress before an import from a URL fails
T = TypeVar("T")


def _progress(message: dict) -> bytes:
    return json.dumps(message).encode() + b"\r\n"


def _widen(pipe_fd: int) -> None:
    """Let the pipe hold PIPE_CHUNK bytes, so each hop between threads moves that much."""
    try:
        fcntl.fcntl(pipe_fd, fcntl.F_SETPIPE_SZ, PIPE_CHUNK)
    except OSError:
        pass  # above /proc/sys/fs/pipe-max-size: the default size works, only slower


async def coalesced(chunks: AsyncIterator[bytes], size: int = PIPE_CHUNK) -> AsyncIterator[bytes]:
    """The same bytes in pieces of at least `size` (the last may be shorter): fewer thread hops."""
    pending: list[bytes] = []
    count = 0
    async for chunk in chunks:
        pending.append(chunk)
        count += len(chunk)
        if count >= size:
            yield b"".join(pending)
            pending, count = [], 0
    if pending:
        yield b"".join(pending)


def stream_writer(write: Callable[[BinaryIO], None]) -> AsyncIterator[bytes]:
    """Run `write(file)` in a worker thread and yield what it writes, through a pipe."""
    read_fd, write_fd = os.pipe()
    _widen(read_fd)

    def produce() -> None:
        with open(write_fd, "wb") as out:
            write(out)

    async def chunks() -> AsyncIterator[bytes]:
        producer = asyncio.create_task(asyncio.to_thread(produce))
        with open(read_fd, "rb", buffering=0) as source:
            while data := await asyncio.to_thread(source.read, PIPE_CHUNK):
                yield data
        await producer

    return chunks()


def fetch_url(url: str, consume: Callable[[BinaryIO], T]) -> T:
    """GET `url` (http or https) and pass the response body, as a stream, to `consume`."""
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise ApiError(400, f"invalid import source {url!r}: expected -, or an http or https URL")
    try:
        with urllib.request.urlopen(url, timeout=URL_TIMEOUT) as body:
            return consume(body)
    except urllib.error.HTTPError as exc:
        raise ApiError(500, f'Get "{url}": {exc.code} {exc.reason}') from None
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        raise ApiError(500, f'Get "{url}": {getattr(exc, "reason", exc)}') from None


def _repo_tag(request: Request) -> str | None:
    repo = request.arg("repo")
    if not repo:
        return None
    tag = request.arg("tag")
    return f"{repo}:{tag}" if tag else repo


def filters_arg(request: Request) -> dict[str, list[str]]:
    """The `filters` query parameter in list form; older clients send `{"name": {"value": true}}`."""
    filters = request.json_arg("filters")
    if not isinstance(filters, dict):
        raise ApiError(400, "invalid filters: expected a JSON object")
    return {name: [v for v, on in values.items() if on] if isinstance(values, dict) else list(values)
            for name, values in filters.items()}


def register(router: Router, engine: Engine) -> None:
    images = engine.images
    containers = engine.containers

    @router.route("GET", "/images/json")
    async def list_images(request: Request) -> Response:
        return json_response(await asyncio.to_thread(
            images.list_images, request.flag("all"), filters_arg(request), request.flag("digests")))

    @router.route("POST", "/images/create", streams_body=True)
    async def create(request: Request) -> StreamResponse:
        if request.arg("fromImage"):
            name = request.arg("fromImage")
            raise ApiError(404, f"pull access denied for {name}, repository does not exist or may require "
                                f"'docker login': this berth has no registry client yet")
        source = request.arg("fromSrc") or ""
        repo_tag, changes, message = _repo_tag(request), request.args("changes"), request.arg("message") or ""
        if source == "-":
            assert request.stream is not None
            image_id = await consume_in_thread(coalesced(request.stream), lambda body: images.import_image(
                body, repo_tag, changes, message))
        else:
            image_id = await asyncio.to_thread(lambda: fetch_url(source, lambda body: images.import_image(
                body, repo_tag, changes, message, source=source)))

        async def result() -> AsyncIterator[bytes]:
            yield _progress({"status": image_id})

        return StreamResponse(result())

    @router.route("POST", "/images/load", streams_body=True)
    async def load(request: Request) -> StreamResponse:
        assert request.stream is not None
        messages = await consume_in_thread(coalesced(request.stream), images.load)

        async def result() -> AsyncIterator[bytes]:
            for message in messages:
                yield _progress({"stream": message + "\n"})

        return StreamResponse(result())

    @router.route("GET", "/images/get")
    async def save_many(request: Request) -> StreamResponse:
        names = request.args("names")
        await asyncio.to_thread(lambda: [images.resolve(name) for name in names])
        return StreamResponse(stream_writer(lambda out: images.save(names, out)), "application/x-tar")

    @router.route("POST", "/images/prune")
    async def prune(request: Request) -> Response:
        return json_response(await asyncio.to_thread(images.prune, filters_arg(request), containers.users_of_image))

    @router.route("GET", "/images/{name:.*}/get")
    async def save_one(request: Request) -> StreamResponse:
        name = request.params["name"]
        await asyncio.to_thread(images.resolve, name)
        return StreamResponse(stream_writer(lambda out: images.save([name], out)), "application/x-tar")

    @router.route("GET", "/images/{name:.*}/json")
    async def inspect(request: Request) -> Response:
        return json_response(await asyncio.to_thread(images.inspect, request.params["name"]))

    @router.route("GET", "/images/{name:.*}/history")
    async def history(request: Request) -> Response:
        return json_response(await asyncio.to_thread(images.history, request.params["name"]))

    @router.route("POST", "/images/{name:.*}/tag")
    async def tag(request: Request) -> Response:
        await asyncio.to_thread(images.tag, request.params["name"], request.arg("repo") or "", request.arg("tag"))
        return Response(b"", 201, "text/plain")

    @router.route("DELETE", "/images/{name:.*}")
    async def remove(request: Request) -> Response:
        return json_response(await asyncio.to_thread(
            images.remove, request.params["name"], request.flag("force"), not request.flag("noprune"),
            containers.users_of_image))

    @router.route("POST", "/commit")
    async def commit(request: Request) -> Response:
        container = containers.get(request.arg("container") or "")
        overrides = request.json() or {}
        config = {**container.config, **{k: v for k, v in overrides.items() if v}}
        image_id = await asyncio.to_thread(
            images.commit, containers.directory(container) / "diff", container.image_id, config,
            request.args("changes"), request.arg("comment") or "", request.arg("author") or "",
            _repo_tag(request), container.id)
        return json_response({"Id": image_id}, 201)

    @router.route("GET", "/containers/{id}/changes")
    async def changes(request: Request) -> Response:
        container = containers.get(request.params["id"])
        return json_response(await asyncio.to_thread(
            images.diff, containers.directory(container) / "diff", container.image_id))

    @router.route("GET", "/containers/{id}/export")
    async def export(request: Request) -> StreamResponse:
        container = containers.get(request.params["id"])
        mounted = await containers.mount_filesystem(container.id)

        def write(out: BinaryIO) -> None:
            try:
                images.export(mounted, out)
            finally:
                containers.release_filesystem(container.id)

        return StreamResponse(stream_writer(write), "application/x-tar")
