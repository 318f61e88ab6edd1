"""Engine API v1.41 shapes the daemon keeps (api/swagger.yaml): a container's HostConfig. Every field
is optional, as a client may send any of them; the daemon fills in what dockerd fills in at create."""
# No `from __future__ import annotations`: TypedDict reads its fields at class creation.
from typing import Any, TypedDict


class RestartPolicy(TypedDict, total=False):
    Name: str  # "", "no", "always", "unless-stopped", "on-failure"
    MaximumRetryCount: int


class LogConfig(TypedDict, total=False):
    Type: str
    Config: dict[str, str]


class HostConfig(TypedDict, total=False):
    # Resources
    CpuShares: int
    Memory: int
    CgroupParent: str
    BlkioWeight: int
    BlkioWeightDevice: list[dict[str, Any]] | None
    BlkioDeviceReadBps: list[dict[str, Any]]
    BlkioDeviceWriteBps: list[dict[str, Any]]
    BlkioDeviceReadIOps: list[dict[str, Any]]
    BlkioDeviceWriteIOps: list[dict[str, Any]]
    CpuPeriod: int
    CpuQuota: int
    CpuRealtimePeriod: int
    CpuRealtimeRuntime: int
    CpusetCpus: str
    CpusetMems: str
    Devices: list[dict[str, Any]]
    DeviceCgroupRules: list[str]
    DeviceRequests: list[dict[str, Any]]
    KernelMemory: int
    KernelMemoryTCP: int
    MemoryReservation: int
    MemorySwap: int
    MemorySwappiness: int | None
    NanoCpus: int
    OomKillDisable: bool
    Init: bool | None
    PidsLimit: int | None
    Ulimits: list[dict[str, Any]]
    CpuCount: int
    CpuPercent: int
    IOMaximumIOps: int
    IOMaximumBandwidth: int
    # the rest of HostConfig
    Binds: list[str]
    ContainerIDFile: str
    LogConfig: LogConfig
    NetworkMode: str
    PortBindings: dict[str, Any]
    RestartPolicy: RestartPolicy
    AutoRemove: bool
    VolumeDriver: str
    VolumesFrom: list[str]
    Mounts: list[dict[str, Any]]
    CapAdd: list[str] | None
    CapDrop: list[str] | None
    CgroupnsMode: str
    Dns: list[str]
    DnsOptions: list[str]
    DnsSearch: list[str]
    ExtraHosts: list[str]
    GroupAdd: list[str]
    IpcMode: str
    Cgroup: str
    Links: list[str]
    OomScoreAdj: int
    PidMode: str
    Privileged: bool
    PublishAllPorts: bool
    ReadonlyRootfs: bool
    SecurityOpt: list[str]
    StorageOpt: dict[str, str]
    Tmpfs: dict[str, str]
    UTSMode: str
    UsernsMode: str
    ShmSize: int
    Sysctls: dict[str, str]
    Runtime: str
    ConsoleSize: list[int]
    Isolation: str
    MaskedPaths: list[str] | None
    ReadonlyPaths: list[str] | None
