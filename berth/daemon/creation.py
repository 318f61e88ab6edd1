"""What `docker create` makes of a request: a new container's record, checked as dockerd checks it
(image and platform, HostConfig, namespaces it shares, the config merged with the image's,
its command, runtime and mounts), not yet stored: the container service stores and announces it."""
from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from berth.daemon import links
from berth.daemon import rootfs as fs
from berth.daemon.apitypes import HostConfig
from berth.daemon.config import ConfigError, DaemonConfig
from berth.daemon.container import Container, check_endpoint_request, endpoint_settings
from berth.daemon.create_config import bind_mounts, merge_config, normalize_host_config, volume_requests
from berth.daemon.health import check_healthcheck
from berth.daemon.limits import default_swap, discard_unsupported
from berth.daemon.namespaces import joined_container, shared_with, spec_namespaces
from berth.daemon.networks import DEFAULT_NETWORK, PREDEFINED, NetworkService
from berth.daemon.records import ContainerRecords
from berth.daemon.volumes import VolumeService
from berth.errdefs import InvalidArgument, NotFound
from berth.image.config import matches_platform, platform_of
from berth.image.errors import ImageNotFound
from berth.image.service import ImageService
from berth.runtime.sysctl import check_sysctls
from berth.timestamps import rfc3339_nano


class NewContainers:
    def __init__(self, config: DaemonConfig, images: ImageService, networks: NetworkService,
                 records: ContainerRecords, volumes: VolumeService) -> None:
        self.config = config
        self.images = images
        self.networks = networks
        self.records = records
        self.volumes = volumes

    async def make(self, container_id: str, name: str, body: dict[str, Any],
                   platform: str | None = None) -> tuple[Container, list[str]]:
        """The new container's record (its id and name chosen, the name held by the records), and
        the warnings dockerd would give about its settings."""
        image_ref = body.get("Image") or ""
        if not image_ref:
            raise InvalidArgument("No image specified")
        try:
            image_id = await asyncio.to_thread(self.images.resolve, image_ref)
            image_document = await asyncio.to_thread(self.images.image_config, image_id)
        except ImageNotFound as exc:
            raise NotFound(str(exc)) from None
        if platform and not matches_platform(image_document, platform):
            raise NotFound(f"image with reference {image_ref} was found but does not match the specified platform: "
                           f"wanted {platform}, actual: {platform_of(image_document)}")
        image_config = image_document.get("config") or {}
        requested = dict(body.get("HostConfig") or {})
        logging = dict(requested.get("LogConfig") or {})
        logging["Type"] = logging.get("Type") or self.config.log_driver
        if not logging.get("Config") and logging["Type"] == self.config.log_driver:  # the daemon's log-opts
            logging["Config"] = dict(self.config.log_opts)
        requested["LogConfig"] = logging
        host_config = normalize_host_config(requested)
        warnings = discard_unsupported(host_config)
        default_swap(host_config)
        if host_config["NetworkMode"] == "host" and (host_config.get("PortBindings") or host_config.get("PublishAllPorts")):
            host_config["PortBindings"], host_config["PublishAllPorts"] = {}, False
            warnings.append("Published ports are discarded when using host network mode")
        self._check_sharing(host_config)
        if network_owner := joined_container(host_config["NetworkMode"]):
            if body.get("Hostname"):
                raise InvalidArgument("conflicting options: hostname and the network mode")
            host_config["NetworkMode"] = f"container:{self._existing(network_owner).id}"
        if host_config.get("Links") and host_config["NetworkMode"] in ("default", DEFAULT_NETWORK):
            host_config["Links"] = links.normalize(host_config["Links"], name, self.records.get)
        config = merge_config(body, image_config, container_id)
        check_healthcheck(config.get("Healthcheck"))
        if host_config["NetworkMode"] == "host" and not body.get("Hostname"):
            config["Hostname"] = fs.host_hostname()  # as Docker: the host's name, on the host's network
        command = (config.get("Entrypoint") or []) + (config.get("Cmd") or [])
        if not command:
            raise InvalidArgument("No command specified")
        runtime = host_config.get("Runtime") or self.config.default_runtime
        try:
            self.config.runtime(runtime)
        except ConfigError as exc:
            raise InvalidArgument(str(exc)) from None
        host_config["Runtime"] = runtime
        mounts, anonymous_volumes, fill_volumes = self._mounts_of_new(host_config, config)
        container = Container(
            id=container_id, name=name, created=rfc3339_nano(), image=image_ref, image_id=image_id,
            path=command[0], args=command[1:], config=config, host_config=host_config,
            runtime=runtime, mounts=mounts, anonymous_volumes=anonymous_volumes, fill_volumes=fill_volumes,
            networks={} if network_owner else self._networks_of_new(host_config, body.get("NetworkingConfig") or {}),
        )
        return container, warnings

    def _networks_of_new(self, host_config: HostConfig, networking: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
        """NetworkSettings.Networks of a new container: the network its NetworkMode names (by its name),
        with what NetworkingConfig asks of it (address, aliases) where dockerd allows it."""
        mode = host_config["NetworkMode"]
        try:
            name = self.networks.resolve(DEFAULT_NETWORK if mode == "default" else mode)
        except NotFound as error:  # 400, not 404: a 404 from create makes the docker CLI go and pull the image
            raise InvalidArgument(str(error)) from None
        if mode != "default":
            host_config["NetworkMode"] = name
        asked = dict(networking.get("EndpointsConfig") or {})
        requested = asked.pop(name, None) or asked.pop(mode, None) or {}
        if host_config.get("Links") and name not in PREDEFINED:  # on a user network a link is a name only it sees
            requested = {**requested, "Links": [*(requested.get("Links") or []), *host_config.pop("Links")]}
        if asked:
            raise InvalidArgument("Container cannot be connected to network endpoints: "
                                  + ", ".join(sorted(asked)))  # dockerd 20.10: one network at create
        check_endpoint_request(requested, user_defined=name not in PREDEFINED)
        return {name: endpoint_settings(self.networks.id_of(name), requested)}

    def _mounts_of_new(self, host_config: Mapping[str, Any], config: Mapping[str, Any]) -> tuple[
            list[dict[str, Any]], list[str], list[str]]:
        """A new container's binds and volumes (made now when missing), then those of the containers
        named by `--volumes-from NAME[:ro|rw]` (with the mode given, if one is), except where one of
        its own has the same destination; the names of its anonymous volumes, and of those to fill
        with the image's content at their first mount."""
        mounts = bind_mounts(host_config)
        anonymous, fill = [], []
        for request in volume_requests(host_config, config, {mount["Destination"] for mount in mounts}):
            volume = self.volumes.create({"Name": request.name, "DriverOpts": dict(request.options),
                                          "Labels": dict(request.labels)})
            if not request.name:
                anonymous.append(volume["Name"])
            if request.fill:
                fill.append(volume["Name"])
            mounts.append({"Type": "volume", "Name": volume["Name"], "Source": volume["Mountpoint"],
                           "Destination": request.destination, "Driver": volume["Driver"], "Mode": request.mode,
                           "RW": request.rw, "Propagation": ""})
        for entry in host_config.get("VolumesFrom") or []:
            ref, _, mode = entry.partition(":")
            if mode not in ("", "ro", "rw"):
                raise InvalidArgument(f"invalid mode: {mode}")
            source = self._existing(ref)
            taken = {mount["Destination"] for mount in mounts}
            mounts += [{**mount, "RW": mount["RW"] if not mode else mode == "rw"}
                       for mount in source.mounts if mount["Destination"] not in taken]
        return mounts, anonymous, fill

    def _existing(self, ref: str) -> Container:
        """A container another one names (to join or copy from): 400 if there is none, as dockerd."""
        try:
            return self.records.get(ref)
        except NotFound as error:
            raise InvalidArgument(str(error)) from None

    def _check_sharing(self, host_config: Mapping[str, Any]) -> None:
        """The containers whose namespaces a new one joins exist, and its sysctls are its own to set."""
        for _, ref in shared_with(host_config):
            self._existing(ref)
        try:  # which namespaces it will have is all that counts here, not where joined ones are
            namespaces = spec_namespaces(host_config, lambda kind, ref: 0,
                                         self.networks.sandbox(host_config.get("NetworkMode") or ""))
            check_sysctls(host_config.get("Sysctls") or {}, namespaces)
        except ValueError as error:
            raise InvalidArgument(str(error)) from None
