"""Engine API: /networks."""
from __future__ import annotations

import asyncio

from berth.api import bodies
from berth.api.http import Request, Response, Router, json_response
from berth.daemon.engine import Engine


def register(router: Router, engine: Engine) -> None:
    networks = engine.networks

    @router.route("GET", "/networks")
    async def list_networks(request: Request) -> Response:
        return json_response(networks.list_networks(request.filters()))

    @router.route("GET", "/networks/{id}")
    async def inspect_network(request: Request) -> Response:
        name = networks.resolve(request.params["id"])
        return json_response(networks.inspect(name, engine.containers.attached_to(name)))

    @router.route("DELETE", "/networks/{id}")
    async def remove_network(request: Request) -> Response:
        await asyncio.to_thread(networks.remove, request.params["id"])
        return Response(b"", 204, "text/plain")

    @router.route("POST", "/networks/create")
    async def create_network(request: Request) -> Response:
        return json_response(await asyncio.to_thread(networks.create, request.decoded(bodies.NETWORK_CREATE)), 201)

    @router.route("POST", "/networks/{id}/connect")
    async def connect_container(request: Request) -> Response:
        body = request.decoded(bodies.NETWORK_CONNECT)
        await engine.connections.connect(request.params["id"], body.get("Container") or "",
                                         body.get("EndpointConfig") or {})
        return Response(b"", 200, "text/plain")

    @router.route("POST", "/networks/{id}/disconnect")
    async def disconnect_container(request: Request) -> Response:
        await engine.connections.disconnect(request.params["id"], request.decoded(bodies.NETWORK_DISCONNECT).get("Container") or "")
        return Response(b"", 200, "text/plain")

    @router.route("GET", "/containers/{id}/network/explain")  # berth's own: `berth network explain`
    async def explain_network(request: Request) -> Response:
        return json_response(await engine.connections.explain(request.params["id"]))

    @router.route("POST", "/networks/prune")
    async def prune_networks(request: Request) -> Response:
        return json_response({"NetworksDeleted": await asyncio.to_thread(networks.prune, request.filters()) or None})
