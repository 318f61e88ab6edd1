"""The container service: create, start, stop, kill, wait, remove, restart, update, attach, logs,
stats, live restore. It composes the records (berth.daemon.records), what a create makes
(berth.daemon.creation), the files of a start (berth.daemon.bundles), the runtime seam
(berth.daemon.tasks) and the restart policies (berth.daemon.restarts).

Every container's process is run by a monitor (berth.monitor) that outlives the daemon. The daemon
keeps a channel to each running container's monitor, fans its output out to attached clients, and
learns of its exit through it; after a restart it reconnects to the monitors that are still there.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import shutil
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from berth.daemon import ports, restarts
from berth.daemon import rootfs as fs
from berth.daemon import stats as container_stats
from berth.daemon.apitypes import HostConfig
from berth.daemon.bundles import Bundles
from berth.daemon.config import DaemonConfig, RuntimeEntry
from berth.daemon.container import ACTIVE, HAS_PROCESS, LEAVING, STOPPED, Container, Status
from berth.daemon.create_config import UPDATABLE_RESOURCES, restart_policy
from berth.daemon.creation import NewContainers
from berth.daemon.errors import NotRunning, StartFailed
from berth.daemon.events import EventBus
from berth.daemon.filters import ContainerFilter, prune_filter
from berth.daemon.limits import check_limits
from berth.daemon.logs import LogEntry, LogQuery, read_logs
from berth.daemon.networks import NetworkService
from berth.daemon.records import NAME_PATTERN, ContainerRecords
from berth.daemon.spec import SpecError, parse_signal, resources
from berth.daemon.streams import MonitorChannel, OutputHub, StdinFunnel, relay
from berth.daemon.tasks import Monitors, Task, TaskError
from berth.daemon.top import process_table
from berth.daemon.volumes import VolumeService
from berth.errdefs import BerthError, Conflict, InvalidArgument, NotFound, NotModified, Unimplemented
from berth.image.errors import ImageNotFound
from berth.image.service import ContainerUse, ImageService
from berth.linux.processes import exists as process_alive
from berth.monitor import client as monitor
from berth.runtime import cgroups
from berth.timestamps import ZERO_TIME, parse_seconds, rfc3339_nano

log = logging.getLogger("berth.containers")

DEFAULT_STOP_TIMEOUT = 10
KILL_WAIT = 10.0  # how long `kill` (SIGKILL) waits for the exit to be seen, as dockerd
STATS_INTERVAL = 1.0  # seconds between `docker stats` readings, as dockerd


@dataclass
class Live:
    """What the daemon keeps in memory beside a container's record."""

    hub: OutputHub = field(default_factory=OutputHub)
    stdin: StdinFunnel = field(default_factory=StdinFunnel)
    channel: MonitorChannel | None = None
    reader: asyncio.Task[None] | None = None
    restart_task: asyncio.Task[None] | None = None
    restart_delay: float | None = None  # the last wait before a restart
    exit_waiters: list[asyncio.Future[int]] = field(default_factory=list)
    removal: asyncio.Future[int] | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


@dataclass
class AttachHandle:
    """What an attach (or `run`) client gets: the output queue and where to send input."""

    container: Container
    output: asyncio.Queue[tuple[int, bytes] | None]
    stdin: StdinFunnel
    hub: OutputHub
    replay: AsyncIterator[tuple[int, bytes]] | None = None  # what it wrote before, first

    @property
    def tty(self) -> bool:
        return bool(self.container.config.get("Tty"))


class ContainerService:
    def __init__(self, config: DaemonConfig, images: ImageService, events: EventBus, networks: NetworkService,
                 monitors: Monitors, bundles: Callable[[ContainerRecords], Bundles] | None = None,
                 clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        """`bundles` makes the filesystem side (berth.daemon.bundles) for the records; `clock` and
        `sleep` time the restart back-off (tests give their own)."""
        self.config = config
        self.images = images
        self.networks = networks
        self.events = events
        self.monitors = monitors
        self.records = ContainerRecords(config.data_root)
        self.bundles = bundles(self.records) if bundles else Bundles(config, images, self.records, networks)
        self.volumes = VolumeService(config.data_root, self.users_of_volume)
        self.new_containers = NewContainers(config, images, networks, self.records, self.volumes)
        self.containers = self.records.by_id  # by id; read-only outside the service
        self.live: dict[str, Live] = {}
        self.clock = clock
        self.sleep = sleep

    # --- lookup ----------------------------------------------------------------------------
    def get(self, ref: str) -> Container:
        """By full id, name (with or without `/`), or unique id prefix, as Docker resolves them."""
        return self.records.get(ref)

    def directory(self, container: Container) -> Path:
        return self.bundles.directory(container)

    def state_dir(self, container: Container) -> Path:
        return self.bundles.state_dir(container)

    def cgroup(self, container: Container) -> str:
        return self.bundles.cgroup(container)

    def runtime_root(self, runtime: RuntimeEntry) -> Path:
        return self.bundles.runtime_root(runtime)

    def task(self, container: Container) -> Task:
        return self.bundles.task(container)

    def log_path(self, container: Container) -> Path:
        return self.bundles.log_path(container)

    def emit(self, container: Container, action: str, **extra: str) -> None:
        """Publish a container event with Docker's attributes (labels, image, name, extras)."""
        attributes = {**(container.config.get("Labels") or {}), "image": container.image,
                      "name": container.name, **extra}
        self.events.publish("container", action, container.id, attributes)

    def attached_to(self, network: str) -> list[dict[str, str]]:
        """The running containers on `network` (by name), as `network inspect` lists them."""
        return [{"Id": c.id, "Name": c.name} for c in self.containers.values()
                if c.state.status in HAS_PROCESS and network in c.networks]

    def users_of_volume(self, name: str) -> list[str]:
        """The ids of the containers that mount volume `name`."""
        return [c.id for c in self.containers.values() if any(m.get("Name") == name for m in c.mounts)]

    def users_of_image(self, image_id: str) -> list[ContainerUse]:
        """The containers made from an image, for the image service's removal rules."""
        return [ContainerUse(c.id, c.state.status in ACTIVE)
                for c in self.containers.values() if c.image_id == image_id]

    # --- create ----------------------------------------------------------------------------
    async def create(self, body: dict[str, Any], name: str | None,
                     platform: str | None = None) -> tuple[Container, list[str]]:
        """A new container, and the warnings dockerd would give about its settings."""
        container_id = secrets.token_hex(32)
        name = self.records.hold_new_name(name, container_id)
        try:
            container, warnings = await self.new_containers.make(container_id, name, body, platform)
            await self.bundles.create(container)
            await self.records.save(container)
        except BaseException:
            self.records.release_name(name, container_id)
            raise
        self.records.add(container)
        self.live[container.id] = Live()
        self.emit(container, "create")
        prime_cgroup_move()
        return container, warnings

    # --- start -----------------------------------------------------------------------------
    async def start(self, ref: str) -> None:
        container = self.get(ref)
        live = self.live[container.id]
        async with live.lock:
            if container.state.status in HAS_PROCESS:
                raise NotModified("container already started")
            if container.state.status in LEAVING:
                raise Conflict(f"cannot start a container marked for removal: {container.id}")
            container.manually_stopped = False
            try:
                await self._launch(container, live)
            except BerthError:
                if container.host_config.get("AutoRemove"):
                    await self._remove(container, live)  # as dockerd: `run --rm` waits for this
                raise

    async def _launch(self, container: Container, live: Live) -> None:
        prime_cgroup_move()  # again: the grace period a create started may be over by now
        try:
            await asyncio.to_thread(self._mount_volumes, container)
            request = await self.bundles.prepare(container)
        except InvalidArgument as exc:
            await self._record_failed_start(container, str(exc), 125)
            raise
        try:
            reply, channel = await self.monitors.spawn(request)
        except monitor.SpawnError as exc:
            await self.bundles.stop_dns(container)
            await asyncio.to_thread(self._release_resources, container)
            container.forget_endpoints()
            message = f"OCI runtime create failed: {exc.message}: unknown"
            await self._record_failed_start(container, message, exc.exit_code)
            raise StartFailed(message, exc.exit_code) from None
        state = container.state
        state.status, state.pid, state.monitor_pid = Status.RUNNING, reply["pid"], reply.get("monitor_pid", 0)
        state.exit_code, state.error, state.oom_killed = 0, "", False
        state.started_at, state.finished_at = rfc3339_nano(), ZERO_TIME
        container.has_been_started = True
        await self.records.save(container)
        self._attach_channel(container, live, channel)
        self.emit(container, "start")

    async def _record_failed_start(self, container: Container, message: str, exit_code: int) -> None:
        container.state.error = message
        container.state.exit_code = exit_code
        await self.records.save(container)

    def _attach_channel(self, container: Container, live: Live, channel: MonitorChannel) -> None:
        live.channel = channel
        live.reader = asyncio.create_task(self._pump(container, live, channel))

    async def _pump(self, container: Container, live: Live, channel: MonitorChannel) -> None:
        """Relay the monitor's frames until it reports the exit, then settle the container's fate."""
        exit_info = await relay(channel, live.hub, live.stdin)
        if exit_info is None:
            log.warning("lost the monitor of %s", container.id[:12])
            exit_info = await self._exit_without_frame(container)
        await self._on_exit(container, live, exit_info)

    async def _exit_without_frame(self, container: Container) -> dict[str, Any]:
        """The channel ended with no exit frame: the monitor died, or the machine 'rebooted'."""
        for _ in range(50):
            info = self.monitors.read_exit(self.state_dir(container))
            if info is not None:
                return info
            if not process_alive(container.state.monitor_pid):
                break
            await asyncio.sleep(0.02)
        if container.state.pid and process_alive(container.state.pid):
            await asyncio.to_thread(self.task(container).kill, signal.SIGKILL)
        return {"exit_code": 255, "finished_at": rfc3339_nano(), "oom_killed": False}

    async def _on_exit(self, container: Container, live: Live, info: dict[str, Any]) -> None:
        live.channel = None
        live.stdin.disconnect()
        live.hub.close()
        live.hub = OutputHub()
        # Released before the state says "exited": a start or restart that sees it may begin at once.
        await self.bundles.stop_dns(container)
        await asyncio.to_thread(self._release_resources, container)
        container.forget_endpoints()
        state = container.state
        ran_for = self.clock() - parse_seconds(state.started_at)
        state.status, state.pid, state.monitor_pid = Status.EXITED, 0, 0
        state.exit_code = int(info.get("exit_code", 255))
        state.finished_at = info.get("finished_at") or rfc3339_nano()
        state.oom_killed = bool(info.get("oom_killed"))
        if state.oom_killed:
            self.emit(container, "oom")
        self.emit(container, "die", exitCode=str(state.exit_code))
        if container.host_config.get("AutoRemove"):
            await self._save_settled(container)
            _wake(live.exit_waiters, state.exit_code)
            await self._remove(container, live)
            return
        if restarts.restarts_after_exit(container):
            live.restart_delay = restarts.next_delay(live.restart_delay, ran_for)
            state.status = Status.RESTARTING
            live.restart_task = asyncio.create_task(self._restart_later(container, live, live.restart_delay))
        await self._save_settled(container)
        _wake(live.exit_waiters, state.exit_code)  # after the save: a stop that returned is on disk

    async def _save_settled(self, container: Container) -> None:
        """Save the state a process's end settled. A disk that refuses it (full) is logged, not
        raised: the state holds in memory, and whoever waits for the exit must hear of it."""
        try:
            await self.records.save(container)
        except OSError as exc:
            log.error("could not record the exit of %s (its record on disk says it runs): %s", container.id[:12], exc)

    def _release_resources(self, container: Container) -> None:
        """The bundle's release after the process (berth.daemon.bundles); a failure is logged."""
        try:
            self.bundles.release(container)
        except (OSError, TaskError) as exc:
            log.warning("could not remove the cgroup of %s: %s", container.id[:12], exc)

    async def _restart_later(self, container: Container, live: Live, delay: float) -> None:
        await self.sleep(delay)
        async with live.lock:
            if container.state.status != Status.RESTARTING:
                return
            container.restart_count += 1
            try:
                await self._launch(container, live)
            except (BerthError, OSError) as exc:
                log.error("restarting %s failed: %s", container.id[:12], exc)
                container.state.status = Status.EXITED
                await self.records.save(container)

    # --- pause ---------------------------------------------------------------------------------
    async def pause(self, ref: str) -> None:
        container = self.get(ref)
        if container.state.status == Status.PAUSED:
            raise Conflict(f"Container {container.id} is already paused")
        if container.state.status != Status.RUNNING:
            raise NotRunning(f"Container {container.id} is not running")
        await asyncio.to_thread(self.task(container).pause)
        container.state.status = Status.PAUSED
        await self.records.save(container)
        self.emit(container, "pause")

    async def unpause(self, ref: str) -> None:
        container = self.get(ref)
        if container.state.status != Status.PAUSED:
            raise Conflict(f"Container {container.id} is not paused")
        await asyncio.to_thread(self.task(container).resume)
        container.state.status = Status.RUNNING
        await self.records.save(container)
        self.emit(container, "unpause")

    @asynccontextmanager
    async def frozen(self, ref: str) -> AsyncIterator[None]:
        """Keep a running container paused for the duration (as `commit` does); others as they are."""
        container = self.get(ref)
        if container.state.status != Status.RUNNING:
            yield
            return
        try:
            await self.pause(container.id)
        except (OSError, TaskError):
            if process_alive(container.state.pid):
                raise
            yield  # it ended before its exit was seen (its cgroup is gone): its layer changes no more
            return
        try:
            yield
        finally:
            await self.unpause(container.id)

    def _refuse_if_paused(self, container: Container) -> None:
        if container.state.status == Status.PAUSED:
            raise Conflict(f"Container {container.id} is paused. Unpause the container before stopping or killing")

    # --- signals, stop, wait ---------------------------------------------------------------
    async def kill(self, ref: str, signal_name: str | None) -> None:
        container = self.get(ref)
        self._refuse_if_paused(container)
        try:
            sig = parse_signal(signal_name or "SIGKILL")
        except SpecError as exc:
            raise InvalidArgument(str(exc)) from None
        if not 0 < sig <= signal.SIGRTMAX:
            raise InvalidArgument(f"Cannot kill container: {ref}: The linux daemon does not support signal {sig}")
        if container.state.status not in HAS_PROCESS or not container.state.pid:
            raise NotRunning(f"Cannot kill container: {ref}: Container {container.id} is not running")
        exited = None
        if sig == signal.SIGKILL:
            container.manually_stopped = True
            exited = self._exit_future(self.live[container.id])
        self.emit(container, "kill", signal=str(int(sig)))
        await asyncio.to_thread(self.task(container).kill, sig)
        if exited is not None:  # as dockerd: a SIGKILL's answer waits for the exit to be recorded
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(exited, KILL_WAIT)

    async def stop(self, ref: str, timeout: int | None) -> None:
        container = self.get(ref)
        live = self.live[container.id]
        if container.state.status == Status.RESTARTING:
            container.manually_stopped = True
            if live.restart_task is not None:
                live.restart_task.cancel()
            container.state.status = Status.EXITED
            await self.records.save(container)
            return
        if container.state.status not in HAS_PROCESS:
            raise NotModified("container already stopped")
        self._refuse_if_paused(container)
        container.manually_stopped = True
        await self._stop_process(container, live, timeout)
        self.emit(container, "stop")

    async def _stop_process(self, container: Container, live: Live, timeout: int | None) -> None:
        if timeout is None:
            timeout = container.config.get("StopTimeout")
        if timeout is None:
            timeout = DEFAULT_STOP_TIMEOUT
        exited = self._exit_future(live)
        stop_signal = parse_signal(container.config.get("StopSignal") or "SIGTERM")
        task = self.task(container)
        await asyncio.to_thread(task.kill, stop_signal)
        try:
            await asyncio.wait_for(asyncio.shield(exited), timeout=max(timeout, 0) if timeout >= 0 else None)
            return
        except TimeoutError:
            pass
        await asyncio.to_thread(task.kill, signal.SIGKILL)
        await exited

    def _exit_future(self, live: Live) -> asyncio.Future[int]:
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        live.exit_waiters.append(future)
        return future

    async def restart(self, ref: str, timeout: int | None) -> None:
        container = self.get(ref)
        live = self.live[container.id]
        if container.state.status in HAS_PROCESS:
            container.manually_stopped = True
            await self._stop_process(container, live, timeout)
        elif container.state.status == Status.RESTARTING and live.restart_task is not None:
            live.restart_task.cancel()
        async with live.lock:
            container.manually_stopped = False
            if container.state.status not in HAS_PROCESS:
                await self._launch(container, live)
        self.emit(container, "restart")

    async def wait(self, ref: str, condition: str) -> int:
        container = self.get(ref)
        live = self.live[container.id]
        if condition not in ("not-running", "next-exit", "removed", ""):
            raise InvalidArgument(f"invalid condition: {condition}")
        if condition == "removed":
            if live.removal is None:
                live.removal = asyncio.get_running_loop().create_future()
            return await asyncio.shield(live.removal)
        if condition in ("not-running", "") and container.state.status not in ACTIVE:
            return container.state.exit_code
        return await self._exit_future(live)

    # --- remove, rename --------------------------------------------------------------------
    async def remove(self, ref: str, force: bool, volumes: bool = False) -> None:
        """`docker rm`: with `volumes` (`-v`), its anonymous volumes go too."""
        container = self.get(ref)
        live = self.live[container.id]
        if container.state.status in ACTIVE:
            if not force:
                raise Conflict(f"You cannot remove a running container {container.id}. Stop the container "
                               f"before attempting removal or force remove")
            container.manually_stopped = True
            if container.state.status == Status.RESTARTING and live.restart_task is not None:
                live.restart_task.cancel()
            else:
                exited = self._exit_future(live)
                task = self.task(container)
                await asyncio.to_thread(task.kill, signal.SIGKILL)
                if container.state.status == Status.PAUSED:  # frozen processes die once thawed
                    await asyncio.to_thread(task.resume)
                await exited
        if container.id in self.containers:
            await self._remove(container, live, volumes)

    async def _remove(self, container: Container, live: Live, volumes: bool = True) -> None:
        """Remove the container; with `volumes`, its anonymous volumes that no other container uses
        (`rm -v`, and always for `--rm`, as dockerd)."""
        if container.state.status == Status.REMOVING:
            return
        container.state.status = Status.REMOVING
        await self.records.stop_writing(container.id)
        await asyncio.to_thread(self._delete_files, container)
        self.records.discard(container.id)
        self.live.pop(container.id, None)
        if volumes:
            await asyncio.to_thread(self._remove_anonymous_volumes, container)
        live.hub.close()  # a client still attached (to a stopped container) sees its stream end
        self.emit(container, "destroy")
        if live.removal is None:
            live.removal = asyncio.get_running_loop().create_future()
        if not live.removal.done():
            live.removal.set_result(container.state.exit_code)

    def _mount_volumes(self, container: Container) -> None:
        """Volumes backed by a file system of their own (type/device/o) have it mounted."""
        for mount in container.mounts:
            if mount.get("Type") == "volume":
                self.volumes.mount(mount["Name"], container.id)

    def _remove_anonymous_volumes(self, container: Container) -> None:
        for name in container.anonymous_volumes:
            with contextlib.suppress(NotFound, Conflict):  # gone already, or another container uses it
                self.volumes.remove(name)

    def _delete_files(self, container: Container) -> None:
        self._release_resources(container)
        self.bundles.delete(container)

    async def update(self, ref: str, body: dict[str, Any]) -> None:
        """`docker update`: a new restart policy and new limits, applied at once to a running container."""
        container = self.get(ref)
        # a 0 (or "") leaves the limit as it is, as dockerd reads an update; PidsLimit is a pointer
        # there, so any number it is given counts (0 or below: unlimited, stored as 0)
        changes = {key: body[key] for key in UPDATABLE_RESOURCES
                   if body.get(key) not in (None, "") and (body[key] != 0 or key == "PidsLimit")}
        if "PidsLimit" in changes:
            changes["PidsLimit"] = max(changes["PidsLimit"], 0)
        if body.get("RestartPolicy") and body["RestartPolicy"].get("Name"):
            if container.host_config.get("AutoRemove"):
                raise InvalidArgument("Restart policy cannot be updated because AutoRemove is enabled for the container")
            changes["RestartPolicy"] = restart_policy(body["RestartPolicy"])
        updated = {**container.host_config, **changes}
        swap = container.host_config.get("MemorySwap") or 0
        if "Memory" in changes and "MemorySwap" not in changes and 0 < swap < changes["Memory"]:
            raise InvalidArgument("Memory limit should be smaller than already set memoryswap limit, "
                                  "update the memoryswap at the same time")
        check_limits(updated, update=True)
        if container.state.status in HAS_PROCESS:
            try:
                await asyncio.to_thread(self.task(container).update, resources(updated))
            except (OSError, TaskError) as exc:
                reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
                raise InvalidArgument(f"Cannot update container {container.id}: {reason}") from None
        container.host_config = cast(HostConfig, updated)  # the record's own, with checked resources
        await self.records.save(container)
        self.emit(container, "update")

    async def rename(self, ref: str, new_name: str) -> None:
        container = self.get(ref)
        if not new_name or not NAME_PATTERN.match(new_name):
            raise InvalidArgument(f"Error when allocating new name: Invalid container name (/{new_name.lstrip('/')}),"
                                  " only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")
        new_name = new_name.lstrip("/")
        if new_name == container.name:
            raise InvalidArgument("Renaming a container with the same name as its current name")
        old_name = container.name
        try:
            self.records.rename(container, new_name)
        except Conflict as error:
            raise Conflict(f"Error when allocating new name: {error}") from None
        await self.records.save(container)
        self.emit(container, "rename", oldName="/" + old_name)

    async def remove_link(self, name: str) -> None:
        """`rm -l PARENT/ALIAS`: the parent's legacy link of that alias goes (the next start has no
        hosts line or variables for it). A container's own name is no link to remove."""
        parent_ref, _, alias = name.strip("/").rpartition("/")
        if not parent_ref:
            self.get(name)
            raise Conflict("Conflict, cannot remove the default link name of the container")
        parent = self.get(parent_ref)
        links = parent.host_config.get("Links") or []
        kept = [link for link in links if link.partition(":")[2] != f"/{parent.name}/{alias}"]
        if len(kept) == len(links):
            raise NotFound(f"No such container: {name}")
        parent.host_config["Links"] = kept
        await self.records.save(parent)

    # --- streams ---------------------------------------------------------------------------
    def attach(self, ref: str, replay: LogQuery | None = None) -> AttachHandle:
        """A client attaching: the output from now on, where its input goes, and with `replay` what
        the container wrote before (from its log), which the client gets first."""
        container = self.get(ref)
        live = self.live[container.id]
        earlier = None
        if replay is not None and container.keeps_logs:
            earlier = ((entry.stream, entry.data) async for entry in self.logs(container.id, replay, False)[1])
        return AttachHandle(container, live.hub.subscribe(), live.stdin, live.hub, earlier)

    def detach(self, handle: AttachHandle) -> None:
        handle.hub.unsubscribe(handle.output)

    async def resize(self, ref: str, height: int, width: int) -> None:
        container = self.get(ref)
        channel = self.live[container.id].channel
        if channel is None:
            raise NotRunning(f"Container {container.id} is not running")
        await channel.resize(height, width)

    def logs(self, ref: str, query: LogQuery, follow: bool) -> tuple[Container, AsyncIterator[LogEntry]]:
        container = self.get(ref)
        if not container.keeps_logs:
            raise Unimplemented("configured logging driver does not support reading")
        running = lambda: container.state.status in ACTIVE  # noqa: E731
        return container, read_logs(self.log_path(container), query, follow, running)

    # --- listing ---------------------------------------------------------------------------
    def list_containers(self, show_all: bool, filters: dict[str, Any], limit: int | None) -> list[dict[str, Any]]:
        containers = sorted(self.containers.values(), key=lambda c: c.created, reverse=True)
        if not show_all and not filters.get("status") and limit is None:
            containers = [c for c in containers if c.state.status in ACTIVE]
        wanted = ContainerFilter(filters, self._resolves_to, self.get)
        containers = [c for c in containers if wanted(c)]
        if limit is not None and limit > 0:
            containers = containers[:limit]
        return [c.to_summary(c.image if not c.image.startswith("sha256:") else c.image_id) for c in containers]

    async def prune(self, filters: dict[str, list[str]]) -> tuple[list[str], int]:
        """`container prune`: remove the stopped containers the filters select; returns their ids
        and the bytes their writable layers held."""
        wanted = prune_filter(filters)
        stopped = [c for c in self.containers.values() if c.state.status in STOPPED]
        deleted, reclaimed = [], 0
        for container in filter(wanted, stopped):
            size = await asyncio.to_thread(fs.directory_size, self.directory(container) / "diff")
            await self.remove(container.id, False)
            deleted.append(container.id)
            reclaimed += size
        return deleted, reclaimed

    async def summaries(self, show_all: bool, filters: dict[str, Any], limit: int | None,
                        size: bool = False) -> list[dict[str, Any]]:
        """`GET /containers/json`, with SizeRw and SizeRootFs when `size` is asked."""
        summaries = self.list_containers(show_all, filters, limit)
        if size:
            await asyncio.to_thread(self.sizes, summaries)
        return summaries

    def sizes(self, summaries: list[dict[str, Any]]) -> None:
        """Add SizeRw (the writable layer's bytes) and SizeRootFs to `GET /containers/json` entries.

        Blocking (walks the layers): call it from a worker thread."""
        image_sizes: dict[str, int] = {}
        for summary in summaries:
            container = self.containers.get(summary["Id"])
            if container is None:
                continue
            if container.image_id not in image_sizes:
                try:
                    image_sizes[container.image_id] = self.images.inspect(container.image_id).get("Size", 0)
                except ImageNotFound:
                    image_sizes[container.image_id] = 0
            size_rw = fs.directory_size(self.directory(container) / "diff")
            summary["SizeRw"], summary["SizeRootFs"] = size_rw, size_rw + image_sizes[container.image_id]

    def _resolves_to(self, reference: str) -> str | None:
        try:
            return self.images.resolve(reference)
        except ImageNotFound:
            return None

    async def mount_filesystem(self, ref: str) -> Path:
        """The container's merged filesystem, mounted until `release_filesystem` (for cp and export)."""
        return await self.bundles.mount_filesystem(self.get(ref))

    def binds(self, container: Container) -> list[tuple[str, str]]:
        return self.bundles.binds(container)

    def release_filesystem(self, container_id: str) -> None:
        if (container := self.containers.get(container_id)) is not None:
            self.bundles.release_filesystem(container)

    async def inspect(self, ref: str, exec_ids: list[str], size: bool = False) -> dict[str, Any]:
        """`docker inspect`; with `size`, as dockerd, the writable layer's bytes and the whole filesystem's."""
        container = self.get(ref)
        record = container.to_inspect(self.config.data_root, exec_ids, self.images.layer_dirs(container.image_id))
        if size:
            sized = [{"Id": container.id}]
            await asyncio.to_thread(self.sizes, sized)
            record = {**record, "SizeRw": sized[0].get("SizeRw", 0), "SizeRootFs": sized[0].get("SizeRootFs", 0)}
        return record

    async def top(self, ref: str, ps_args: str) -> dict[str, Any]:
        """`docker top`: the host's `ps ps_args` narrowed to the container's processes, as its runtime
        reports them."""
        container = self.get(ref)
        if container.state.status not in HAS_PROCESS:
            raise Conflict(f"Container {container.id} is not running")
        return await process_table(await asyncio.to_thread(self.task(container).pids), ps_args)

    def stats(self, ref: str, stream: bool, one_shot: bool) -> AsyncIterator[dict[str, Any]]:
        """`docker stats`: a reading a second while the container runs (or one, without `stream`)."""
        container = self.get(ref)

        async def read(previous: dict[str, Any] | None) -> dict[str, Any]:
            running = container.state.status in HAS_PROCESS
            usage = await asyncio.to_thread(self.task(container).stats) if running else None
            networks = container_stats.network_counters(container.state.pid) \
                if running and container.sandbox_key else None
            return container_stats.sample(container.name, container.id, usage, previous, networks)

        async def readings() -> AsyncIterator[dict[str, Any]]:
            previous = None
            if not stream and not one_shot:  # as dockerd: two readings a second apart, for CPU %
                previous = await read(None)
                await asyncio.sleep(STATS_INTERVAL)
            while True:
                previous = await read(previous)
                yield previous
                if not stream or container.state.status not in HAS_PROCESS:
                    return
                await asyncio.sleep(STATS_INTERVAL)

        return readings()

    # --- restore ---------------------------------------------------------------------------
    async def restore(self) -> None:
        """Load every record; reconnect to live monitors; settle containers that died meanwhile."""
        root = self.config.data_root / "containers"
        for directory in sorted(root.iterdir()):
            if not (directory / "config.json").exists():  # a removal or creation cut short
                await asyncio.to_thread(_remove_leftover, directory)
                continue
            try:
                container = Container.load(directory)
            except (ValueError, TypeError, KeyError) as exc:
                log.error("skipping unreadable container record %s: %s", directory.name, exc)
                continue
            self.records.add(container)
            self.live[container.id] = Live()
        await asyncio.to_thread(self.images.release_layers_of_others, set(self.containers))
        for container in list(self.containers.values()):
            await self._restore_one(container)
        running = [c.id for c in self.containers.values() if c.state.status in HAS_PROCESS]
        await asyncio.to_thread(self.networks.reconcile, running)  # what a daemon killed left behind
        published = [rule for c in self.containers.values() if c.state.status in HAS_PROCESS
                     for rule in ports.as_rules(c.published)]
        for rule in await asyncio.to_thread(self.networks.restore_published, published):
            log.warning("port %s/%s of %s was taken while the daemon was down: not published",
                        rule.host_port, rule.proto, rule.container_ip)
        for container in self.containers.values():
            if container.state.status in HAS_PROCESS:
                try:
                    await self.bundles.serve_dns(container)
                except OSError as error:
                    log.error("no embedded DNS for %s: %s", container.id[:12], error)

    async def _restore_one(self, container: Container) -> None:
        live = self.live[container.id]
        status = container.state.status
        if status in HAS_PROCESS:
            try:
                channel = await self.monitors.connect(self.state_dir(container))
            except OSError:
                info = self.monitors.read_exit(self.state_dir(container)) or \
                    {"exit_code": 255, "finished_at": rfc3339_nano(), "oom_killed": False}
                await self._on_exit(container, live, info)
            else:
                self._attach_channel(container, live, channel)
                if status == Status.RUNNING:  # a commit's pause that the daemon's end cut short
                    with contextlib.suppress(OSError):
                        await asyncio.to_thread(cgroups.set_frozen, self.cgroup(container), False)
            return
        await self._end_unrecorded_process(container, live)
        if status == Status.REMOVING or (status == Status.EXITED and container.host_config.get("AutoRemove")):
            await self._remove(container, live)  # a removal the daemon's end cut short
            return
        if restarts.restarts_with_daemon(container):
            async with live.lock:
                try:
                    await self._launch(container, live)
                except (BerthError, OSError) as exc:
                    log.error("could not restart %s: %s", container.id[:12], exc)

    async def _end_unrecorded_process(self, container: Container, live: Live) -> None:
        """A start the daemon's end cut short: the monitor started the process, the record never said
        so, and no client heard it started. Its process is ended (as dockerd ends a task its records
        do not know), so a later start cannot run a second copy beside it."""
        try:
            channel = await self.monitors.connect(self.state_dir(container))
        except OSError:
            return  # nothing runs: the usual case
        log.warning("ending the process of %s, whose start was never recorded", container.id[:12])
        try:
            pids = await asyncio.to_thread(cgroups.cgroup_pids, self.cgroup(container))
        except OSError:
            pids = []
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        await relay(channel, live.hub, live.stdin)  # until the monitor reports the exit

    async def shutdown(self) -> None:
        """Leave containers running (live restore): just stop listening to their monitors."""
        for live in self.live.values():
            for task in (live.reader, live.restart_task):
                if task is not None:
                    task.cancel()


def _remove_leftover(directory: Path) -> None:
    """Delete what a crash left of a container's directory, its file systems unmounted first (an
    rmtree through a mounted root would fail, or worse, reach the image's layers)."""
    fs.unmount_rootfs(directory)
    fs.unmount_shm(directory)
    shutil.rmtree(directory, ignore_errors=True)


def _wake(waiters: list[asyncio.Future[int]], exit_code: int) -> None:
    for waiter in waiters:
        if not waiter.done():
            waiter.set_result(exit_code)
    waiters.clear()


def prime_cgroup_move() -> None:
    """Start now, in a worker thread, the kernel's wait that the next move of a process into a
    container's cgroups needs (an RCU grace period, 5-15 ms): a start follows a create, and an exec
    start an exec create, so the wait overlaps the client's next request. A move soon after one
    shares its grace period; a move some 20 ms later waits for a new one, hence a second call as a
    container starts. A speed-up only."""
    asyncio.get_running_loop().run_in_executor(None, _prime_quietly)


def _prime_quietly() -> None:
    try:
        cgroups.prime_migration()
    except OSError:
        pass
