"""Health checks (HEALTHCHECK, `--health-cmd`): while a container runs, a probe runs in it every
interval, and State.Health says how the last probes went, as dockerd keeps it.

A probe is an exec (so it shows in `docker events` as dockerd's do). Exit 0 is a pass; anything else,
or running past the timeout, a failure. `Retries` failures in a row make the container unhealthy;
failures during the start period do not count until a probe has passed.
"""
from __future__ import annotations

import asyncio
import logging
import os
import signal
import time
from typing import TYPE_CHECKING, Any

from berth.daemon.errors import StartFailed
from berth.durations import format_go_duration
from berth.errdefs import BerthError, InvalidArgument
from berth.timestamps import rfc3339_nano

if TYPE_CHECKING:
    from berth.daemon.container import Container
    from berth.daemon.containers import ContainerService
    from berth.daemon.execs import ExecService

log = logging.getLogger("berthd.health")

DEFAULT_INTERVAL = DEFAULT_TIMEOUT = 30_000_000_000  # nanoseconds, as the API gives them
DEFAULT_RETRIES = 3
MIN_DURATION = 1_000_000  # 1ms
LOG_ENTRIES = 5
OUTPUT_LIMIT = 4096


def merge_healthcheck(requested: dict[str, Any] | None, image: dict[str, Any] | None) -> dict[str, Any] | None:
    """The container's Healthcheck: the request's, with what it leaves unset taken from the image's."""
    if not requested:
        return image or None
    if not image:
        return requested
    merged = dict(requested)
    merged["Test"] = requested.get("Test") or image.get("Test")
    for field in ("Interval", "Timeout", "StartPeriod", "Retries"):
        if not requested.get(field):
            merged[field] = image.get(field)
    return {key: value for key, value in merged.items() if value is not None}


def check_healthcheck(check: dict[str, Any] | None) -> None:
    """Refuse durations under 1ms and negative retries, in dockerd's words."""
    for field in ("Interval", "Timeout", "StartPeriod"):
        value = (check or {}).get(field) or 0
        if value and value < MIN_DURATION:
            raise InvalidArgument(f"{field} in Healthcheck cannot be less than 1ms")
    if ((check or {}).get("Retries") or 0) < 0:
        raise InvalidArgument("Retries in Healthcheck cannot be negative")


def probe_command(check: dict[str, Any] | None) -> list[str] | None:
    """The probe's argv, or None when the container has no check (none set, or NONE)."""
    test = (check or {}).get("Test") or []
    if not test or test[0] == "NONE":
        return None
    if test[0] == "CMD-SHELL":
        return ["/bin/sh", "-c", " ".join(test[1:])]
    return list(test[1:]) if test[0] == "CMD" else list(test)


class HealthMonitor:
    """Runs the probes of every running container that has a health check."""

    def __init__(self, containers: ContainerService, execs: ExecService) -> None:
        self.containers = containers
        self.execs = execs
        self.tasks: dict[str, asyncio.Task[None]] = {}

    def watch(self, container: Container) -> None:
        """The container (re)started: its health is `starting` until a probe says otherwise."""
        self.forget(container.id)
        command = probe_command(container.config.get("Healthcheck"))
        if command is None:
            return
        health = container.state.health or {"Log": []}
        container.state.health = {"Status": "starting", "FailingStreak": 0, "Log": health.get("Log") or []}
        self.tasks[container.id] = asyncio.create_task(self._probe_forever(container, command))

    def forget(self, container_id: str) -> None:
        """The container stopped: no more probes; like dockerd, its last health reads `unhealthy`."""
        task = self.tasks.pop(container_id, None)
        if task is not None:
            task.cancel()
        container = self.containers.containers.get(container_id)
        if task is not None and container is not None and container.state.health:
            container.state.health["Status"] = "unhealthy"

    async def follow(self, events: Any) -> None:
        """Start and stop watching as containers start and stop (the daemon's event stream)."""
        async for event in events:
            container = self.containers.containers.get(event["id"])
            try:
                if event["Action"] == "start" and container is not None:
                    self.watch(container)
                elif event["Action"] in ("die", "destroy"):
                    self.forget(event["id"])
            except Exception:  # noqa: BLE001 - one container's trouble must not end every health check
                log.exception("health checks of %s", event["id"][:12])

    async def _probe_forever(self, container: Container, command: list[str]) -> None:
        check = container.config["Healthcheck"]
        interval = (check.get("Interval") or DEFAULT_INTERVAL) / 1e9
        started = time.monotonic()
        while True:
            await asyncio.sleep(interval)
            try:
                result = await self._probe(container, command, check.get("Timeout") or DEFAULT_TIMEOUT)
            except BerthError as error:  # the container is on its way out, or paused
                log.debug("health probe of %s not run: %s", container.id[:12], error)
                continue
            except OSError:
                log.exception("health probe of %s", container.id[:12])
                continue
            in_start_period = time.monotonic() - started < (check.get("StartPeriod") or 0) / 1e9
            self._record(container, result, check.get("Retries") or DEFAULT_RETRIES, in_start_period)

    async def _probe(self, container: Container, command: list[str], timeout_ns: int) -> dict[str, Any]:
        session = self.execs.create(container.id, {"Cmd": command, "AttachStdout": True, "AttachStderr": True})
        output = session.hub.subscribe()
        begun = rfc3339_nano()
        try:
            await self.execs.start(session.id)
        except StartFailed as error:  # the probe's program cannot run: a failure, as with dockerd
            session.hub.unsubscribe(output)
            self.execs.forget(session.id)
            return {"Start": begun, "End": rfc3339_nano(), "ExitCode": -1, "Output": str(error)}
        chunks: list[bytes] = []

        async def collect() -> None:
            while (item := await output.get()) is not None:
                chunks.append(item[1])

        try:
            await asyncio.wait_for(collect(), timeout_ns / 1e9)
            await session.done.wait()
            exit_code, text = session.exit_code or 0, b"".join(chunks).decode(errors="replace")
        except TimeoutError:
            if session.pid:
                try:
                    os.kill(session.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            exit_code, text = -1, f"Health check exceeded timeout ({format_go_duration(timeout_ns)})"
        finally:
            session.hub.unsubscribe(output)
            self.execs.forget(session.id)  # a probe leaves no exec behind, as with dockerd
        return {"Start": begun, "End": rfc3339_nano(), "ExitCode": exit_code, "Output": text[:OUTPUT_LIMIT]}

    def _record(self, container: Container, result: dict[str, Any], retries: int, in_start_period: bool) -> None:
        health = container.state.health
        if health is None:
            return
        health["Log"] = [*health["Log"], result][-LOG_ENTRIES:]
        before = health["Status"]
        if result["ExitCode"] == 0:
            health["Status"], health["FailingStreak"] = "healthy", 0
        elif not (in_start_period and before == "starting"):
            health["FailingStreak"] += 1
            if health["FailingStreak"] >= retries:
                health["Status"] = "unhealthy"
        if health["Status"] != before:
            self.containers.emit(container, f"health_status: {health['Status']}")
