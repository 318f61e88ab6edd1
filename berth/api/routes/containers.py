"""Engine API: /containers/... endpoints."""
from __future__ import annotations

import time
from collections.abc import AsyncIterator

from berth.api import bodies
from berth.api.http import (
    Hijack,
    Request,
    Response,
    Router,
    StreamResponse,
    json_line,
    json_response,
)
from berth.api.streaming import MULTIPLEXED_STREAM, RAW_STREAM, frame, pump_session
from berth.daemon.engine import Engine
from berth.daemon.logs import LogQuery, parse_time_arg
from berth.daemon.streams import STDERR, STDOUT

NO_CONTENT = Response(b"", 204, "text/plain")


def register(router: Router, engine: Engine) -> None:
    containers = engine.containers

    @router.route("POST", "/containers/create")
    async def create(request: Request) -> Response:
        container, warnings = await containers.create(request.decoded(bodies.CONTAINER_CREATE), request.arg("name"), request.arg("platform"))
        return json_response({"Id": container.id, "Warnings": warnings}, 201)

    @router.route("GET", "/containers/json")
    async def list_containers(request: Request) -> Response:
        return json_response(await containers.summaries(request.flag("all"), request.filters(),
                                                        request.int_arg("limit"), request.flag("size")))

    @router.route("GET", "/containers/{id}/json")
    async def inspect(request: Request) -> Response:
        container = containers.get(request.params["id"])
        return json_response(await containers.inspect(container.id, engine.execs.ids_for(container.id),
                                                      request.flag("size")))

    @router.route("POST", "/containers/{id}/start")
    async def start(request: Request) -> Response:
        await containers.start(request.params["id"])
        return NO_CONTENT

    @router.route("POST", "/containers/{id}/stop")
    async def stop(request: Request) -> Response:
        await containers.stop(request.params["id"], request.int_arg("t"))
        return NO_CONTENT

    @router.route("POST", "/containers/{id}/restart")
    async def restart(request: Request) -> Response:
        await containers.restart(request.params["id"], request.int_arg("t"))
        return NO_CONTENT

    @router.route("POST", "/containers/{id}/pause")
    async def pause(request: Request) -> Response:
        await containers.pause(request.params["id"])
        return NO_CONTENT

    @router.route("POST", "/containers/{id}/unpause")
    async def unpause(request: Request) -> Response:
        await containers.unpause(request.params["id"])
        return NO_CONTENT

    @router.route("POST", "/containers/{id}/kill")
    async def kill(request: Request) -> Response:
        await containers.kill(request.params["id"], request.arg("signal"))
        return NO_CONTENT

    @router.route("POST", "/containers/{id}/wait")
    async def wait(request: Request) -> StreamResponse:
        containers.get(request.params["id"])  # a 404 before the headers go out

        async def result() -> AsyncIterator[bytes]:
            code = await containers.wait(request.params["id"], request.arg("condition") or "not-running")
            yield json_line({"StatusCode": code, "Error": None})

        return StreamResponse(result())

    @router.route("DELETE", "/containers/{id:.*}")  # `rm -l parent/alias` names a link
    async def remove(request: Request) -> Response:
        if request.flag("link"):
            await containers.remove_link(request.params["id"])
        else:
            await containers.remove(request.params["id"], request.flag("force"), request.flag("v"))
        return NO_CONTENT

    @router.route("POST", "/containers/{id}/rename")
    async def rename(request: Request) -> Response:
        await containers.rename(request.params["id"], request.arg("name") or "")
        return NO_CONTENT

    @router.route("POST", "/containers/{id}/update")
    async def update(request: Request) -> Response:
        await containers.update(request.params["id"], request.decoded(bodies.CONTAINER_UPDATE))
        return json_response({"Warnings": None})

    @router.route("POST", "/containers/{id}/resize")
    async def resize(request: Request) -> Response:
        await containers.resize(request.params["id"], request.int_arg("h", 0) or 0, request.int_arg("w", 0) or 0)
        return Response(b"", 200, "text/plain")

    @router.route("POST", "/containers/{id}/attach")
    async def attach(request: Request) -> Hijack:
        container = containers.get(request.params["id"])
        streams = {s for s, name in ((STDOUT, "stdout"), (STDERR, "stderr")) if request.flag(name)}
        want_stdin = request.flag("stdin") and bool(container.config.get("OpenStdin"))
        replay = None
        if request.flag("logs") and streams:  # what the container wrote before, from its log
            replay = LogQuery(stdout=STDOUT in streams, stderr=STDERR in streams, until=time.time())
        live = streams if request.flag("stream") else set()
        handle = containers.attach(container.id, replay)
        tty = handle.tty

        async def session(reader, writer) -> None:
            async def end() -> None:
                containers.detach(handle)

            await pump_session(
                reader, writer, output=handle.output if live else None, replay=handle.replay,
                stdin=handle.stdin if want_stdin else None, tty=tty,
                # As dockerd: a TTY's stdin stays open when the client goes (detach, hang-up).
                close_stdin_at_eof=bool(container.config.get("StdinOnce")) and not tty,
                detach_keys=request.arg("detachKeys"), streams=live, on_end=end,
            )

        return Hijack(session, RAW_STREAM if tty else MULTIPLEXED_STREAM)

    @router.route("GET", "/containers/{id}/logs")
    async def logs(request: Request) -> StreamResponse:
        tail = request.arg("tail")
        query = LogQuery(
            stdout=request.flag("stdout"), stderr=request.flag("stderr"),
            since=parse_time_arg(request.arg("since")), until=parse_time_arg(request.arg("until")),
            tail=_tail(tail),
        )
        container, entries = containers.logs(request.params["id"], query, request.flag("follow"))
        tty = bool(container.config.get("Tty"))
        timestamps = request.flag("timestamps")
        details = request.flag("details")  # a line's log attributes, then a space: berth records none

        async def body() -> AsyncIterator[bytes]:
            async for entry in entries:
                data = b" " + entry.data if details else entry.data
                if timestamps:
                    data = entry.time.encode() + b" " + data
                yield frame(entry.stream, data, tty)

        return StreamResponse(body(), RAW_STREAM if tty else MULTIPLEXED_STREAM)

    @router.route("GET", "/containers/{id}/stats")
    async def stats(request: Request) -> StreamResponse:
        readings = containers.stats(request.params["id"], request.flag("stream", default=True),
                                    request.flag("one-shot"))
        return StreamResponse(json_line(reading) async for reading in readings)

    @router.route("GET", "/containers/{id}/top")
    async def top(request: Request) -> Response:
        return json_response(await containers.top(request.params["id"], request.arg("ps_args") or "-ef"))

    @router.route("POST", "/containers/{id}/exec")
    async def create_exec(request: Request) -> Response:
        session = engine.execs.create(request.params["id"], request.decoded(bodies.EXEC_CONFIG))
        return json_response({"Id": session.id}, 201)

    @router.route("POST", "/containers/prune")
    async def prune(request: Request) -> Response:
        deleted, reclaimed = await containers.prune(request.filters())
        return json_response({"ContainersDeleted": deleted or None, "SpaceReclaimed": reclaimed})


def _tail(text: str | None) -> int | None:
    """`tail`: a number of lines; "all", a negative number or anything else means every line (dockerd)."""
    try:
        lines = int(text or "")
    except ValueError:
        return None
    return lines if lines >= 0 else None
