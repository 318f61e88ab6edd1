"""The daemon: wires the image store, the monitors' zygote, the services and the API together."""
from __future__ import annotations

import asyncio
import logging
import os
import signal
from pathlib import Path

from berth.daemon.config import DaemonConfig
from berth.daemon.containers import ContainerService
from berth.daemon.events import EventBus
from berth.daemon.execs import ExecService
from berth.daemon.health import HealthMonitor
from berth.daemon.networks import NetworkService
from berth.image.service import ImageService
from berth.monitor import client as monitor

log = logging.getLogger("berthd")


class Engine:
    def __init__(self, config: DaemonConfig) -> None:
        self.config = config
        config.data_root.mkdir(parents=True, exist_ok=True)
        config.exec_root.mkdir(parents=True, exist_ok=True)
        self.zygote_socket = config.exec_root / "zygote.sock"
        self.images = ImageService(config.data_root)
        self.events = EventBus()
        self.networks = NetworkService(config.data_root)
        self.containers = ContainerService(config, self.images, self.events, self.zygote_socket, self.networks)
        self.execs = ExecService(self.containers, self.zygote_socket)
        self.health = HealthMonitor(self.containers, self.execs)
        self.started_at = 0.0

    async def run(self) -> None:
        from berth.api.app import build_server

        zygote = await asyncio.to_thread(monitor.start_zygote, self.zygote_socket)
        starts_and_stops = self.events.stream(0, 0, {"type": ["container"], "event": ["start", "die", "destroy"]})
        health = asyncio.create_task(self.health.follow(starts_and_stops))
        await asyncio.sleep(0)  # subscribed before restore() starts anything
        await self.containers.restore()
        for container in self.containers.containers.values():
            if container.state.status in ("running", "paused"):  # still running from before: live restore
                self.health.watch(container)
        server = build_server(self)
        listeners = []
        for path in self.config.socket_paths:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            if os.path.exists(path):
                os.unlink(path)
            listeners.append(await server.serve_unix(path))
            os.chmod(path, 0o660)
            log.info("API listening on unix://%s", path)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        self.started_at = loop.time()
        log.info("berthd ready (data root %s)", self.config.data_root)
        await stop.wait()
        log.info("shutting down; containers keep running (live restore)")
        for listener in listeners:
            listener.close()
        health.cancel()
        await self.containers.shutdown()
        zygote.terminate()
