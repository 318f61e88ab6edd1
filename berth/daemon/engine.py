"""The daemon's services wired together: the image store, the monitors' zygote, containers, execs,
health checks, networks and events. Serving them over HTTP is `berth.daemon.main`'s job."""
from __future__ import annotations

import asyncio
import subprocess

from berth.daemon.builds import BuildService
from berth.daemon.config import DaemonConfig
from berth.daemon.connections import NetworkConnections
from berth.daemon.container import HAS_PROCESS
from berth.daemon.container_files import ContainerFiles
from berth.daemon.containers import ContainerService
from berth.daemon.events import EventBus
from berth.daemon.execs import ExecService
from berth.daemon.health import HealthMonitor
from berth.daemon.images import Images
from berth.daemon.networks import NetworkService
from berth.daemon.registries import Registries
from berth.daemon.system import SystemService
from berth.daemon.tasks import ZygoteMonitors
from berth.image.service import ImageService
from berth.monitor import client as monitor
from berth.network.bridge import BridgeDriver, routed_subnets
from berth.network.drivers import HostDriver, NullDriver
from berth.network.firewall import Firewall


class Engine:
    def __init__(self, config: DaemonConfig) -> None:
        self.config = config
        config.data_root.mkdir(parents=True, exist_ok=True)
        config.exec_root.mkdir(parents=True, exist_ok=True)
        self.zygote_socket = config.exec_root / "zygote.sock"
        self.image_store = ImageService(config.data_root)
        self.events = EventBus()
        self.networks = NetworkService(config.data_root, drivers=(NullDriver(), HostDriver(), BridgeDriver()),
                                       sandboxes_dir=config.exec_root / "netns", default_bridge=config.bridge,
                                       routed_subnets=routed_subnets, firewall=Firewall() if config.iptables else None,
                                       ip_forward=config.ip_forward, address_pools=config.address_pools)
        self.containers = ContainerService(config, self.image_store, self.events, self.networks,
                                           ZygoteMonitors(self.zygote_socket))
        rules_for = self.networks.firewall.rules_for if self.networks.firewall else lambda address: []
        self.connections = NetworkConnections(self.containers, self.networks, self.events, rules_for)
        self.images = Images(self.image_store, self.events, self.containers)
        self.registries = Registries(config, self.image_store, self.events)
        self.volumes = self.containers.volumes
        self.container_files = ContainerFiles(self.containers, self.image_store)
        self.builds = BuildService(config.data_root, self.containers, self.image_store, self.registries.pull_one)
        self.execs = ExecService(self.containers)
        self.health = HealthMonitor(self.containers, self.execs)
        self.system = SystemService(config, self.containers, self.image_store)
        self.started_at = 0.0
        self._zygote: subprocess.Popen[bytes] | None = None
        self._health_task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start the monitors' zygote and the health checks, and restore the containers of before."""
        self._zygote = await asyncio.to_thread(monitor.start_zygote, self.zygote_socket)
        await asyncio.to_thread(self.networks.setup)
        starts_and_stops = self.events.stream(0, 0, {"type": ["container"], "event": ["start", "die", "destroy"]})
        self._health_task = asyncio.create_task(self.health.follow(starts_and_stops))
        await asyncio.sleep(0)  # subscribed before restore() starts anything
        await self.containers.restore()
        for container in self.containers.containers.values():
            if container.state.status in HAS_PROCESS:  # still running from before: live restore
                self.health.watch(container)
        self.started_at = asyncio.get_running_loop().time()

    async def stop(self) -> None:
        """Stop the services; containers keep running (live restore)."""
        if self._health_task is not None:
            self._health_task.cancel()
        await self.containers.shutdown()
        if self._zygote is not None:
            self._zygote.terminate()
