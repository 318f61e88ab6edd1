"""A container's connections to networks: `network connect` and `network disconnect` (its networks
changed after its creation), and `berth network explain` (its wiring, read back from the kernel).

A stopped container's record gains or loses the network, joined at its next start; a running one's
sandbox gains or loses the endpoint at once (berth.daemon.networks). Each change is published as
dockerd's network event.
"""
from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from berth.daemon.container import HAS_PROCESS, Container, check_endpoint_request, endpoint_got, endpoint_settings
from berth.daemon.containers import ContainerService
from berth.daemon.events import EventBus
from berth.daemon.explain import RulesFor, explain
from berth.daemon.namespaces import joined_container
from berth.daemon.networks import PREDEFINED, NetworkService
from berth.errdefs import Forbidden
from berth.network.drivers import Sandbox


class NetworkConnections:
    def __init__(self, containers: ContainerService, networks: NetworkService, events: EventBus,
                 rules_for: RulesFor) -> None:
        self.containers = containers
        self.networks = networks
        self.events = events
        self.rules_for = rules_for

    async def explain(self, container_ref: str) -> dict[str, Any]:
        container = self.containers.get(container_ref)
        owner = joined_container(container.host_config.get("NetworkMode") or "")
        files = self.containers.bundles.directory(self.containers.get(owner) if owner else container)
        return await asyncio.to_thread(explain, container, self.networks, files / "resolv.conf", self.rules_for)

    async def connect(self, network_ref: str, container_ref: str, request: Mapping[str, Any]) -> None:
        network = self.networks.resolve(network_ref)
        container = self.containers.get(container_ref)
        async with self.containers.live[container.id].lock:
            self._check_connect(container, network, request)
            settings = endpoint_settings(self.networks.id_of(network), request)
            resolved_names = self.containers.bundles.resolves_names(container)
            if container.state.status in HAS_PROCESS:
                endpoint = await asyncio.to_thread(self.networks.connect, container.id, network, settings)
                settings.update(endpoint_got(endpoint))
            container.networks[network] = settings
            if container.state.status in HAS_PROCESS and not resolved_names \
                    and self.containers.bundles.resolves_names(container):
                await self.containers.bundles.resolve_names_now(container)
            await self.containers.records.save(container)
        self._publish("connect", network, container)

    def _check_connect(self, container: Container, network: str, request: Mapping[str, Any]) -> None:
        mode = container.host_config.get("NetworkMode") or ""
        if mode == "host" or network == "host":
            raise Forbidden("container cannot be disconnected from host network or connected to host network")
        if mode == "none" or network == "none" or joined_container(mode):
            raise Forbidden("container cannot be connected to multiple networks with one of the networks in "
                            "private (none) mode")
        if network in container.networks:
            raise Forbidden(f"endpoint with name {container.name} already exists in network {network}")
        check_endpoint_request(request, user_defined=network not in PREDEFINED)
        if self.networks.sandbox(network) is not Sandbox.PREPARED:
            raise Forbidden(f"network {network} cannot be connected to")

    async def disconnect(self, network_ref: str, container_ref: str) -> None:
        network = self.networks.resolve(network_ref)
        container = self.containers.get(container_ref)
        async with self.containers.live[container.id].lock:
            if network not in container.networks:
                raise Forbidden(f"container {container.id} is not connected to network {network}")
            if network == "host":
                raise Forbidden("container cannot be disconnected from host network or connected to host network")
            if container.state.status in HAS_PROCESS:
                await asyncio.to_thread(self.networks.disconnect, container.id, network)
            del container.networks[network]
            await self.containers.records.save(container)
        self._publish("disconnect", network, container)

    def _publish(self, action: str, network: str, container: Container) -> None:
        self.events.publish("network", action, self.networks.id_of(network),
                            {"container": container.id, "name": network, "type": "bridge"})
