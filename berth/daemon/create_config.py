"""Shaping a create request: the container's Config (image defaults merged in), its HostConfig
(validated, defaults filled), and its bind mounts. Pure functions, as Docker's rules have them."""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from berth.daemon import ports
from berth.daemon.apitypes import HostConfig
from berth.daemon.devices import check_block_io, check_devices
from berth.daemon.health import merge_healthcheck
from berth.daemon.limits import check_limits, normalize_limits
from berth.daemon.namespaces import check_modes, joined_container
from berth.daemon.security import check_security_opts
from berth.daemon.spec import (
    DEFAULT_SHM_SIZE,
    MASKED_PATHS,
    READONLY_PATHS,
    SpecError,
    check_capabilities,
    create_env,
)
from berth.errdefs import Conflict, InvalidArgument
from berth.runtime.cgroups import hierarchies
from berth.strconv import parse_bool

RESTART_POLICIES = {"", "no", "always", "unless-stopped", "on-failure"}
PROPAGATIONS = ("private", "rprivate", "slave", "rslave", "shared", "rshared")

# Every HostConfig field dockerd shows in inspect, in its order, with the value it gives a field the
# client left out (Runtime, CgroupnsMode and the path lists are filled in per container).
HOST_CONFIG_DEFAULTS: dict[str, Any] = {
    "Binds": None, "ContainerIDFile": "", "LogConfig": {"Type": "json-file", "Config": {}}, "NetworkMode": "",
    "PortBindings": None, "RestartPolicy": {"Name": "", "MaximumRetryCount": 0}, "AutoRemove": False,
    "VolumeDriver": "", "VolumesFrom": None, "CapAdd": None, "CapDrop": None, "CgroupnsMode": "",
    "Dns": None, "DnsOptions": None, "DnsSearch": None, "ExtraHosts": None, "GroupAdd": None,
    "IpcMode": "private", "Cgroup": "", "Links": None, "OomScoreAdj": 0, "PidMode": "", "Privileged": False,
    "PublishAllPorts": False, "ReadonlyRootfs": False, "SecurityOpt": None, "UTSMode": "", "UsernsMode": "",
    "ShmSize": DEFAULT_SHM_SIZE, "Runtime": "", "ConsoleSize": [0, 0], "Isolation": "", "CpuShares": 0,
    "Memory": 0, "NanoCpus": 0, "CgroupParent": "", "BlkioWeight": 0, "BlkioWeightDevice": None,
    "BlkioDeviceReadBps": None, "BlkioDeviceWriteBps": None, "BlkioDeviceReadIOps": None,
    "BlkioDeviceWriteIOps": None, "CpuPeriod": 0, "CpuQuota": 0, "CpuRealtimePeriod": 0, "CpuRealtimeRuntime": 0,
    "CpusetCpus": "", "CpusetMems": "", "Devices": None, "DeviceCgroupRules": None, "DeviceRequests": None,
    "KernelMemory": 0, "KernelMemoryTCP": 0, "MemoryReservation": 0, "MemorySwap": 0, "MemorySwappiness": None,
    "OomKillDisable": False, "PidsLimit": None, "Ulimits": None, "CpuCount": 0, "CpuPercent": 0,
    "IOMaximumIOps": 0, "IOMaximumBandwidth": 0, "MaskedPaths": None, "ReadonlyPaths": None,
}
# Fields dockerd leaves out while they are empty (omitempty).
HOST_CONFIG_OMITTED_WHEN_EMPTY = ("Mounts", "Tmpfs", "Sysctls", "StorageOpt", "Init")


def merge_config(body: dict[str, Any], image: dict[str, Any], container_id: str) -> dict[str, Any]:
    """The container's Config: what the client asked for, image defaults filling the gaps."""
    entrypoint = body.get("Entrypoint")
    cmd = body.get("Cmd")
    if isinstance(entrypoint, str):
        entrypoint = [entrypoint]
    if isinstance(cmd, str):
        cmd = [cmd]
    if entrypoint is None:
        entrypoint = image.get("Entrypoint")
        if not cmd:
            cmd = image.get("Cmd")
    elif entrypoint == [""]:
        entrypoint = None
        cmd = cmd or None
    labels = dict(image.get("Labels") or {})
    labels.update(body.get("Labels") or {})
    working_dir = body.get("WorkingDir") or image.get("WorkingDir") or ""
    if working_dir and not working_dir.startswith("/"):
        raise InvalidArgument(f"the working directory '{working_dir}' is invalid, it needs to be an absolute path")
    return {
        "Hostname": body.get("Hostname") or container_id[:12],
        "Domainname": body.get("Domainname") or "",
        "User": body.get("User") or image.get("User") or "",
        "AttachStdin": bool(body.get("AttachStdin")),
        "AttachStdout": bool(body.get("AttachStdout")),
        "AttachStderr": bool(body.get("AttachStderr")),
        "ExposedPorts": {**(image.get("ExposedPorts") or {}), **(body.get("ExposedPorts") or {})} or None,
        "Tty": bool(body.get("Tty")),
        "OpenStdin": bool(body.get("OpenStdin")),
        "StdinOnce": bool(body.get("StdinOnce")),
        "Env": create_env(image.get("Env"), body.get("Env")),
        "Cmd": cmd or None,
        "Image": body.get("Image"),
        "Volumes": {**(image.get("Volumes") or {}), **(body.get("Volumes") or {})} or None,
        "WorkingDir": working_dir,
        "Entrypoint": entrypoint or None,
        "OnBuild": image.get("OnBuild"),
        "Labels": labels,
        "StopSignal": body.get("StopSignal") or image.get("StopSignal") or None,
        "StopTimeout": body.get("StopTimeout"),
        "Healthcheck": merge_healthcheck(body.get("Healthcheck"), image.get("Healthcheck")),
        "MacAddress": body.get("MacAddress") or "",  # `--mac-address`: its first network's (API 1.41)
    }

# What `docker update` may change besides the restart policy: the resource limits.
UPDATABLE_RESOURCES = ("Memory", "MemorySwap", "MemoryReservation", "CpuShares", "NanoCpus", "CpuPeriod",
                       "CpuQuota", "CpusetCpus", "CpusetMems", "PidsLimit")


def restart_policy(requested: dict[str, Any] | None) -> dict[str, Any]:
    """A checked RestartPolicy, defaults filled ("" for none asked, as dockerd shows it)."""
    policy = dict(requested or {})
    policy.setdefault("Name", "")
    policy.setdefault("MaximumRetryCount", 0)
    if policy["Name"] not in RESTART_POLICIES:
        raise InvalidArgument(f"invalid restart policy '{policy['Name']}'")
    if policy["MaximumRetryCount"] and policy["Name"] != "on-failure":
        raise InvalidArgument(f"maximum retry count cannot be used with restart policy '{policy['Name']}'")
    if policy["MaximumRetryCount"] < 0:
        raise InvalidArgument("maximum retry count cannot be negative")
    return policy


def normalize_host_config(host_config: dict[str, Any]) -> HostConfig:
    host_config = dict(host_config)
    policy = restart_policy(host_config.get("RestartPolicy"))
    if host_config.get("AutoRemove") and policy["Name"] not in ("", "no"):
        raise Conflict("conflicting options: AutoRemove and restart policy")
    host_config["RestartPolicy"] = policy
    check_mounts(host_config)
    mode = host_config.get("NetworkMode") or "default"
    if joined_container(mode):  # `--network container:NAME`: its network and /etc files
        for field, what in (("Dns", "dns"), ("ExtraHosts", "custom host-to-IP mapping"),
                            ("PortBindings", "port publishing")):
            if host_config.get(field):
                kind = " container type" if field == "PortBindings" else ""
                raise InvalidArgument(f"conflicting options: {what} and the{kind} network mode")
    elif mode == "none" and host_config.get("PortBindings"):
        raise InvalidArgument("conflicting options: port publishing and the container type network mode")
    host_config["NetworkMode"] = mode  # a network's name or ID is checked by the network service
    ports.check_bindings(host_config.get("PortBindings") or {})
    if host_config.get("Links") and (mode in ("host", "none") or joined_container(mode)):
        kind = "container" if joined_container(mode) else mode
        raise InvalidArgument(f"conflicting options: {kind} type networking can't be used with links. "
                              "This would result in undefined behavior")
    for request in host_config.get("DeviceRequests") or []:  # --gpus: berth has no device drivers
        capabilities = " ".join(f"[{' '.join(group)}]" for group in request.get("Capabilities") or [])
        raise InvalidArgument(f'could not select device driver "{request.get("Driver") or ""}" '
                              f"with capabilities: [{capabilities}]")
    if ".." in (host_config.get("CgroupParent") or "").split("/"):
        raise InvalidArgument(f"invalid cgroup parent: {host_config['CgroupParent']}")
    if not host_config.get("Privileged"):  # an empty list is `--security-opt systempaths=unconfined`
        for name, paths in (("MaskedPaths", MASKED_PATHS), ("ReadonlyPaths", READONLY_PATHS)):
            if host_config.get(name) is None:
                host_config[name] = list(paths)
    host_config["LogConfig"] = log_config(host_config.get("LogConfig"))
    check_security_opts(host_config)
    if host_config.get("Privileged") or "host" in (host_config.get("PidMode"), host_config.get("IpcMode")):
        # as dockerd records it: such a container gets no SELinux label (berth applies none anyway)
        host_config["SecurityOpt"] = list(dict.fromkeys([*(host_config.get("SecurityOpt") or []), "label=disable"]))
    check_modes(host_config)
    check_devices(host_config)
    check_block_io(host_config)
    try:
        check_capabilities(host_config)
    except SpecError as error:
        raise InvalidArgument(str(error)) from None
    normalize_limits(host_config)
    check_limits(host_config)
    # what dockerd fills in for "" (the docker CLI sends "")
    host_config["CgroupnsMode"] = host_config.get("CgroupnsMode") or ("host" if hierarchies().v1 else "private")
    host_config["IpcMode"] = host_config.get("IpcMode") or "private"
    for name in HOST_CONFIG_OMITTED_WHEN_EMPTY:
        if name in host_config and host_config[name] in (None, {}, []):
            del host_config[name]
    normalized = {**{name: host_config.get(name, default) for name, default in HOST_CONFIG_DEFAULTS.items()},
                  **host_config}
    return cast(HostConfig, normalized)  # the request's JSON, checked field by field above

LOG_DRIVERS = ("none", "local", "json-file", "syslog", "journald", "gelf", "fluentd", "awslogs", "splunk",
               "etwlogs", "gcplogs", "logentries")
JSON_FILE_OPTIONS = ("max-size", "max-file", "compress", "labels", "labels-regex", "env", "env-regex", "tag")
_DECIMAL_UNITS = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12, "p": 10**15}


def log_config(requested: dict[str, Any] | None) -> dict[str, Any]:
    """A checked LogConfig: json-file (the default), rotated by max-size and max-file if asked."""
    driver = (requested or {}).get("Type") or "json-file"
    options = dict((requested or {}).get("Config") or {})
    if driver not in LOG_DRIVERS:
        raise InvalidArgument(f'error looking up logging plugin {driver}: plugin "{driver}" not found')
    if driver == "none":  # nothing kept: `logs` cannot read it back
        if options:
            raise InvalidArgument(f"unknown log opt '{next(iter(options))}' for none log driver")
        return {"Type": driver, "Config": {}}
    if driver != "json-file":
        raise InvalidArgument(f"the {driver} logging driver is not supported by berth yet: it writes json-file "
                              "logs, or none")
    for option in options:
        if option not in JSON_FILE_OPTIONS:
            raise InvalidArgument(f"unknown log opt '{option}' for json-file log driver")
        if option not in ("max-size", "max-file", "compress"):
            raise InvalidArgument(f"the json-file log opt '{option}' is not supported by berth yet")
    log_rotation(options)
    return {"Type": driver, "Config": options}


def log_rotation(options: dict[str, str]) -> tuple[int, int] | None:
    """(max-size in bytes, max-file) of json-file options, or None for a log that grows; refused in
    dockerd's words ("failed to initialize logging driver: ...")."""
    def refuse(reason: str) -> InvalidArgument:
        return InvalidArgument(f"failed to initialize logging driver: {reason}")

    max_size = None
    if "max-size" in options:
        text = options["max-size"]
        number, unit = text.rstrip("bB"), ""
        if number and number[-1].lower() in _DECIMAL_UNITS:
            number, unit = number[:-1], number[-1].lower()
        try:
            max_size = round(float(number.strip()) * _DECIMAL_UNITS[unit])
        except ValueError:
            raise refuse(f"invalid size: '{text}'") from None
        if max_size < 0 or not number.strip()[:1].isdigit():
            raise refuse(f"invalid size: '{text}'")
    max_file = 1
    if "max-file" in options:
        try:
            max_file = int(options["max-file"])
        except ValueError:
            raise refuse(f'strconv.Atoi: parsing "{options["max-file"]}": invalid syntax') from None
        if max_file < 1:
            raise refuse("max-file cannot be less than 1")
    try:
        compress = parse_bool(options.get("compress", "false"))
    except ValueError as error:
        raise refuse(str(error)) from None
    if compress:
        if max_file < 2 or not max_size:
            raise refuse("compress cannot be true when max-file is less than 2 or max-size is not set")
        raise InvalidArgument("the json-file log opt 'compress' is not supported by berth yet")
    return (max_size, max_file) if max_size else None


def bind_mounts(host_config: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The bind mounts of `-v /host:/ctr[:mode]` (Binds) and `--mount type=bind` (Mounts), as
    inspect shows them; a missing -v source is made, a missing --mount source is an error (dockerd's
    rules)."""
    mounts = [_mount_option_bind(mount) for mount in host_config.get("Mounts") or [] if mount.get("Type") == "bind"]
    for bind in host_config.get("Binds") or []:
        parts = bind.split(":")
        if len(parts) not in (2, 3):
            raise InvalidArgument(f"invalid volume specification: '{bind}'")
        source, destination = parts[0], parts[1]
        mode = parts[2] if len(parts) == 3 else ""
        if not source.startswith("/"):
            continue  # a named volume: volume_requests
        if not destination.startswith("/"):
            raise InvalidArgument(f"invalid volume specification: '{bind}': invalid mount config for type \"bind\": "
                                  f"invalid mount path: '{destination}' mount path must be absolute")
        options = mode.split(",") if mode else []
        propagation = [option for option in options if option in PROPAGATIONS]
        if not set(options) <= {"ro", "rw", "z", "Z", "nocopy", *PROPAGATIONS} or len(propagation) > 1 or \
                len({"ro", "rw"} & set(options)) > 1 or len(set(options)) < len(options):
            raise InvalidArgument(f"invalid mode: {mode}")
        os.makedirs(source, exist_ok=True)
        mounts.append({"Type": "bind", "Source": source, "Destination": destination, "Mode": mode,
                       "RW": "ro" not in options, "Propagation": propagation[0] if propagation else "rprivate"})
    return mounts


@dataclass(frozen=True)
class VolumeRequest:
    """A volume a new container asks for: `name` ("" for a new anonymous one) at `destination`."""

    name: str
    destination: str
    rw: bool
    mode: str  # as inspect's Mounts shows it
    fill: bool  # filled with the image's content at `destination` when new and empty (not `nocopy`)
    options: tuple[tuple[str, str], ...] = ()  # a new volume's driver options (`volume-opt`)
    labels: tuple[tuple[str, str], ...] = ()  # and labels (`volume-label`)


def volume_requests(host_config: Mapping[str, Any], config: Mapping[str, Any], bound: set[str]) -> list[VolumeRequest]:
    """The volumes of `-v NAME:/path[:opts]`, `--mount type=volume` and of Config.Volumes (`-v /path`
    and the image's VOLUME: anonymous ones) that no bind (at a path of `bound`) or tmpfs covers."""
    found: list[VolumeRequest] = []
    for bind in host_config.get("Binds") or []:
        parts = bind.split(":")
        if len(parts) in (2, 3) and not parts[0].startswith("/"):
            options = parts[2].split(",") if len(parts) == 3 else []
            if not set(options) <= {"ro", "rw", "z", "Z", "nocopy"}:
                raise InvalidArgument(f"invalid mode: {parts[2]}")
            found.append(VolumeRequest(parts[0], parts[1], "ro" not in options, parts[2] if len(parts) == 3 else "z",
                                       "nocopy" not in options))
    for mount in host_config.get("Mounts") or []:
        if mount.get("Type") == "volume":
            options = mount.get("VolumeOptions") or {}
            found.append(VolumeRequest(mount.get("Source") or "", mount["Target"], not mount.get("ReadOnly"), "z",
                                       not options.get("NoCopy"),
                                       tuple(((options.get("DriverConfig") or {}).get("Options") or {}).items()),
                                       tuple((options.get("Labels") or {}).items())))
    taken = {request.destination for request in found} | bound
    taken |= set(host_config.get("Tmpfs") or {}) | {mount.get("Target") for mount in host_config.get("Mounts") or []}
    for path in sorted(config.get("Volumes") or {}):
        if path not in taken:
            found.append(VolumeRequest("", path, True, "", True))
    return found


def _mount_option_bind(mount: dict[str, Any]) -> dict[str, Any]:
    source, target = mount.get("Source") or "", mount.get("Target") or ""
    if not target.startswith("/"):
        raise InvalidArgument(f'invalid mount config for type "bind": invalid mount path: \'{target}\' '
                              f"mount path must be absolute")
    if not os.path.exists(source):
        raise InvalidArgument(f'invalid mount config for type "bind": bind source path does not exist: {source}')
    return {"Type": "bind", "Source": source, "Destination": target, "Mode": "", "RW": not mount.get("ReadOnly"),
            "Propagation": (mount.get("BindOptions") or {}).get("Propagation") or "rprivate"}


def check_mounts(host_config: Mapping[str, Any]) -> None:
    """Refuse the --mount kinds berth does not have, as dockerd words a bad type."""
    for mount in host_config.get("Mounts") or []:
        kind = mount.get("Type")
        if kind not in ("bind", "tmpfs", "volume"):
            raise InvalidArgument(f'mount type unknown: "{kind}"')
        if kind in ("tmpfs", "volume") and not (mount.get("Target") or "").startswith("/"):
            raise InvalidArgument(f'invalid mount config for type "{kind}": invalid mount path: '
                                  f"'{mount.get('Target') or ''}' mount path must be absolute")
