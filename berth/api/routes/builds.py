"""Engine API: POST /build (the classic builder's stream of messages) and POST /build/prune."""
from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from berth.api.http import ApiError, Request, Response, Router, StreamResponse, json_line, json_response
from berth.daemon.builds import BuildError, BuildOptions, parse_build_args
from berth.daemon.engine import Engine
from berth.errdefs import BerthError

_DONE = object()
log = logging.getLogger("berth.api")


def _options(request: Request) -> BuildOptions:
    try:
        labels = json.loads(request.arg("labels") or "{}") or {}
    except ValueError:
        raise ApiError(400, f"invalid labels: {request.arg('labels')}") from None
    return BuildOptions(
        tags=request.args("t"), build_args=parse_build_args(request.arg("buildargs")), labels=labels,
        target=request.arg("target") or "", no_cache=request.flag("nocache"), remove=request.flag("rm", True),
        cache_from=_json_list(request.arg("cachefrom")),
        force_remove=request.flag("forcerm"), pull=request.flag("pull"), network_mode=request.arg("networkmode") or "",
        extra_hosts=[host for value in request.args("extrahosts") for host in value.split(",") if host])


def _json_list(text: str | None) -> list[str]:
    try:
        value = json.loads(text) if text else []
    except ValueError:
        raise ApiError(400, f"invalid cachefrom: {text}") from None
    return [str(item) for item in value] if isinstance(value, list) else []


def register(router: Router, engine: Engine) -> None:
    @router.route("POST", "/build", streams_body=True)
    async def build(request: Request) -> StreamResponse:
        context = request.stream
        assert context is not None
        options = _options(request)
        quiet = request.flag("q")
        # as dockerd, the first `dockerfile` (docker-py sends a Dockerfile from outside the context
        # as its name in the tar, then its text)
        dockerfile = next(iter(request.args("dockerfile")), "")
        remote = request.arg("remote")
        if remote:
            work = await engine.builds.receive_remote(remote)
        else:
            work = await engine.builds.receive(context)  # the whole body before the answer starts
        messages: asyncio.Queue[Any] = asyncio.Queue()

        async def emit(message: dict[str, Any]) -> None:
            if not quiet or "aux" in message:
                await messages.put(message)

        async def run() -> None:
            try:
                image_id = await engine.builds.build(work, dockerfile, options, emit,
                                                     request.headers.get("x-registry-config"))
                if quiet:
                    await messages.put({"stream": image_id + "\n"})
            except Exception as error:  # noqa: BLE001 - every failure ends the stream with its message
                if not isinstance(error, BerthError):
                    log.exception("build failed")
                code = error.code if isinstance(error, BuildError) else 0
                detail: dict[str, Any] = {"message": str(error), **({"code": code} if code else {})}
                await messages.put({"errorDetail": detail, "error": str(error)})
            finally:
                await messages.put(_DONE)

        task = asyncio.create_task(run())

        async def lines() -> AsyncIterator[bytes]:
            try:
                while (message := await messages.get()) is not _DONE:
                    yield json_line(message, b"\r\n")
            finally:
                if not task.done():
                    task.cancel()

        return StreamResponse(lines())

    @router.route("POST", "/build/prune")
    async def prune(request: Request) -> Response:
        forgotten = await asyncio.to_thread(engine.builds.prune)
        return json_response({"CachesDeleted": None if not forgotten else [], "SpaceReclaimed": 0})
