"""A container's record: what it was created with, its state, and where its files live.

The record is persisted as `containers/<id>/config.json` under the data root (written atomically), so
the daemon can restore every container after a restart or a crash.
"""
from __future__ import annotations

import ipaddress
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from berth.daemon import ports
from berth.daemon.apitypes import HostConfig
from berth.durations import human_duration
from berth.errdefs import InvalidArgument
from berth.timestamps import ZERO_TIME, parse_seconds

# Config fields dockerd leaves out of inspect when they are empty (`omitempty` in its types)
OMITTED_WHEN_EMPTY = frozenset({"ExposedPorts", "StopSignal", "StopTimeout", "Healthcheck", "ArgsEscaped",
                                "NetworkDisabled", "MacAddress", "Shell"})


def _empty(value: Any) -> bool:
    """Go's idea of an empty value for `omitempty` (0 is not empty here: StopTimeout is a pointer)."""
    return value is None or value is False or value == "" or (isinstance(value, (dict, list)) and not value)


class Status(StrEnum):
    """A container's state, as Docker names it (and as records store it)."""

    CREATED = "created"
    RUNNING = "running"
    PAUSED = "paused"
    RESTARTING = "restarting"
    REMOVING = "removing"
    EXITED = "exited"
    DEAD = "dead"


HAS_PROCESS = frozenset({Status.RUNNING, Status.PAUSED})  # its init is there (maybe frozen)
ACTIVE = HAS_PROCESS | {Status.RESTARTING}  # running as `ps`, `rm` and `logs -f` count it
STOPPED = frozenset({Status.CREATED, Status.EXITED, Status.DEAD})  # what `container prune` removes
LEAVING = frozenset({Status.REMOVING, Status.DEAD})  # on its way out: cannot start


@dataclass
class State:
    status: Status = Status.CREATED
    pid: int = 0
    exit_code: int = 0
    error: str = ""
    oom_killed: bool = False
    started_at: str = ZERO_TIME
    finished_at: str = ZERO_TIME
    monitor_pid: int = 0
    health: dict[str, Any] | None = None  # State.Health: Status, FailingStreak, Log (berth.daemon.health)

    def to_api(self) -> dict[str, Any]:
        return {
            "Status": self.status,
            "Running": self.status in HAS_PROCESS,
            "Paused": self.status == Status.PAUSED,
            "Restarting": self.status == Status.RESTARTING,
            "OOMKilled": self.oom_killed,
            "Dead": self.status == Status.DEAD,
            "Pid": self.pid,
            "ExitCode": self.exit_code,
            "Error": self.error,
            "StartedAt": self.started_at,
            "FinishedAt": self.finished_at,
            **({"Health": self.health} if self.health else {}),
        }

    def describe(self, now: float | None = None) -> str:
        """The human `STATUS` column: `Up 3 seconds`, `Exited (0) 2 minutes ago`, `Created`."""
        now = time.time() if now is None else now
        if self.status in HAS_PROCESS:
            text = "Up " + human_duration(now - parse_seconds(self.started_at))
            if self.status == Status.PAUSED:
                return text + " (Paused)"
            health = (self.health or {}).get("Status")
            return f"{text} (health: starting)" if health == "starting" else f"{text} ({health})" if health else text
        if self.status == Status.RESTARTING:
            return f"Restarting ({self.exit_code}) {human_duration(now - parse_seconds(self.finished_at))} ago"
        if self.status == Status.EXITED:
            return f"Exited ({self.exit_code}) {human_duration(now - parse_seconds(self.finished_at))} ago"
        if self.status == Status.REMOVING:
            return "Removal In Progress"
        if self.status == Status.DEAD:
            return "Dead"
        return "Created"


@dataclass
class Container:
    id: str
    name: str  # without the leading slash
    created: str
    image: str  # the image reference as the user gave it
    image_id: str
    path: str
    args: list[str]
    config: dict[str, Any]  # Engine API ContainerConfig, image defaults merged in
    host_config: HostConfig
    state: State = field(default_factory=State)
    restart_count: int = 0
    manually_stopped: bool = False
    has_been_started: bool = False
    runtime: str = "berth"
    mounts: list[dict[str, Any]] = field(default_factory=list)
    anonymous_volumes: list[str] = field(default_factory=list)  # made for it alone: `rm -v` removes them
    fill_volumes: list[str] = field(default_factory=list)  # to fill with the image's content at the first start
    # the networks it is on, by name: Engine API EndpointSettings, what was asked (IPAMConfig, Aliases,
    # NetworkID) and, while it runs, what it got (EndpointID, IPAddress, Gateway, MacAddress...)
    networks: dict[str, dict[str, Any]] = field(default_factory=dict)
    sandbox_id: str = ""  # while it runs on a wired network: its sandbox (berth.daemon.networks)
    sandbox_key: str = ""  # and the file of that sandbox's network namespace
    published: list[dict[str, Any]] = field(default_factory=list)  # while it runs: its ports' rules (daemon.ports)

    # --- files -----------------------------------------------------------------------------
    @staticmethod
    def directory(data_root: Path, container_id: str) -> Path:
        return data_root / "containers" / container_id

    @classmethod
    def load(cls, directory: Path) -> Container:
        record = json.loads((directory / "config.json").read_text())
        record["state"] = State(**{**record["state"], "status": Status(record["state"]["status"])})
        if "network_id" in record:  # written by a berth before networks: the one network of NetworkMode
            network_id = record.pop("network_id")
            record["networks"] = {record["host_config"]["NetworkMode"]: endpoint_settings(network_id)} \
                if network_id else {}
        return cls(**record)

    # --- API shapes ------------------------------------------------------------------------
    def to_inspect(self, data_root: Path, exec_ids: list[str], image_layer_dirs: list[Path]) -> dict[str, Any]:
        """docker inspect's view; `image_layer_dirs` are the image's unpacked layers, top first."""
        directory = self.directory(data_root, self.id)
        return {
            "Id": self.id,
            "Created": self.created,
            "Path": self.path,
            "Args": self.args,
            "State": self.state.to_api(),
            "Image": self.image_id,
            "ResolvConfPath": str(directory / "resolv.conf"),
            "HostnamePath": str(directory / "hostname"),
            "HostsPath": str(directory / "hosts"),
            "LogPath": str(directory / f"{self.id}-json.log") if self.keeps_logs else "",
            "Name": "/" + self.name,
            "RestartCount": self.restart_count,
            "Driver": "overlay2",
            "Platform": "linux",
            "MountLabel": "",
            "ProcessLabel": "",
            "AppArmorProfile": "",
            "ExecIDs": exec_ids or None,
            "HostConfig": self.host_config,
            "GraphDriver": {
                "Name": "overlay2",
                "Data": {
                    "LowerDir": ":".join(str(path) for path in [directory / "init", *image_layer_dirs]),
                    "MergedDir": str(directory / "rootfs"),
                    "UpperDir": str(directory / "diff"),
                    "WorkDir": str(directory / "work"),
                },
            },
            "Mounts": self.mounts,
            "Config": {key: value for key, value in self.config.items()
                       if key not in OMITTED_WHEN_EMPTY or not _empty(value)},
            "NetworkSettings": self.network_settings(),
        }

    @property
    def keeps_logs(self) -> bool:
        """Whether its output is kept, to read back (`logs`): not with the `none` log driver."""
        return (self.host_config.get("LogConfig") or {}).get("Type") != "none"

    def network_settings(self) -> dict[str, Any]:
        """NetworkSettings as dockerd shows it: the endpoint on each network, and at its top the one
        on the default bridge (Docker's older fields)."""
        default = self.networks.get("bridge") or {}
        return {
            "Bridge": "", "SandboxID": self.sandbox_id, "HairpinMode": False, "LinkLocalIPv6Address": "",
            "LinkLocalIPv6PrefixLen": 0, "SandboxKey": self.sandbox_key,
            "Ports": ports.settings(self.config, self.published, self.state.status in HAS_PROCESS),
            "SecondaryIPAddresses": None, "SecondaryIPv6Addresses": None,
            **{key: default.get(key, empty) for key, empty in _RUNTIME_FIELDS.items()},
            "Networks": self.networks,
        }

    def forget_endpoints(self) -> None:
        """The container stopped: its networks keep what was asked, not what it got."""
        self.sandbox_id = self.sandbox_key = ""
        self.published = []
        for settings in self.networks.values():
            settings.update(_RUNTIME_FIELDS)

    def to_summary(self, image_name: str) -> dict[str, Any]:
        """An entry of `GET /containers/json`."""
        # as dockerd: an argument with a space in it is shown in single quotes
        command = " ".join([self.path, *(f"'{arg}'" if " " in arg else arg for arg in self.args)]).strip()
        return {
            "Id": self.id,
            "Names": ["/" + self.name],
            "Image": image_name,
            "ImageID": self.image_id,
            "Command": command,
            "Created": int(parse_seconds(self.created)),
            "Ports": ports.summary(self.config, self.published, self.state.status in HAS_PROCESS),
            "Labels": self.config.get("Labels") or {},
            "State": self.state.status,
            "Status": self.state.describe(),
            "HostConfig": {"NetworkMode": self.host_config.get("NetworkMode") or "none"},
            "NetworkSettings": {"Networks": self.networks},
            "Mounts": self.mounts,
        }


# EndpointSettings a running container has, and their values when it does not run
_RUNTIME_FIELDS: dict[str, Any] = {
    "EndpointID": "", "Gateway": "", "IPAddress": "", "IPPrefixLen": 0, "IPv6Gateway": "",
    "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0, "MacAddress": "",
}


def check_endpoint_request(requested: Mapping[str, Any], user_defined: bool) -> None:
    """What a container may ask of its place on a network (at create or `network connect`), in
    dockerd's words: addresses of their family, and an address or aliases on user-defined networks only."""
    addresses = requested.get("IPAMConfig") or {}
    for version in (4, 6):
        address = addresses.get(f"IPv{version}Address")
        if address and not _is_address(address, version):
            raise InvalidArgument(f"invalid IPv{version} address: {address}")
    if (addresses.get("IPv4Address") or addresses.get("IPv6Address")) and not user_defined:
        raise InvalidArgument("user specified IP address is supported on user defined networks only")
    if requested.get("Aliases") and not user_defined:
        raise InvalidArgument("network-scoped alias is supported only for containers in user defined networks")


def _is_address(text: str, version: int) -> bool:
    try:
        return ipaddress.ip_address(text).version == version
    except ValueError:
        return False


def endpoint_got(endpoint: Mapping[str, Any]) -> dict[str, Any]:
    """The EndpointSettings a running container got from its endpoint (berth.daemon.networks' record)."""
    address, _, prefix = (endpoint.get("IPv4Address") or "").partition("/")
    address6, _, prefix6 = (endpoint.get("IPv6Address") or "").partition("/")
    return {"EndpointID": endpoint["Id"], "IPAddress": address, "IPPrefixLen": int(prefix or 0),
            "Gateway": endpoint.get("Gateway", ""), "MacAddress": endpoint.get("MacAddress", ""),
            "GlobalIPv6Address": address6, "GlobalIPv6PrefixLen": int(prefix6 or 0),
            "IPv6Gateway": endpoint.get("IPv6Gateway", "")}


def endpoint_settings(network_id: str, requested: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A network's entry of a new container's NetworkSettings.Networks: what the user asked (`requested`,
    from NetworkingConfig.EndpointsConfig) and the network's ID."""
    requested = requested or {}
    return {"IPAMConfig": requested.get("IPAMConfig") or None, "Links": requested.get("Links") or None,
            "Aliases": requested.get("Aliases") or None, "NetworkID": network_id, **_RUNTIME_FIELDS,
            "MacAddress": requested.get("MacAddress") or "", "DriverOpts": requested.get("DriverOpts") or None}
