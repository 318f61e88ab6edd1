"""Turn a container's record into an OCI runtime spec (config.json), the way dockerd builds one."""
from __future__ import annotations

import resource
import shutil
import signal
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from berth.daemon.container import Container
from berth.daemon.devices import BLOCK_IO_THROTTLES, device_numbers, spec_devices
from berth.daemon.namespaces import spec_namespaces
from berth.daemon.rootfs import etc_binds
from berth.daemon.security import parse_security_opts, seccomp_section
from berth.daemon.users import resolve_groups, resolve_user
from berth.errdefs import InvalidArgument
from berth.linux.capabilities import NUMBERS as capability_numbers
from berth.network.drivers import Sandbox
from berth.runtime.ocispec import Capabilities, Cpu, Linux, Memory, Mount, Process, Resources, Rlimit, Spec

DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
INIT_IN_CONTAINER = "/sbin/docker-init"
DEFAULT_NOFILE = 1048576
DEFAULT_SHM_SIZE = 64 * 1024 * 1024  # bytes of /dev/shm, as dockerd gives

DEFAULT_CAPABILITIES = [
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
    "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
]
ALL_CAPABILITIES = DEFAULT_CAPABILITIES + [
    "CAP_DAC_READ_SEARCH", "CAP_LINUX_IMMUTABLE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN",
    "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_LEASE", "CAP_AUDIT_CONTROL", "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
]
MASKED_PATHS = [
    "/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
    "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware",
]
READONLY_PATHS = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]


class SpecError(InvalidArgument):
    pass


def _name(entry: str) -> str:
    return entry.split("=", 1)[0]


def create_env(image_env: list[str] | None, user_env: list[str] | None) -> list[str] | None:
    """A new container's Config.Env as dockerd merges it: the user's entries, then the image's
    that the user did not set (null when both are empty)."""
    if not user_env:
        return image_env or None
    names = {_name(entry) for entry in user_env}
    return [*user_env, *(entry for entry in image_env or [] if _name(entry) not in names)]


def replace_or_append(env: list[str], overrides: list[str]) -> list[str]:
    """Each override replaces the entry of its name where it stands, or is added at the end; a bare
    NAME (no `=`) removes it."""
    merged = {_name(entry): entry for entry in env}
    for entry in overrides:
        if "=" in entry:
            merged[_name(entry)] = entry
        else:
            merged.pop(entry, None)
    return list(merged.values())


def process_env(config: dict[str, Any], tty: bool, extra: list[str] | None = None,
                linked: Sequence[str] = ()) -> list[str]:
    """A process's environment as dockerd builds it: PATH, HOSTNAME and (with a tty) TERM, the
    variables of its links, then the container's Env over them, then `extra` (an exec's own -e)."""
    base = [DEFAULT_PATH, f"HOSTNAME={config.get('Hostname', '')}", *(["TERM=xterm"] if tty else []), *linked]
    return replace_or_append(replace_or_append(base, config.get("Env") or []), extra or [])


def capabilities(host_config: Mapping[str, Any]) -> list[str]:
    """Docker's rules: `--cap-add ALL` keeps all but the drops, `--cap-drop ALL` keeps only the adds,
    otherwise the default set less the drops plus the adds."""
    if host_config.get("Privileged"):
        return list(ALL_CAPABILITIES)

    add, drop = _capability_names(host_config.get("CapAdd")), _capability_names(host_config.get("CapDrop"))
    if "ALL" in add:
        return [cap for cap in ALL_CAPABILITIES if cap not in drop]
    if "ALL" in drop:
        return list(dict.fromkeys(add))
    return list(dict.fromkeys([cap for cap in DEFAULT_CAPABILITIES if cap not in drop] + add))


def check_capabilities(host_config: Mapping[str, Any]) -> None:
    """Refuse a --cap-add or --cap-drop that names no Linux capability, in dockerd's words."""
    for field in ("CapAdd", "CapDrop"):
        for name in _capability_names(host_config.get(field)):
            if name != "ALL" and name not in capability_numbers:
                raise SpecError(f'invalid {field}: unknown capability: "{name}"')


def capability_sets(names: list[str]) -> Capabilities:
    """A process's capabilities as Docker gives them (since CVE-2022-24769): bounding, effective and
    permitted; no inheritable or ambient ones, so that a non-root process gains nothing from a file's
    inheritable capabilities."""
    return {"bounding": list(names), "effective": list(names), "permitted": list(names)}


def _capability_names(names: list[str] | None) -> list[str]:
    """`net_admin`, `NET_ADMIN` or `CAP_NET_ADMIN` -> "CAP_NET_ADMIN" ("ALL" stays as it is)."""
    return [name.upper() if name.upper().startswith("CAP_") or name.upper() == "ALL" else "CAP_" + name.upper()
            for name in names or []]


def _mounts(container: Container, etc_dir: Path, shm_source: str | None) -> list[Mount]:
    """The spec's mounts; `shm_source` is a /dev/shm mounted outside, to share (None: a tmpfs of its own)."""
    host_config = container.host_config
    shm_size = host_config.get("ShmSize") or DEFAULT_SHM_SIZE
    shm: Mount = {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
           "options": ["nosuid", "noexec", "nodev", "mode=1777", f"size={shm_size}"]}
    if shm_source:
        shm = {"destination": "/dev/shm", "type": "bind", "source": shm_source, "options": ["rbind", "rprivate"]}
    mounts: list[Mount] = [
        {"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
        {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
         "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
        {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
        {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
         "options": ["ro", "nosuid", "noexec", "nodev"]},
        {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
        *([shm] if host_config.get("IpcMode") != "none" else []),  # --ipc none: no /dev/shm, as dockerd
    ]
    system = len(mounts)
    for destination, source in etc_binds(etc_dir):
        mounts.append({"destination": destination, "type": "bind", "source": source, "options": ["rbind", "rprivate"]})
    for path, tmpfs_options in (host_config.get("Tmpfs") or {}).items():
        mounts.append({"destination": path, "type": "tmpfs", "source": "tmpfs",
                       "options": ["nosuid", "nodev", "noexec", *filter(None, tmpfs_options.split(","))]})
    for mount in host_config.get("Mounts") or []:
        if mount.get("Type") == "tmpfs":  # --mount type=tmpfs,dst=...[,tmpfs-size=...][,tmpfs-mode=...]
            tmpfs = mount.get("TmpfsOptions") or {}
            options = ["nosuid", "nodev", "noexec", *(["ro"] if mount.get("ReadOnly") else []),
                       *([f"size={tmpfs['SizeBytes']}"] if tmpfs.get("SizeBytes") else []),
                       *([f"mode={tmpfs['Mode']:o}"] if tmpfs.get("Mode") else [])]
            mounts.append({"destination": mount["Target"], "type": "tmpfs", "source": "tmpfs", "options": options})
    for mount in container.mounts:
        options = ["rbind", mount.get("Propagation") or "rprivate"] + ([] if mount.get("RW", True) else ["ro"])
        mounts.append({"destination": mount["Destination"], "type": "bind", "source": mount["Source"],
                       "options": options})
    if host_config.get("Init"):
        init = shutil.which("tini-static") or shutil.which("tini") or shutil.which("docker-init")
        if init is None:
            raise SpecError("--init needs tini: install Debian's tini package")
        mounts.append({"destination": INIT_IN_CONTAINER, "type": "bind", "source": init,
                       "options": ["bind", "ro"]})
    # as dockerd: a mount before those inside it (a volume on /etc, then /etc/hosts over it)
    mounts[system:] = sorted(mounts[system:], key=lambda mount: len(Path(mount["destination"]).parts))
    return mounts


def resources(host_config: Mapping[str, Any]) -> Resources:
    """HostConfig's limits as the OCI spec's linux.resources."""
    resources: Resources = {"devices": [{"allow": False, "access": "rwm"}]}
    memory: Memory = {}
    if host_config.get("Memory"):
        memory["limit"] = host_config["Memory"]
    if host_config.get("MemorySwap"):
        memory["swap"] = host_config["MemorySwap"]
    if host_config.get("MemoryReservation"):
        memory["reservation"] = host_config["MemoryReservation"]
    if host_config.get("MemorySwappiness") is not None:
        memory["swappiness"] = host_config["MemorySwappiness"]
    if host_config.get("OomKillDisable"):
        memory["disableOOMKiller"] = True
    if memory:
        resources["memory"] = memory
    cpu: Cpu = {}
    if host_config.get("CpuShares"):
        cpu["shares"] = host_config["CpuShares"]
    if host_config.get("NanoCpus"):
        cpu["period"] = 100_000
        cpu["quota"] = host_config["NanoCpus"] * 100_000 // 1_000_000_000
    if host_config.get("CpuQuota"):
        cpu["quota"] = host_config["CpuQuota"]
    if host_config.get("CpuPeriod"):
        cpu["period"] = host_config["CpuPeriod"]
    if host_config.get("CpusetCpus"):
        cpu["cpus"] = host_config["CpusetCpus"]
    if host_config.get("CpusetMems"):
        cpu["mems"] = host_config["CpusetMems"]
    if cpu:
        resources["cpu"] = cpu
    if host_config.get("PidsLimit") is not None:  # 0: unlimited (after an update), written as "max"
        resources["pids"] = {"limit": host_config["PidsLimit"]}
    block_io: dict[str, Any] = {"weight": host_config["BlkioWeight"]} if host_config.get("BlkioWeight") else {}
    for field, key in BLOCK_IO_THROTTLES.items():
        if host_config.get(field):
            block_io[key] = [{**device_numbers(limit["Path"]), "rate": limit["Rate"]} for limit in host_config[field]]
    if host_config.get("BlkioWeightDevice"):
        block_io["weightDevice"] = [{**device_numbers(entry["Path"]), "weight": entry["Weight"]}
                                    for entry in host_config["BlkioWeightDevice"]]
    if block_io:
        resources["blockIO"] = block_io
    return resources


def _rlimits(host_config: Mapping[str, Any]) -> list[Rlimit]:
    # Docker's default is 1048576 open files; without CAP_SYS_RESOURCE no process may go above its
    # own hard limit, so the default is capped at the daemon's.
    nofile = min(DEFAULT_NOFILE, resource.getrlimit(resource.RLIMIT_NOFILE)[1])
    limits: list[Rlimit] = [{"type": "RLIMIT_NOFILE", "hard": nofile, "soft": nofile}]
    for ulimit in host_config.get("Ulimits") or []:
        kind = "RLIMIT_" + ulimit["Name"].upper()
        limits = [limit for limit in limits if limit["type"] != kind]
        limits.append({"type": kind, "hard": ulimit["Hard"], "soft": ulimit["Soft"]})
    return limits


def process_spec(container: Container, rootfs: Path, args: list[str], *, user: str, env: list[str],
                 cwd: str, tty: bool) -> Process:
    """The OCI `process` object; used for the container's init and for `exec`."""
    resolved = resolve_user(rootfs, user)
    env = list(env)
    if not any(entry.startswith("HOME=") for entry in env):
        env.append(f"HOME={resolved.home}")
    caps = capabilities(container.host_config)
    process: Process = {
        "terminal": tty,
        "user": {"uid": resolved.uid, "gid": resolved.gid},
        "args": args,
        "env": env,
        "cwd": cwd or "/",
        "capabilities": capability_sets(caps),
        "rlimits": _rlimits(container.host_config),
        "noNewPrivileges": parse_security_opts(container.host_config.get("SecurityOpt")).no_new_privileges,
    }
    extra_gids = resolve_groups(rootfs, container.host_config.get("GroupAdd") or [])
    additional_gids = list(dict.fromkeys([*resolved.additional_gids, *extra_gids]))
    if additional_gids:
        process["user"]["additionalGids"] = additional_gids
    return process


def build_spec(container: Container, rootfs: Path, etc_dir: Path, cgroups_path: str,
               init_pid_of: Callable[[str, str], int], network: Sandbox, shm_source: str | None = None,
               seccomp_profile: str = "", netns_path: str = "", linked_env: Sequence[str] = ()) -> Spec:
    """The container's OCI spec. `init_pid_of` finds the init of a running container whose
    namespaces this one joins; `network` the network namespace it gets (at `netns_path` if the daemon
    made it); `etc_dir` holds the /etc files it binds (berth.daemon.rootfs);
    `shm_source` is the /dev/shm it shares, if it shares one; `linked_env` what its links give it;
    `seccomp_profile` is the daemon's (see security.seccomp_section)."""
    config, host_config = container.config, container.host_config
    args = [container.path, *container.args]
    if host_config.get("Init"):
        args = [INIT_IN_CONTAINER, "--", *args]
    tty = bool(config.get("Tty"))
    process = process_spec(container, rootfs, args, user=config.get("User") or "0", env=process_env(config, tty, linked=linked_env),
                           cwd=config.get("WorkingDir") or "/", tty=tty)
    if host_config.get("OomScoreAdj"):
        process["oomScoreAdj"] = host_config["OomScoreAdj"]
    namespaces = spec_namespaces(host_config, init_pid_of, network, netns_path)
    devices, device_rules = spec_devices(host_config)
    stop_signal = config.get("StopSignal") or "SIGTERM"
    linux: Linux = {
        "namespaces": namespaces,
        "cgroupsPath": cgroups_path,
        "resources": resources(host_config),
        "maskedPaths": host_config.get("MaskedPaths") or [],
        "readonlyPaths": host_config.get("ReadonlyPaths") or [],
    }
    linux["resources"]["devices"] += device_rules
    if devices:
        linux["devices"] = devices
    if host_config.get("Sysctls"):
        linux["sysctl"] = dict(host_config["Sysctls"])
    propagations = {mount.get("Propagation") for mount in container.mounts}
    if propagations & {"shared", "rshared"}:  # as dockerd: a shared bind needs a shared rootfs
        linux["rootfsPropagation"] = "rshared"
    seccomp = seccomp_section(host_config, process["capabilities"]["bounding"], seccomp_profile)
    if seccomp:
        linux["seccomp"] = seccomp
    spec: Spec = {
        "ociVersion": "1.0.2",
        "process": process,
        "root": {"path": str(rootfs), "readonly": bool(host_config.get("ReadonlyRootfs"))},
        "mounts": _mounts(container, etc_dir, shm_source),
        "annotations": {"org.berth.stop-signal": str(int(parse_signal(stop_signal)))},
        "linux": linux,
    }
    if any(ns["type"] == "uts" for ns in namespaces):  # on the host's, the name is the host's own (dockerd)
        spec["hostname"] = config.get("Hostname", "")
    if config.get("Domainname"):
        spec["domainname"] = config["Domainname"]
    return spec


def parse_signal(value: str | int) -> int:
    """`SIGTERM`, `TERM`, `15` -> 15; any other non-zero number as it is (a real-time signal, or one
    the caller must refuse); raises SpecError for anything else."""
    text = str(value).strip().upper()
    try:
        if text.isdigit() and int(text) != 0:
            return int(text)
        return signal.Signals[text if text.startswith("SIG") else "SIG" + text]
    except (KeyError, ValueError):
        raise SpecError(f"Invalid signal: {value}") from None
