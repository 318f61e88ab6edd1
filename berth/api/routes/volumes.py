"""Engine API: /volumes."""
from __future__ import annotations

from berth.api import bodies
from berth.api.http import Request, Response, Router, json_response
from berth.daemon.engine import Engine


def register(router: Router, engine: Engine) -> None:
    volumes = engine.volumes

    @router.route("GET", "/volumes")
    async def list_volumes(request: Request) -> Response:
        return json_response(volumes.list_volumes(request.filters()))

    @router.route("POST", "/volumes/create")
    async def create_volume(request: Request) -> Response:
        return json_response(volumes.create(request.decoded(bodies.VOLUME_CREATE)), 201)

    @router.route("POST", "/volumes/prune")
    async def prune_volumes(request: Request) -> Response:
        return json_response(volumes.prune(request.filters()))

    @router.route("GET", "/volumes/{name}")
    async def inspect_volume(request: Request) -> Response:
        return json_response(volumes.inspect(request.params["name"]))

    @router.route("DELETE", "/volumes/{name}")
    async def remove_volume(request: Request) -> Response:
        volumes.remove(request.params["name"], request.flag("force"))
        return Response(b"", 204, "text/plain")
