"""The Engine API application: every route, and how service errors become HTTP errors."""
from __future__ import annotations

import berth
from berth.api.http import ApiError, HttpServer, Router
from berth.api.routes import containers, execs, images, networks, system
from berth.daemon.engine import Engine
from berth.daemon.errors import (
    Conflict,
    InvalidArgument,
    NotFound,
    NotModified,
    StartFailed,
)
from berth.image.errors import (
    ImageConflict,
    ImageNotFound,
    InvalidFilter,
    InvalidImage,
    InvalidReference,
)

SERVER_HEADERS = [
    ("Api-Version", berth.API_VERSION),
    ("Docker-Experimental", "false"),
    ("Ostype", "linux"),
    ("Builder-Version", "1"),
    ("Server", f"berth/{berth.__version__} (linux)"),
]

_STATUS = [
    (NotFound, 404), (ImageNotFound, 404), (Conflict, 409), (ImageConflict, 409),
    (InvalidArgument, 400), (InvalidReference, 400), (InvalidImage, 400), (InvalidFilter, 400), (StartFailed, 400), (NotModified, 304),
]


def translate(exc: Exception) -> ApiError | None:
    for kind, status in _STATUS:
        if isinstance(exc, kind):
            return ApiError(status, str(exc))
    return None


def build_server(engine: Engine) -> HttpServer:
    router = Router()
    for module in (system, containers, execs, images, networks):
        module.register(router, engine)
    return HttpServer(router, SERVER_HEADERS, translate)
