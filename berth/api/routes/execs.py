"""Engine API: /exec/... endpoints."""
from __future__ import annotations

from berth.api.http import Hijack, Request, Response, Router, json_response
from berth.api.streaming import MULTIPLEXED_STREAM, RAW_STREAM, frame, pump_session
from berth.daemon.engine import Engine
from berth.daemon.errors import StartFailed
from berth.daemon.streams import STDERR, STDOUT


def register(router: Router, engine: Engine) -> None:
    execs = engine.execs

    @router.route("POST", "/exec/{id}/start")
    async def start(request: Request) -> Response | Hijack:
        options = request.json()
        session = execs.get(request.params["id"])
        if options.get("Detach"):
            await execs.start(session.id)
            return Response(b"", 200, "application/json")
        output = session.hub.subscribe()  # before the process starts, so no output is missed
        try:
            await execs.start(session.id)
        except StartFailed as exc:
            # As dockerd: the stream opens, carries the error text, and the exec's exit code is 126.
            session.hub.unsubscribe(output)
            message = frame(STDOUT, f"{exc}\r\n".encode(), session.tty)

            async def report(reader, writer) -> None:
                writer.write(message)
                await writer.drain()
                writer.close()

            return Hijack(report, RAW_STREAM if session.tty else MULTIPLEXED_STREAM)
        config = session.config
        streams = {s for s, key in ((STDOUT, "AttachStdout"), (STDERR, "AttachStderr")) if config.get(key)}

        async def pump(reader, writer) -> None:
            await pump_session(
                reader, writer, output=output, stdin=session.stdin if config.get("AttachStdin") else None,
                tty=session.tty, close_stdin_at_eof=not session.tty, detach_keys=config.get("DetachKeys"),
                streams=streams,
            )

        return Hijack(pump, RAW_STREAM if session.tty else MULTIPLEXED_STREAM)

    @router.route("POST", "/exec/{id}/resize")
    async def resize(request: Request) -> Response:
        await execs.resize(request.params["id"], request.int_arg("h", 0), request.int_arg("w", 0))
        return Response(b"", 200, "text/plain")

    @router.route("GET", "/exec/{id}/json")
    async def inspect(request: Request) -> Response:
        return json_response(execs.get(request.params["id"]).to_api())
