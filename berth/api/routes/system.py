"""Engine API: _ping, version, info, events, system df and berth's store check."""
from __future__ import annotations

from collections.abc import AsyncIterator

from berth.api.http import Request, Response, Router, StreamResponse, json_line, json_response
from berth.daemon.engine import Engine
from berth.daemon.logs import parse_time_arg


def register(router: Router, engine: Engine) -> None:
    @router.route("GET", "/_ping")
    async def ping(request: Request) -> Response:
        return Response(b"OK", 200, "text/plain; charset=utf-8",
                        [("Cache-Control", "no-cache, no-store, must-revalidate"), ("Pragma", "no-cache")])

    @router.route("GET", "/version")
    async def version(request: Request) -> Response:
        return json_response(engine.system.version())

    @router.route("GET", "/info")
    async def info(request: Request) -> Response:
        return json_response(await engine.system.info())

    @router.route("GET", "/events")
    async def events(request: Request) -> StreamResponse:
        stream = engine.events.stream(parse_time_arg(request.arg("since")), parse_time_arg(request.arg("until")),
                                      request.filters())

        async def lines() -> AsyncIterator[bytes]:
            async for event in stream:
                yield json_line(event)

        return StreamResponse(lines())

    @router.route("GET", "/system/df")
    async def disk_usage(request: Request) -> Response:
        return json_response(await engine.system.disk_usage())

    @router.route("GET", "/berth/system/check")
    async def check(request: Request) -> Response:
        return json_response({"Problems": await engine.images.check()})
