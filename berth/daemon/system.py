"""What the daemon tells of itself and its host: `/version`, `/info` and `system df`."""
from __future__ import annotations

import asyncio
import ipaddress
import os
import platform
import socket
from pathlib import Path
from typing import Any

import berth
from berth.daemon.config import DaemonConfig
from berth.daemon.container import HAS_PROCESS, Status
from berth.daemon.containers import ContainerService
from berth.image.service import ImageService
from berth.runtime.cgroups import hierarchies
from berth.timestamps import rfc3339_nano


def version() -> dict[str, Any]:
    """`GET /version`."""
    engine_component = {
        "Name": "Engine", "Version": berth.__version__,
        "Details": {"ApiVersion": berth.API_VERSION, "MinAPIVersion": berth.MIN_API_VERSION,
                    "Os": "linux", "Arch": "amd64", "KernelVersion": _kernel(),
                    "GitCommit": "", "GoVersion": f"python{platform.python_version()}",
                    "BuildTime": "", "Experimental": "false"},
    }
    return {
        "Platform": {"Name": "berth"},
        "Components": [engine_component],
        "Version": berth.__version__, "ApiVersion": berth.API_VERSION,
        "MinAPIVersion": berth.MIN_API_VERSION, "GitCommit": "",
        "GoVersion": f"python{platform.python_version()}", "Os": "linux", "Arch": "amd64",
        "KernelVersion": _kernel(), "BuildTime": "",
    }


async def info(config: DaemonConfig, containers: ContainerService, images: ImageService) -> dict[str, Any]:
    """`GET /info`: counts of containers and images, the host's facts, and the daemon's settings."""
    states = [c.state.status for c in containers.containers.values()]
    image_list = await asyncio.to_thread(images.list_images, True)
    return {
        "ID": "", "Containers": len(states),
        "ContainersRunning": sum(s == Status.RUNNING for s in states),
        "ContainersPaused": sum(s == Status.PAUSED for s in states),
        "ContainersStopped": sum(s not in HAS_PROCESS for s in states),
        "Images": len(image_list), "Driver": "overlay2",
        "DriverStatus": [["Backing Filesystem", _filesystem_of(config.data_root)], ["Supports d_type", "true"]],
        "DockerRootDir": str(config.data_root),
        "Plugins": {"Volume": ["local"], "Network": ["host", "none"], "Authorization": None, "Log": ["json-file"]},
        "MemoryLimit": True, "SwapLimit": True, "KernelMemory": _memory_cgroup_has("memory.kmem.limit_in_bytes"),
        "KernelMemoryTCP": _memory_cgroup_has("memory.kmem.tcp.limit_in_bytes"), "CpuCfsPeriod": True,
        "CpuCfsQuota": True, "CPUShares": True, "CPUSet": True, "PidsLimit": True, "IPv4Forwarding": True,
        "BridgeNfIptables": _sysctl_on("net/bridge/bridge-nf-call-iptables"),
        "BridgeNfIp6tables": _sysctl_on("net/bridge/bridge-nf-call-ip6tables"),
        "Debug": config.debug, "NFd": len(os.listdir("/proc/self/fd")),
        "OomKillDisable": _memory_cgroup_has("memory.oom_control"), "NGoroutines": len(asyncio.all_tasks()),
        "SystemTime": rfc3339_nano(), "LoggingDriver": "json-file",
        "CgroupDriver": "cgroupfs", "CgroupVersion": _cgroup_version(), "NEventsListener": 0,
        "KernelVersion": _kernel(), "OperatingSystem": _os_name(), "OSVersion": "",
        "OSType": "linux", "Architecture": platform.machine(), "IndexServerAddress": "https://index.docker.io/v1/",
        "RegistryConfig": _registry_config(config),
        "NCPU": os.cpu_count(), "MemTotal": _mem_total(), "GenericResources": None,
        "HttpProxy": "", "HttpsProxy": "", "NoProxy": "", "Name": socket.gethostname(), "Labels": [],
        "ExperimentalBuild": False, "ServerVersion": berth.__version__,
        "Runtimes": {name: {"path": entry.path or "berth-runtime"} for name, entry in config.runtimes.items()},
        "DefaultRuntime": config.default_runtime,
        "Swarm": {"NodeID": "", "NodeAddr": "", "LocalNodeState": "inactive", "ControlAvailable": False,
                  "Error": "", "RemoteManagers": None},
        "LiveRestoreEnabled": config.live_restore, "Isolation": "", "InitBinary": "docker-init",
        "ContainerdCommit": {"ID": "", "Expected": ""}, "RuncCommit": {"ID": "", "Expected": ""},
        "InitCommit": {"ID": "", "Expected": ""},
        "SecurityOptions": [f"name=seccomp,profile={_seccomp_profile_name(config)}"],
        "Warnings": None,
    }


async def disk_usage(containers: ContainerService, images: ImageService) -> dict[str, Any]:
    """`GET /system/df`: images, containers (with sizes), volumes and build cache."""
    usage = await asyncio.to_thread(images.disk_usage, containers.users_of_image)
    summaries = await containers.summaries(True, {}, None, size=True)
    volumes = await asyncio.to_thread(containers.volumes.usage)
    return {**usage, "Containers": summaries, "Volumes": volumes, "BuildCache": [], "BuilderSize": 0}


class SystemService:
    """The daemon's account of itself (`/version`, `/info`, `system df`) over the services it reads."""

    def __init__(self, config: DaemonConfig, containers: ContainerService, images: ImageService) -> None:
        self.config = config
        self.containers = containers
        self.images = images

    def version(self) -> dict[str, Any]:
        return version()

    async def info(self) -> dict[str, Any]:
        return await info(self.config, self.containers, self.images)

    async def disk_usage(self) -> dict[str, Any]:
        return await disk_usage(self.containers, self.images)


def _kernel() -> str:
    return platform.release()


def _cgroup_version() -> str:
    return "2" if os.path.exists("/sys/fs/cgroup/cgroup.controllers") else "1"


def _memory_cgroup_has(name: str) -> bool:
    """Whether the host's (v1) memory controller offers `name` (kernel memory limits, OOM control)."""
    mount = hierarchies().v1.get("memory")
    return mount is not None and os.path.exists(os.path.join(mount, name))


def _sysctl_on(path: str) -> bool:
    try:
        return Path("/proc/sys", path).read_text().strip() == "1"
    except OSError:
        return False


def _seccomp_profile_name(config: DaemonConfig) -> str:
    """How /info names the containers' default seccomp profile, as dockerd does."""
    return "default" if config.seccomp_profile in ("", "builtin") else config.seccomp_profile


def _filesystem_of(path: Path) -> str:
    """The type of the filesystem holding `path` (the longest mount point above it)."""
    best, kind = "", "unknown"
    target = str(path.resolve())
    with open("/proc/self/mounts") as mounts:
        for line in mounts:
            _source, mount_point, fstype = line.split()[:3]
            inside = target == mount_point or target.startswith(mount_point.rstrip("/") + "/")
            if inside and len(mount_point) >= len(best):
                best, kind = mount_point, fstype
    return kind


def _os_name() -> str:
    try:
        for line in open("/etc/os-release"):
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return "Linux"


def _mem_total() -> int:
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    return 0


def _registry_config(config: DaemonConfig) -> dict[str, Any]:
    """/info's RegistryConfig: the insecure registries (CIDRs, and names as index configs) and mirrors."""
    cidrs, names = ["127.0.0.0/8"], []
    for entry in config.insecure_registries:
        try:
            cidrs.append(str(ipaddress.ip_network(entry, strict=False)))
        except ValueError:
            names.append(entry)
    indexes = {"docker.io": {"Name": "docker.io", "Mirrors": list(config.registry_mirrors), "Secure": True,
                             "Official": True}}
    indexes.update({name: {"Name": name, "Mirrors": [], "Secure": False, "Official": False} for name in names})
    return {"AllowNondistributableArtifactsCIDRs": [], "AllowNondistributableArtifactsHostnames": [],
            "InsecureRegistryCIDRs": cidrs, "IndexConfigs": indexes, "Mirrors": list(config.registry_mirrors)}
