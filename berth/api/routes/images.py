"""Engine API: /images/..., /commit, and the container endpoints that read a container's files."""
from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from berth.api import bodies
from berth.api.http import Request, Response, Router, StreamResponse, json_line, json_response
from berth.daemon.engine import Engine
from berth.errdefs import BerthError

log = logging.getLogger("berth.api")

PATH_STAT_HEADER = "X-Docker-Container-Path-Stat"


def _progress(message: dict) -> bytes:
    return json_line(message, b"\r\n")


def _repo_tag(request: Request) -> str | None:
    repo = request.arg("repo")
    if not repo:
        return None
    tag = request.arg("tag")
    return f"{repo}:{tag}" if tag else repo


def _messages(messages: list[dict]) -> StreamResponse:
    async def lines() -> AsyncIterator[bytes]:
        for message in messages:
            yield _progress(message)

    return StreamResponse(lines())


async def _progress_stream(messages: AsyncIterator[dict]) -> StreamResponse:
    """Pull's and push's answer, as dockerd's: an error before the first message is the HTTP
    status; once the stream has begun, an error is its last message."""
    first = await anext(messages, None)

    async def lines() -> AsyncIterator[bytes]:
        if first is not None:
            yield _progress(first)
        try:
            async for message in messages:
                yield _progress(message)
        except Exception as error:  # noqa: BLE001 - the answer has begun: the error ends it
            if not isinstance(error, BerthError):
                log.exception("registry operation failed")
            yield _progress({"errorDetail": {"message": str(error)}, "error": str(error)})

    return StreamResponse(lines())


def register(router: Router, engine: Engine) -> None:
    images = engine.images
    files = engine.container_files

    @router.route("GET", "/images/json")
    async def list_images(request: Request) -> Response:
        return json_response(await images.list_images(request.flag("all"), request.filters(), request.flag("digests")))

    @router.route("POST", "/images/create", streams_body=True)
    async def create(request: Request) -> StreamResponse:
        if request.arg("fromImage"):
            return await _progress_stream(engine.registries.pull(
                request.arg("fromImage") or "", request.arg("tag"), request.arg("platform"),
                request.headers.get("x-registry-auth")))
        image_id = await images.import_image(request.arg("fromSrc") or "", request.stream, _repo_tag(request),
                                             request.args("changes"), request.arg("message") or "")
        return _messages([{"status": image_id}])

    @router.route("POST", "/images/load", streams_body=True)
    async def load(request: Request) -> StreamResponse:
        assert request.stream is not None
        try:
            loaded = await images.load(request.stream)
        except BerthError as error:  # as dockerd: the answer has begun, so the error comes in the stream
            return _messages([{"errorDetail": {"message": str(error)}, "error": str(error)}])
        return _messages([{"stream": message + "\n"} for message in loaded])

    @router.route("GET", "/images/get")
    async def save_many(request: Request) -> StreamResponse:
        return StreamResponse(await images.save(request.args("names")), "application/x-tar")

    @router.route("POST", "/images/prune")
    async def prune(request: Request) -> Response:
        return json_response(await images.prune(request.filters()))

    @router.route("GET", "/images/{name:.*}/get")
    async def save_one(request: Request) -> StreamResponse:
        return StreamResponse(await images.save([request.params["name"]]), "application/x-tar")

    @router.route("GET", "/images/{name:.*}/json")
    async def inspect(request: Request) -> Response:
        return json_response(await images.inspect(request.params["name"]))

    @router.route("GET", "/images/{name:.*}/history")
    async def history(request: Request) -> Response:
        return json_response(await images.history(request.params["name"]))

    @router.route("POST", "/images/{name:.*}/push")
    async def push(request: Request) -> StreamResponse:
        return await _progress_stream(engine.registries.push(
            request.params["name"], request.arg("tag"), request.headers.get("x-registry-auth")))

    @router.route("POST", "/auth")
    async def auth(request: Request) -> Response:
        return json_response(await engine.registries.login(request.decoded(bodies.AUTH_CONFIG)))

    @router.route("POST", "/images/{name:.*}/tag")
    async def tag(request: Request) -> Response:
        await images.tag(request.params["name"], request.arg("repo") or "", request.arg("tag"))
        return Response(b"", 201, "text/plain")

    @router.route("DELETE", "/images/{name:.*}")
    async def remove(request: Request) -> Response:
        return json_response(await images.remove(request.params["name"], request.flag("force"),
                                                 not request.flag("noprune")))

    @router.route("POST", "/commit")
    async def commit(request: Request) -> Response:
        image_id = await images.commit(
            request.arg("container") or "", request.decoded(bodies.COMMIT_CONFIG), request.flag("pause", default=True),
            request.args("changes"), request.arg("comment") or "", request.arg("author") or "", _repo_tag(request))
        return json_response({"Id": image_id}, 201)

    @router.route("GET", "/containers/{id}/changes")
    async def changes(request: Request) -> Response:
        return json_response(await images.changes(request.params["id"]))

    @router.route("GET", "/containers/{id}/archive")
    async def get_archive(request: Request) -> Response | StreamResponse:
        """docker cp out of a container (HEAD: only the stat header)."""
        ref, path = request.params["id"], request.arg("path") or ""
        if request.method == "HEAD":
            return Response(b"", 200, "application/json", [(PATH_STAT_HEADER, await files.stat(ref, path))])
        header, tar = await files.read(ref, path)
        return StreamResponse(tar, "application/x-tar", headers=[(PATH_STAT_HEADER, header)])

    @router.route("PUT", "/containers/{id}/archive", streams_body=True)
    async def put_archive(request: Request) -> Response:
        """docker cp into a container: the body is a tar, unpacked into the directory `path`."""
        assert request.stream is not None
        await files.write(request.params["id"], request.arg("path") or "", request.stream)
        return Response(b"", 200, "text/plain")

    @router.route("GET", "/containers/{id}/export")
    async def export(request: Request) -> StreamResponse:
        return StreamResponse(await files.export(request.params["id"]), "application/x-tar")
