"""Engine API: /exec/... endpoints."""
from __future__ import annotations

from berth.api import bodies
from berth.api.http import Hijack, Request, Response, Router, json_response
from berth.api.streaming import MULTIPLEXED_STREAM, RAW_STREAM, frame, pump_session
from berth.daemon.engine import Engine
from berth.daemon.streams import STDERR, STDOUT
from berth.errdefs import BerthError


def register(router: Router, engine: Engine) -> None:
    execs = engine.execs

    @router.route("POST", "/exec/{id}/start")
    async def start(request: Request) -> Response | Hijack:
        options = request.decoded(bodies.EXEC_START)
        session = execs.get(request.params["id"])
        if options.get("Detach"):
            await execs.start(session.id)
            return Response(b"", 200, "application/json")
        config = session.config
        streams = {s for s, key in ((STDOUT, "AttachStdout"), (STDERR, "AttachStderr")) if config.get(key)}
        # as dockerd: the start request's Tty says whether the stream is raw or multiplexed (docker-py
        # starts an exec made with a tty with Tty false, and reads frames)
        raw = bool(options.get("Tty", session.tty))

        async def pump(reader, writer) -> None:
            # As dockerd: the process starts once the client holds the stream, so no output can be
            # swallowed by a client that buffers past the response head; and what keeps it from
            # starting (an unknown user, a container that stopped) goes down that stream too.
            output = session.hub.subscribe()
            try:
                await execs.start(session.id)
            except BerthError as exc:
                session.hub.unsubscribe(output)
                writer.write(frame(STDOUT, f"{exc}\r\n".encode(), raw))
                await writer.drain()
                writer.close()
                return
            await pump_session(
                reader, writer, output=output, stdin=session.stdin if config.get("AttachStdin") else None,
                tty=raw, close_stdin_at_eof=not session.tty, detach_keys=config.get("DetachKeys"),
                streams=streams,
            )

        return Hijack(pump, RAW_STREAM if raw else MULTIPLEXED_STREAM)

    @router.route("POST", "/exec/{id}/resize")
    async def resize(request: Request) -> Response:
        await execs.resize(request.params["id"], request.int_arg("h", 0) or 0, request.int_arg("w", 0) or 0)
        return Response(b"", 200, "text/plain")

    @router.route("GET", "/exec/{id}/json")
    async def inspect(request: Request) -> Response:
        return json_response(execs.get(request.params["id"]).to_api())
