"""Engine API: /swarm and the objects only a swarm has. berth is never part of a swarm, and answers
as dockerd answers on a node that is not in one."""
from __future__ import annotations

from berth.api.http import Request, Response, Router
from berth.daemon.engine import Engine
from berth.errdefs import Unavailable

NOT_A_MANAGER = ('This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect '
                 "this node to swarm and try again.")


def register(router: Router, engine: Engine) -> None:
    @router.route("POST", "/swarm/leave")
    async def leave(request: Request) -> Response:
        raise Unavailable("This node is not part of a swarm")

    for path in ("/swarm", "/nodes", "/services", "/tasks", "/secrets", "/configs"):
        @router.route("GET", path)
        async def not_a_manager(request: Request) -> Response:
            raise Unavailable(NOT_A_MANAGER)
