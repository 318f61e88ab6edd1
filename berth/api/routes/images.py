"""Engine API: /images/..., /commit, and the container endpoints that read a container's files."""
from __future__ import annotations

import asyncio
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator, Callable
from contextlib import nullcontext
from typing import BinaryIO, TypeVar

from berth.api.http import (
    ApiError,
    Request,
    Response,
    Router,
    StreamResponse,
    json_line,
    json_response,
)
from berth.api.streaming import consume_in_thread, produce_in_thread
from berth.daemon import archives
from berth.daemon.engine import Engine
from berth.errdefs import NotFound
from berth.image.reference import familiar_name
from berth.layer.apply import LayerError

URL_TIMEOUT = 60  # seconds without progress before an import from a URL fails
T = TypeVar("T")


def _progress(message: dict) -> bytes:
    return json_line(message, b"\r\n")


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


def register(router: Router, engine: Engine) -> None:
    images = engine.images
    containers = engine.containers

    @router.route("GET", "/images/json")
    async def list_images(request: Request) -> Response:
        return json_response(await asyncio.to_thread(
            images.list_images, request.flag("all"), request.filters(), request.flag("digests")))

    @router.route("POST", "/images/create", streams_body=True)
    async def create(request: Request) -> StreamResponse:
        if request.arg("fromImage"):
            name = familiar_name(request.arg("fromImage"))  # dockerd's words: busybox, not docker.io/library/...
            raise ApiError(404, f"pull access denied for {name}, repository does not exist or may require "
                                f"'docker login': this berth has no registry client yet")
        source = request.arg("fromSrc") or ""
        repo_tag, changes, message = _repo_tag(request), request.args("changes"), request.arg("message") or ""
        if source == "-":
            assert request.stream is not None
            image_id = await consume_in_thread(request.stream, lambda body: images.import_image(
                body, repo_tag, changes, message))
        else:
            image_id = await asyncio.to_thread(lambda: fetch_url(source, lambda body: images.import_image(
                body, repo_tag, changes, message, source=source)))

        engine.events.publish("image", "import", image_id, {"name": repo_tag or image_id})

        async def result() -> AsyncIterator[bytes]:
            yield _progress({"status": image_id})

        return StreamResponse(result())

    @router.route("POST", "/images/load", streams_body=True)
    async def load(request: Request) -> StreamResponse:
        assert request.stream is not None
        messages = await consume_in_thread(request.stream, images.load)
        for message in messages:
            name = message.rsplit(" ", 1)[-1]
            engine.events.publish("image", "load", name, {"name": name})

        async def result() -> AsyncIterator[bytes]:
            for message in messages:
                yield _progress({"stream": message + "\n"})

        return StreamResponse(result())

    async def save(names: list[str]) -> StreamResponse:
        ids = await asyncio.to_thread(lambda: [images.resolve(name) for name in names])  # 404 before the body
        for image_id in ids:
            engine.events.publish("image", "save", image_id, {"name": image_id})
        return StreamResponse(produce_in_thread(lambda out: images.save(names, out)), "application/x-tar")

    @router.route("GET", "/images/get")
    async def save_many(request: Request) -> StreamResponse:
        return await save(request.args("names"))

    @router.route("POST", "/images/prune")
    async def prune(request: Request) -> Response:
        return json_response(await asyncio.to_thread(images.prune, request.filters(), containers.users_of_image))

    @router.route("GET", "/images/{name:.*}/get")
    async def save_one(request: Request) -> StreamResponse:
        return await save([request.params["name"]])

    @router.route("GET", "/images/{name:.*}/json")
    async def inspect(request: Request) -> Response:
        return json_response(await asyncio.to_thread(images.inspect, request.params["name"]))

    @router.route("GET", "/images/{name:.*}/history")
    async def history(request: Request) -> Response:
        return json_response(await asyncio.to_thread(images.history, request.params["name"]))

    @router.route("POST", "/images/{name:.*}/push")
    async def push(request: Request) -> Response:
        await asyncio.to_thread(images.resolve, request.params["name"])
        raise ApiError(501, f"cannot push {request.params['name']}: this berth has no registry client yet")

    @router.route("POST", "/images/{name:.*}/tag")
    async def tag(request: Request) -> Response:
        source = request.params["name"]
        await asyncio.to_thread(images.tag, source, request.arg("repo") or "", request.arg("tag"))
        image_id = await asyncio.to_thread(images.resolve, source)
        engine.events.publish("image", "tag", image_id, {"name": _repo_tag(request) or ""})
        return Response(b"", 201, "text/plain")

    @router.route("DELETE", "/images/{name:.*}")
    async def remove(request: Request) -> Response:
        outcome = await asyncio.to_thread(
            images.remove, request.params["name"], request.flag("force"), not request.flag("noprune"),
            containers.users_of_image)
        for item in outcome:  # [{"Untagged": name}, {"Deleted": id}] as dockerd reports them
            for key, value in item.items():
                action = "untag" if key == "Untagged" else "delete"
                engine.events.publish("image", action, value, {"name": value})
        return json_response(outcome)

    @router.route("POST", "/commit")
    async def commit(request: Request) -> Response:
        container = containers.get(request.arg("container") or "")
        overrides = request.json() or {}
        config = {**container.config, **{k: v for k, v in overrides.items() if v}}
        pause = request.flag("pause", default=True)  # Docker pauses a running container by default
        async with containers.frozen(container.id) if pause else nullcontext():
            image_id = await asyncio.to_thread(
                images.commit, containers.directory(container) / "diff", container.image_id, config,
                request.args("changes"), request.arg("comment") or "", request.arg("author") or "",
                _repo_tag(request), container.id)
        containers.emit(container, "commit", comment=request.arg("comment") or "")
        return json_response({"Id": image_id}, 201)

    @router.route("GET", "/containers/{id}/changes")
    async def changes(request: Request) -> Response:
        container = containers.get(request.params["id"])
        return json_response(await asyncio.to_thread(
            images.diff, containers.directory(container) / "diff", container.image_id))

    @router.route("GET", "/containers/{id}/archive")
    async def get_archive(request: Request) -> Response | StreamResponse:
        """docker cp out of a container (HEAD: only the stat header)."""
        container = containers.get(request.params["id"])
        path = request.arg("path") or ""
        mounted = await containers.mount_filesystem(container.id)
        try:
            found = await asyncio.to_thread(archives.locate, str(mounted), path, containers.binds(container))
            header = ("X-Docker-Container-Path-Stat", await asyncio.to_thread(archives.encoded_stat, found))
        except OSError:
            containers.release_filesystem(container.id)
            raise NotFound(f"Could not find the file {path} in container {request.params['id']}") from None
        if request.method == "HEAD":
            containers.release_filesystem(container.id)
            return Response(b"", 200, "application/json", [header])

        def write(out: BinaryIO) -> None:
            try:
                archives.write_tar(found, out)
            finally:
                containers.release_filesystem(container.id)

        return StreamResponse(produce_in_thread(write), "application/x-tar", headers=[header])

    @router.route("PUT", "/containers/{id}/archive", streams_body=True)
    async def put_archive(request: Request) -> Response:
        """docker cp into a container: the body is a tar, unpacked into the directory `path`."""
        container = containers.get(request.params["id"])
        if container.host_config.get("ReadonlyRootfs"):
            raise ApiError(403, "container rootfs is marked read-only")
        path = request.arg("path") or ""
        mounted = await containers.mount_filesystem(container.id)
        try:
            try:
                found = await asyncio.to_thread(archives.locate, str(mounted), path, containers.binds(container))
            except OSError:
                raise NotFound(f"Could not find the file {path} in container {request.params['id']}") from None
            if not await asyncio.to_thread(archives.is_directory, found):
                raise ApiError(400, "extraction point is not a directory")
            assert request.stream is not None
            try:
                await consume_in_thread(request.stream, lambda body: archives.extract(found, body))
            except LayerError as exc:
                raise ApiError(400, f"Error processing tar file: {exc.reason}") from None
        finally:
            containers.release_filesystem(container.id)
        return Response(b"", 200, "text/plain")

    @router.route("POST", "/build/prune")
    async def prune_build_cache(request: Request) -> Response:
        return json_response({"CachesDeleted": None, "SpaceReclaimed": 0})  # no builder yet, so no cache

    @router.route("GET", "/containers/{id}/export")
    async def export(request: Request) -> StreamResponse:
        container = containers.get(request.params["id"])
        mounted = await containers.mount_filesystem(container.id)

        def write(out: BinaryIO) -> None:
            try:
                images.export(mounted, out)
            finally:
                containers.release_filesystem(container.id)

        return StreamResponse(produce_in_thread(write), "application/x-tar")
