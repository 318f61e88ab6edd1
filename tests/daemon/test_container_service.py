"""The container service in-process, with a fake runtime: no root, no kernel, no zygote.

A fake monitor stands in for berth.monitor (a container "runs" until the test or a signal ends it),
a fake bundle maker for the overlay and OCI bundle, and a fake image store for the images. What is
left is the daemon's own logic: restart policies and their back-off, waits, `--rm`, live restore.
"""
from __future__ import annotations

import asyncio
import json
import shutil
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from berth.daemon.bundles import Bundles
from berth.daemon.config import DaemonConfig
from berth.daemon.container import Container, Status
from berth.daemon.containers import ContainerService
from berth.daemon.events import EventBus
from berth.daemon.networks import NetworkService
from berth.daemon.records import ContainerRecords
from berth.monitor.frames import FrameType
from berth.monitor.request import RunRequest
from berth.timestamps import rfc3339_nano
from tests.waiting import eventually_async


class FakeChannel:
    """The daemon's end of a fake monitor: output and the exit come when the test says."""

    def __init__(self) -> None:
        self.frames: asyncio.Queue[tuple[int, bytes] | None] = asyncio.Queue()

    def exit(self, code: int) -> None:
        record = {"exit_code": code, "finished_at": rfc3339_nano(), "oom_killed": False}
        self.frames.put_nowait((FrameType.EXIT, json.dumps(record).encode()))

    def hang_up(self) -> None:
        self.frames.put_nowait(None)

    async def read_frame(self) -> tuple[int, bytes] | None:
        return await self.frames.get()

    async def send_stdin(self, data: bytes) -> None:
        pass

    async def close_stdin(self) -> None:
        pass

    async def resize(self, height: int, width: int) -> None:
        pass

    async def close(self) -> None:
        pass


class FakeMonitors:
    """Starts nothing: each start is a channel the test can end; exit records as a reboot left them."""

    def __init__(self) -> None:
        self.running: dict[str, FakeChannel] = {}  # container id -> its current process
        self.starts: list[str] = []
        self.exit_records: dict[str, dict[str, Any]] = {}
        self.still_running: set[str] = set()  # whose monitor a restarted daemon finds again

    async def spawn(self, request: Any) -> tuple[dict[str, Any], FakeChannel]:
        channel = self.running[request["id"]] = FakeChannel()
        self.starts.append(request["id"])
        return {"pid": 4000 + len(self.starts), "monitor_pid": 0}, channel

    async def connect(self, state_dir: Path) -> FakeChannel:
        if state_dir.name not in self.still_running:
            raise ConnectionRefusedError
        channel = self.running[state_dir.name] = FakeChannel()
        return channel

    def read_exit(self, state_dir: Path) -> dict[str, Any] | None:
        return self.exit_records.get(state_dir.name)


class FakeTask:
    """A process that dies of the first signal that would kill it, as a shell's `sleep` does."""

    def __init__(self, channel: FakeChannel | None) -> None:
        self.channel = channel

    def kill(self, sig: int) -> None:
        if self.channel is not None and sig in (signal.SIGTERM, signal.SIGKILL):
            self.channel.exit(128 + sig)

    def pause(self) -> None:
        pass

    def resume(self) -> None:
        pass

    def delete(self) -> None:
        pass


class FakeBundles(Bundles):
    """The container's directory and nothing mounted: the bundle is a request the fake monitor reads."""

    monitors: FakeMonitors

    async def create(self, container: Container) -> None:
        self.directory(container).mkdir(parents=True, exist_ok=True)

    async def prepare(self, container: Container) -> RunRequest:
        return {"op": "run", "id": container.id, "bundle": "", "state_dir": str(self.state_dir(container)),
                "tty": False, "stdin": False}

    def release(self, container: Container) -> None:
        pass

    def delete(self, container: Container) -> None:
        shutil.rmtree(self.directory(container), ignore_errors=True)

    def task(self, container: Container) -> Any:
        return FakeTask(self.monitors.running.get(container.id))


class FakeImages:
    def resolve(self, ref: str) -> str:
        return "sha256:" + "1" * 64

    def image_config(self, image_id: str) -> dict[str, Any]:
        return {"architecture": "amd64", "os": "linux", "config": {"Cmd": ["sleep", "1000"]}}

    def release_layers(self, container_id: str) -> None:
        pass

    def release_layers_of_others(self, container_ids: set[str]) -> None:
        pass


class Clock:
    """Wall time plus what the test adds, for how long a container 'ran'."""

    def __init__(self) -> None:
        self.skipped = 0.0

    def __call__(self) -> float:
        import time
        return time.time() + self.skipped


class Daemon:
    """One in-process daemon's container service, over fakes, on a temporary data root."""

    def __init__(self, root: Path, monitors: FakeMonitors | None = None) -> None:
        self.root = root
        self.monitors = monitors or FakeMonitors()
        self.clock = Clock()
        self.delays: list[float] = []
        self.events = EventBus()
        config = DaemonConfig(data_root=root / "data", exec_root=root / "run")
        networks = NetworkService(config.data_root)

        def bundles(records: ContainerRecords) -> Bundles:
            made = FakeBundles(config, FakeImages(), records, networks)  # type: ignore[arg-type]
            made.monitors = self.monitors
            return made

        async def no_wait(delay: float) -> None:
            self.delays.append(delay)

        self.service = ContainerService(config, FakeImages(), self.events, networks,  # type: ignore[arg-type]
                                        self.monitors, bundles, clock=self.clock, sleep=no_wait)

    async def run(self, restart: str = "no", auto_remove: bool = False, retries: int = 0) -> Container:
        body = {"Image": "busybox", "HostConfig": {"AutoRemove": auto_remove, "NetworkMode": "none",
                                                   "RestartPolicy": {"Name": restart, "MaximumRetryCount": retries}}}
        container, _ = await self.service.create(body, None)
        await self.service.start(container.id)
        return container

    def process_exits(self, container: Container, code: int) -> None:
        self.monitors.running[container.id].exit(code)


def in_a_daemon(test: Callable[[Daemon], Awaitable[None]]) -> Callable[[Path], None]:
    def run(tmp_path: Path) -> None:
        asyncio.run(asyncio.wait_for(test(Daemon(tmp_path)), 10))
    run.__name__ = test.__name__
    return run


def status_of(daemon: Daemon, container: Container) -> Status:
    return daemon.service.get(container.id).state.status


@in_a_daemon
async def test_always_restarts_with_the_wait_doubling_from_100ms(daemon: Daemon) -> None:
    container = await daemon.run(restart="always")
    for start in range(2, 6):
        daemon.process_exits(container, 1)
        await eventually_async(lambda start=start: len(daemon.monitors.starts) == start, "the container started again")
    assert daemon.delays == [0.1, 0.2, 0.4, 0.8]
    assert container.restart_count == 4 and status_of(daemon, container) == Status.RUNNING


@in_a_daemon
async def test_a_run_of_ten_seconds_resets_the_wait(daemon: Daemon) -> None:
    container = await daemon.run(restart="always")
    for start in (2, 3):
        daemon.process_exits(container, 1)
        await eventually_async(lambda start=start: len(daemon.monitors.starts) == start, "the container started again")
    daemon.clock.skipped = 11  # it ran for 11 s this time
    daemon.process_exits(container, 1)
    await eventually_async(lambda: len(daemon.monitors.starts) == 4, "the container started again")
    assert daemon.delays == [0.1, 0.2, 0.1]


@in_a_daemon
async def test_on_failure_gives_up_after_its_retries_and_ignores_success(daemon: Daemon) -> None:
    failing = await daemon.run(restart="on-failure", retries=2)
    for exits in (1, 2, 3):
        daemon.process_exits(failing, 3)
        await eventually_async(lambda exits=exits: len(daemon.monitors.starts) == exits + 1 or status_of(daemon, failing)
                               == Status.EXITED, f"exit {exits} handled")
    assert status_of(daemon, failing) == Status.EXITED and failing.restart_count == 2
    succeeding = await daemon.run(restart="on-failure")
    daemon.process_exits(succeeding, 0)
    assert await daemon.service.wait(succeeding.id, "not-running") == 0
    assert status_of(daemon, succeeding) == Status.EXITED


@in_a_daemon
async def test_stop_is_not_undone_by_the_restart_policy(daemon: Daemon) -> None:
    container = await daemon.run(restart="always")
    await daemon.service.stop(container.id, 5)
    assert status_of(daemon, container) == Status.EXITED and container.state.exit_code == 128 + signal.SIGTERM
    assert daemon.monitors.starts == [container.id] and container.manually_stopped


@in_a_daemon
async def test_wait_conditions(daemon: Daemon) -> None:
    container = await daemon.run()
    next_exit = asyncio.create_task(daemon.service.wait(container.id, "next-exit"))
    not_running = asyncio.create_task(daemon.service.wait(container.id, "not-running"))
    removed = asyncio.create_task(daemon.service.wait(container.id, "removed"))
    await asyncio.sleep(0)  # the waiters are waiting
    assert not (next_exit.done() or not_running.done())
    daemon.process_exits(container, 7)
    assert await next_exit == 7 and await not_running == 7
    assert await daemon.service.wait(container.id, "not-running") == 7  # already exited: at once
    assert not removed.done()
    await daemon.service.remove(container.id, force=False)
    assert await removed == 7


@in_a_daemon
async def test_rm_flag_removes_the_container_when_it_exits(daemon: Daemon) -> None:
    container = await daemon.run(auto_remove=True)
    directory = daemon.service.directory(container)
    removed = asyncio.create_task(daemon.service.wait(container.id, "removed"))
    daemon.process_exits(container, 0)
    assert await removed == 0
    assert container.id not in daemon.service.containers and not (directory / "config.json").exists()
    actions = [event["Action"] for event in daemon.events._history]
    assert actions == ["create", "start", "die", "destroy"]


def test_restore_after_a_daemon_restart(tmp_path: Path) -> None:
    """Records come back; a container whose monitor is still there is reattached; one that died
    meanwhile gets the exit its monitor recorded; an `always` one that was stopped starts again."""
    async def first_life() -> dict[str, str]:
        daemon = Daemon(tmp_path)
        alive, died = await daemon.run(), await daemon.run()
        always = await daemon.run(restart="always")
        await daemon.service.stop(always.id, 1)
        await daemon.service.shutdown()  # berthd goes; the containers' monitors do not
        return {"alive": alive.id, "died": died.id, "always": always.id}

    async def second_life(ids: dict[str, str]) -> None:
        monitors = FakeMonitors()
        monitors.still_running.add(ids["alive"])
        monitors.exit_records[ids["died"]] = {"exit_code": 3, "finished_at": rfc3339_nano(), "oom_killed": False}
        daemon = Daemon(tmp_path, monitors)
        await daemon.service.restore()
        get = daemon.service.get
        assert get(ids["alive"]).state.status == Status.RUNNING
        assert (get(ids["died"]).state.status, get(ids["died"]).state.exit_code) == (Status.EXITED, 3)
        assert get(ids["always"]).state.status == Status.RUNNING and monitors.starts == [ids["always"]]
        monitors.running[ids["alive"]].exit(0)  # the reattached channel reports the exit
        assert await daemon.service.wait(ids["alive"], "not-running") == 0

    ids = asyncio.run(first_life())
    asyncio.run(asyncio.wait_for(second_life(ids), 10))


@in_a_daemon
async def test_a_monitor_lost_without_an_exit_record_means_exit_255(daemon: Daemon) -> None:
    container = await daemon.run()
    daemon.monitors.running[container.id].hang_up()
    assert await daemon.service.wait(container.id, "not-running") == 255

