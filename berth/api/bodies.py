"""The Go types of the Engine API's JSON request bodies (v1.41, as dockerd 20.10 declares them in
api/types), for berth.api.gojson. Each struct lists its JSON field names; a struct embedded in
another (Resources in HostConfig, Config in the create body) adds its fields to the outer one, as
Go promotes them. tests/api/test_bodies.py holds them against the Engine API's swagger spec."""
from __future__ import annotations

from berth.api.gojson import Bool, EmptyStruct, GoType, Integer, Map, Slice, String, StrSlice, Struct

STRING, BOOL = String(), Bool()
INT, INT64, UINT16, UINT64, UINT = Integer("int", 64), Integer("int64", 64), Integer("uint16", 16, False), \
    Integer("uint64", 64, False), Integer("uint", 64, False)
DURATION = Integer("time.Duration", 64)
FILE_MODE = Integer("os.FileMode", 32, False)
STRINGS = Slice(STRING)
STRING_MAP = Map(STRING)
SET = Map(EmptyStruct())  # a set of names: {"80/tcp": {}}


def _struct(name: str, *parts: dict[str, GoType]) -> Struct:
    return Struct(name, {field: kind for part in parts for field, kind in part.items()})


HEALTH_CONFIG = _struct("container.HealthConfig", {
    "Test": STRINGS, "Interval": DURATION, "Timeout": DURATION, "StartPeriod": DURATION, "Retries": INT})

CONFIG_FIELDS: dict[str, GoType] = {
    "Hostname": STRING, "Domainname": STRING, "User": STRING, "AttachStdin": BOOL, "AttachStdout": BOOL,
    "AttachStderr": BOOL, "ExposedPorts": Map(EmptyStruct(), "nat.PortSet"), "Tty": BOOL, "OpenStdin": BOOL,
    "StdinOnce": BOOL, "Env": STRINGS, "Cmd": StrSlice(), "Healthcheck": HEALTH_CONFIG, "ArgsEscaped": BOOL,
    "Image": STRING, "Volumes": SET, "WorkingDir": STRING, "Entrypoint": StrSlice(), "NetworkDisabled": BOOL,
    "MacAddress": STRING, "OnBuild": STRINGS, "Labels": STRING_MAP, "StopSignal": STRING, "StopTimeout": INT,
    "Shell": StrSlice(),
}
RESTART_POLICY = _struct("container.RestartPolicy", {"Name": STRING, "MaximumRetryCount": INT})
_THROTTLE_DEVICES = Slice(_struct("blkiodev.ThrottleDevice", {"Path": STRING, "Rate": UINT64}))

RESOURCES_FIELDS: dict[str, GoType] = {
    "CpuShares": INT64, "Memory": INT64, "NanoCpus": INT64, "CgroupParent": STRING, "BlkioWeight": UINT16,
    "BlkioWeightDevice": Slice(_struct("blkiodev.WeightDevice", {"Path": STRING, "Weight": UINT16})),
    "BlkioDeviceReadBps": _THROTTLE_DEVICES, "BlkioDeviceWriteBps": _THROTTLE_DEVICES,
    "BlkioDeviceReadIOps": _THROTTLE_DEVICES, "BlkioDeviceWriteIOps": _THROTTLE_DEVICES,
    "CpuPeriod": INT64, "CpuQuota": INT64, "CpuRealtimePeriod": INT64, "CpuRealtimeRuntime": INT64,
    "CpusetCpus": STRING, "CpusetMems": STRING,
    "Devices": Slice(_struct("container.DeviceMapping", {
        "PathOnHost": STRING, "PathInContainer": STRING, "CgroupPermissions": STRING})),
    "DeviceCgroupRules": STRINGS,
    "DeviceRequests": Slice(_struct("container.DeviceRequest", {
        "Driver": STRING, "Count": INT, "DeviceIDs": STRINGS, "Capabilities": Slice(STRINGS),
        "Options": STRING_MAP})),
    "KernelMemory": INT64, "KernelMemoryTCP": INT64, "MemoryReservation": INT64, "MemorySwap": INT64,
    "MemorySwappiness": INT64, "OomKillDisable": BOOL, "PidsLimit": INT64,
    "Ulimits": Slice(_struct("units.Ulimit", {"Name": STRING, "Hard": INT64, "Soft": INT64})),
    "CpuCount": INT64, "CpuPercent": INT64, "IOMaximumIOps": UINT64, "IOMaximumBandwidth": UINT64,
}

_MOUNT = _struct("mount.Mount", {
    "Type": String("mount.Type"), "Source": STRING, "Target": STRING, "ReadOnly": BOOL,
    "Consistency": String("mount.Consistency"),
    "BindOptions": _struct("mount.BindOptions", {"Propagation": String("mount.Propagation"), "NonRecursive": BOOL}),
    "VolumeOptions": _struct("mount.VolumeOptions", {
        "NoCopy": BOOL, "Labels": STRING_MAP,
        "DriverConfig": _struct("mount.Driver", {"Name": STRING, "Options": STRING_MAP})}),
    "TmpfsOptions": _struct("mount.TmpfsOptions", {"SizeBytes": INT64, "Mode": FILE_MODE}),
})

HOST_CONFIG = _struct("container.HostConfig", {
    "Binds": STRINGS, "ContainerIDFile": STRING,
    "LogConfig": _struct("container.LogConfig", {"Type": STRING, "Config": STRING_MAP}),
    "NetworkMode": String("container.NetworkMode"),
    "PortBindings": Map(Slice(_struct("nat.PortBinding", {"HostIp": STRING, "HostPort": STRING}),
                              "[]nat.PortBinding"), "nat.PortMap"),
    "RestartPolicy": RESTART_POLICY, "AutoRemove": BOOL, "VolumeDriver": STRING, "VolumesFrom": STRINGS,
    "CapAdd": StrSlice(), "CapDrop": StrSlice(), "CgroupnsMode": String("container.CgroupnsMode"),
    "Dns": STRINGS, "DnsOptions": STRINGS, "DnsSearch": STRINGS, "ExtraHosts": STRINGS, "GroupAdd": STRINGS,
    "IpcMode": String("container.IpcMode"), "Cgroup": String("container.CgroupSpec"), "Links": STRINGS,
    "OomScoreAdj": INT, "PidMode": String("container.PidMode"), "Privileged": BOOL, "PublishAllPorts": BOOL,
    "ReadonlyRootfs": BOOL, "SecurityOpt": STRINGS, "StorageOpt": STRING_MAP, "Tmpfs": STRING_MAP,
    "UTSMode": String("container.UTSMode"), "UsernsMode": String("container.UsernsMode"), "ShmSize": INT64,
    "Sysctls": STRING_MAP, "Runtime": STRING, "ConsoleSize": Slice(UINT, "[2]uint"),
    "Isolation": String("container.Isolation"), "Mounts": Slice(_MOUNT), "MaskedPaths": STRINGS,
    "ReadonlyPaths": STRINGS, "Init": BOOL,
}, RESOURCES_FIELDS)

ENDPOINT_SETTINGS = _struct("network.EndpointSettings", {
    "IPAMConfig": _struct("network.EndpointIPAMConfig", {
        "IPv4Address": STRING, "IPv6Address": STRING, "LinkLocalIPs": STRINGS}),
    "Links": STRINGS, "Aliases": STRINGS, "NetworkID": STRING, "EndpointID": STRING, "Gateway": STRING,
    "IPAddress": STRING, "IPPrefixLen": INT, "IPv6Gateway": STRING, "GlobalIPv6Address": STRING,
    "GlobalIPv6PrefixLen": INT, "MacAddress": STRING, "DriverOpts": STRING_MAP,
})

# POST /containers/create: the Config, with the HostConfig and NetworkingConfig beside its fields.
CONTAINER_CREATE = _struct("runconfig.ContainerConfigWrapper", CONFIG_FIELDS, {
    "HostConfig": HOST_CONFIG,
    "NetworkingConfig": _struct("network.NetworkingConfig", {"EndpointsConfig": Map(ENDPOINT_SETTINGS)}),
})
# POST /commit: the new image's Config, read as the create body is
COMMIT_CONFIG = _struct("runconfig.ContainerConfigWrapper", CONFIG_FIELDS)
# POST /containers/{id}/update
CONTAINER_UPDATE = _struct("container.UpdateConfig", RESOURCES_FIELDS, {"RestartPolicy": RESTART_POLICY})
# POST /containers/{id}/exec
EXEC_CONFIG = _struct("types.ExecConfig", {
    "User": STRING, "Privileged": BOOL, "Tty": BOOL, "AttachStdin": BOOL, "AttachStderr": BOOL,
    "AttachStdout": BOOL, "Detach": BOOL, "DetachKeys": STRING, "Env": STRINGS, "WorkingDir": STRING,
    "Cmd": STRINGS})
# POST /exec/{id}/start
EXEC_START = _struct("types.ExecStartCheck", {"Detach": BOOL, "Tty": BOOL})
# POST /networks/create
NETWORK_CREATE = _struct("types.NetworkCreateRequest", {
    "Name": STRING, "CheckDuplicate": BOOL, "Driver": STRING, "Scope": STRING, "EnableIPv6": BOOL,
    "IPAM": _struct("network.IPAM", {
        "Driver": STRING, "Options": STRING_MAP,
        "Config": Slice(_struct("network.IPAMConfig", {
            "Subnet": STRING, "IPRange": STRING, "Gateway": STRING, "AuxiliaryAddresses": STRING_MAP}))}),
    "Internal": BOOL, "Attachable": BOOL, "Ingress": BOOL, "ConfigOnly": BOOL,
    "ConfigFrom": _struct("network.ConfigReference", {"Network": STRING}),
    "Options": STRING_MAP, "Labels": STRING_MAP})
# POST /networks/{id}/connect and /disconnect
NETWORK_CONNECT = _struct("types.NetworkConnect", {"Container": STRING, "EndpointConfig": ENDPOINT_SETTINGS})
NETWORK_DISCONNECT = _struct("types.NetworkDisconnect", {"Container": STRING, "Force": BOOL})
# POST /volumes/create
VOLUME_CREATE = _struct("volume.VolumeCreateBody", {
    "Name": STRING, "Driver": STRING, "DriverOpts": STRING_MAP, "Labels": STRING_MAP})
# POST /auth
AUTH_CONFIG = _struct("types.AuthConfig", {
    "username": STRING, "password": STRING, "auth": STRING, "email": STRING, "serveraddress": STRING,
    "identitytoken": STRING, "registrytoken": STRING})

# The `filters` query parameter (not a body, but JSON read the same way): {"name": {"value": true}},
# or as clients before API 1.22 wrote it, {"name": ["value"]}
FILTERS = Map(Map(BOOL))
LEGACY_FILTERS = Map(STRINGS)
