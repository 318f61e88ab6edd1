"""The Engine API application: every route, and how service errors become HTTP errors."""
from __future__ import annotations

import berth
from berth import errdefs
from berth.api.http import ApiError, HttpServer, Router
from berth.api.routes import builds, containers, execs, images, networks, swarm, system, volumes
from berth.daemon.engine import Engine

SERVER_HEADERS = [
    ("Api-Version", berth.API_VERSION),
    ("Docker-Experimental", "false"),
    ("Ostype", "linux"),
    ("Builder-Version", "1"),
    ("Server", f"berth/{berth.__version__} (linux)"),
]

# Each kind of error in berth.errdefs, and the status dockerd answers it with; the first that fits wins.
STATUS_OF_KIND: tuple[tuple[type[errdefs.BerthError], int], ...] = (
    (errdefs.NotFound, 404), (errdefs.InvalidArgument, 400), (errdefs.Unauthorized, 401),
    (errdefs.Forbidden, 403), (errdefs.Conflict, 409), (errdefs.NotModified, 304),
    (errdefs.Unavailable, 503), (errdefs.Unimplemented, 501), (errdefs.BerthError, 500),
)


def translate(exc: Exception) -> ApiError | None:
    """The API error for a service's error, by its kind; None for an exception of no kind (a bug)."""
    for kind, status in STATUS_OF_KIND:
        if isinstance(exc, kind):
            return ApiError(status, str(exc))
    return None


def build_server(engine: Engine) -> HttpServer:
    router = Router()
    for module in (system, containers, execs, images, networks, volumes, swarm, builds):
        module.register(router, engine)
    return HttpServer(router, SERVER_HEADERS, (berth.MIN_API_VERSION, berth.API_VERSION), translate)
