"""`exec`: extra processes inside a running container, each run by a monitor of its own."""
from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from typing import Any

from berth.daemon.container import HAS_PROCESS, Status
from berth.daemon.containers import ContainerService, prime_cgroup_move
from berth.daemon.errors import NotRunning, StartFailed
from berth.daemon.spec import ALL_CAPABILITIES, SpecError, capability_sets, process_env, process_spec
from berth.daemon.streams import MonitorChannel, OutputHub, StdinFunnel, relay
from berth.daemon.users import UserError
from berth.errdefs import Conflict, InvalidArgument, NotFound
from berth.monitor import client as monitor
from berth.monitor.request import ExecRequest

EXEC_START_FAILED = 126  # dockerd's exit code for an exec whose process could not start
KEEP_ENDED_SECONDS = 300  # an ended exec stays inspectable this long, then is forgotten (as dockerd)


@dataclass
class ExecSession:
    id: str
    container_id: str
    config: dict[str, Any]
    running: bool = False
    exit_code: int | None = None
    pid: int = 0
    hub: OutputHub = field(default_factory=OutputHub)
    stdin: StdinFunnel = field(default_factory=StdinFunnel)
    channel: MonitorChannel | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)
    pending_size: tuple[int, int] | None = None  # a resize that came before the process started

    @property
    def tty(self) -> bool:
        return bool(self.config.get("Tty"))

    def to_api(self) -> dict[str, Any]:
        return {
            "ID": self.id,
            "Running": self.running,
            "ExitCode": self.exit_code,
            "ProcessConfig": {
                "tty": self.tty,
                "entrypoint": self.config["Cmd"][0],
                "arguments": self.config["Cmd"][1:],
                "privileged": bool(self.config.get("Privileged")),
                "user": self.config.get("User") or "",
            },
            "OpenStdin": bool(self.config.get("AttachStdin")),
            "OpenStderr": bool(self.config.get("AttachStderr")),
            "OpenStdout": bool(self.config.get("AttachStdout")),
            "CanRemove": False,
            "ContainerID": self.container_id,
            "DetachKeys": self.config.get("DetachKeys") or "",
            "Pid": self.pid,
        }


class ExecService:
    def __init__(self, containers: ContainerService) -> None:
        self.containers = containers
        self.sessions: dict[str, ExecSession] = {}

    def create(self, ref: str, config: dict[str, Any]) -> ExecSession:
        config = _canonical_keys(config)
        container = self.containers.get(ref)
        if container.state.status not in HAS_PROCESS:
            raise NotRunning(f"Container {container.id} is not running")
        if container.state.status == Status.PAUSED:
            raise Conflict(f"Container {container.id} is paused, unpause the container before exec")
        if not config.get("Cmd"):
            raise InvalidArgument("No exec command specified")
        session = ExecSession(secrets.token_hex(32), container.id, config)
        self.sessions[session.id] = session
        prime_cgroup_move()
        self.containers.emit(container, f"exec_create: {' '.join(config['Cmd'])}", execID=session.id)
        return session

    def get(self, exec_id: str) -> ExecSession:
        try:
            return self.sessions[exec_id]
        except KeyError:
            raise NotFound(f"No such exec instance: {exec_id}") from None

    def ids_for(self, container_id: str) -> list[str]:
        return [s.id for s in self.sessions.values() if s.container_id == container_id]

    def forget(self, exec_id: str) -> None:
        """Drop an exec's record (a health probe's at once; any other some minutes after it ends)."""
        self.sessions.pop(exec_id, None)

    async def start(self, exec_id: str) -> ExecSession:
        session = self.get(exec_id)
        await self.launch(session, self.prepare(session))
        return session

    def prepare(self, session: ExecSession) -> ExecRequest:
        """Check that the exec can start and build the monitor's request (errors before any hijack)."""
        exec_id = session.id
        if session.running or session.exit_code is not None:
            raise Conflict(f"Error: Exec command {exec_id} is already running")
        container = self.containers.get(session.container_id)
        if container.state.status != Status.RUNNING:
            self._fail(session)
            raise NotRunning(f"Container {container.id} is not running")
        config = session.config
        rootfs = self.containers.directory(container) / "rootfs"
        try:
            process = process_spec(
                container, rootfs, list(config["Cmd"]),
                user=config.get("User") or container.config.get("User") or "0",
                env=process_env(container.config, session.tty, config.get("Env")),
                cwd=config.get("WorkingDir") or container.config.get("WorkingDir") or "/",
                tty=session.tty,
            )
        except (UserError, SpecError) as exc:
            self._fail(session)
            raise InvalidArgument(str(exc)) from None
        if config.get("Privileged"):
            process["capabilities"] = capability_sets(ALL_CAPABILITIES)
        state_dir = self.containers.state_dir(container) / "exec" / session.id
        state_dir.mkdir(parents=True, exist_ok=True)
        runtime = self.containers.config.runtime(container.runtime)
        request: ExecRequest = {
            "op": "exec", "id": container.id, "exec_id": session.id, "init_pid": container.state.pid,
            "bundle": str(self.containers.state_dir(container)), "state_dir": str(state_dir),
            "process": process, "tty": session.tty, "stdin": bool(config.get("AttachStdin")),
            "runtime": runtime.path, "runtime_args": runtime.args,
            "runtime_root": str(self.containers.runtime_root(runtime)),
        }
        return request

    async def launch(self, session: ExecSession, request: ExecRequest) -> None:
        try:
            reply, channel = await self.containers.monitors.spawn(request)
        except monitor.SpawnError as exc:
            self._fail(session)
            raise StartFailed(f"OCI runtime exec failed: {exc.message}: unknown", exc.exit_code) from None
        session.running, session.pid, session.channel = True, reply["pid"], channel
        if session.pending_size is not None:
            await channel.resize(*session.pending_size)
        asyncio.create_task(self._pump(session, channel))
        self._emit(session, f"exec_start: {' '.join(session.config['Cmd'])}")

    @staticmethod
    def _fail(session: ExecSession) -> None:
        """The process will not start: the exec ends with dockerd's exit code for that."""
        session.exit_code = EXEC_START_FAILED
        session.done.set()

    async def _pump(self, session: ExecSession, channel: MonitorChannel) -> None:
        exit_info = await relay(channel, session.hub, session.stdin)
        exit_code = int(exit_info.get("exit_code", EXEC_START_FAILED)) if exit_info else EXEC_START_FAILED
        session.running, session.exit_code, session.channel = False, exit_code, None
        session.stdin.disconnect()
        session.hub.close()
        session.done.set()
        self._emit(session, "exec_die", exitCode=str(exit_code))
        asyncio.get_running_loop().call_later(KEEP_ENDED_SECONDS, self.forget, session.id)

    def _emit(self, session: ExecSession, action: str, **extra: str) -> None:
        container = self.containers.containers.get(session.container_id)
        if container is not None:
            self.containers.emit(container, action, execID=session.id, **extra)

    async def resize(self, exec_id: str, height: int, width: int) -> None:
        session = self.get(exec_id)
        if session.exit_code is not None:
            raise Conflict(f"Exec {exec_id} is not running")
        if session.channel is None:
            session.pending_size = (height, width)  # clients resize as soon as they hold the stream
        else:
            await session.channel.resize(height, width)


EXEC_CONFIG_KEYS = ("AttachStdin", "AttachStdout", "AttachStderr", "ConsoleSize", "DetachKeys", "Tty", "Env", "Cmd",
                    "Privileged", "User", "WorkingDir")


def _canonical_keys(config: dict[str, Any]) -> dict[str, Any]:
    """ExecConfig with its keys as dockerd reads them: Go matches JSON names without regard to case
    (docker-py sends `detachKeys`)."""
    names = {key.lower(): key for key in EXEC_CONFIG_KEYS}
    return {names.get(key.lower(), key): value for key, value in config.items()}
