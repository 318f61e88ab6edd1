"""Container cgroups on v1 hierarchies and the v2 tree: create, limit, join, read, remove.

A spec's linux.cgroupsPath ("/berth/<id>") names the same path in every mounted hierarchy. Each
resource goes to the version that has its controller (v1 first on a hybrid host); the cgroup2 tree
always gets the directory too, so the process is tracked there as well.
"""
from __future__ import annotations

import errno
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

MOUNTINFO = "/proc/self/mountinfo"
# controller -> cgroup file -> what to write there (a list: one write per line, e.g. per device)
Settings = dict[str, dict[str, "str | list[str]"]]
V2_CONTROLLERS = ("cpuset", "cpu", "io", "memory", "pids")


@dataclass(frozen=True)
class Hierarchies:
    v1: dict[str, str]   # controller (or "name=systemd") -> mount point
    v2: str | None       # cgroup2 mount point


@dataclass(frozen=True)
class CgroupStats:
    memory_usage: int
    memory_limit: int | None
    memory_stat: dict[str, int]
    cpu_usage_ns: int
    pids: int
    memory_max_usage: int | None = None      # cgroup v1 only: the peak
    cpu_usage_per_cpu_ns: list[int] | None = None  # cgroup v1 only


@cache
def hierarchies() -> Hierarchies:
    """The cgroup mounts of this host, read once from mountinfo."""
    v1: dict[str, str] = {}
    v2 = None
    with open(MOUNTINFO) as mountinfo:
        for line in mountinfo:
            fields = line.split()
            sep = fields.index("-")
            fstype, super_options = fields[sep + 1], fields[sep + 3]
            mount_point = fields[4]
            if fstype == "cgroup2" and v2 is None:
                v2 = mount_point
            elif fstype == "cgroup":
                for option in super_options.split(","):
                    if option in ("rw", "ro") or (option.startswith(("clone_children", "noprefix",
                                                                     "release_agent", "xattr", "cpuset_v2"))):
                        continue
                    v1.setdefault(option, mount_point)
    return Hierarchies(v1, v2)


def _relative(cgroups_path: str) -> str:
    path = os.path.normpath("/" + cgroups_path).lstrip("/")
    if not path:
        raise ValueError(f"cgroupsPath {cgroups_path!r} names the root cgroup")
    return path


def directories(cgroups_path: str) -> list[str]:
    """Every directory that makes up this cgroup, one per distinct mount."""
    found = hierarchies()
    relative = _relative(cgroups_path)
    mounts = list(dict.fromkeys(found.v1.values()))
    if found.v2:
        mounts.append(found.v2)
    return [os.path.join(mount, relative) for mount in mounts]


def _write(directory: str, name: str, value: str | int) -> None:
    with open(os.path.join(directory, name), "w") as file:
        file.write(str(value))


def _read(path: str) -> str:
    with open(path) as file:
        return file.read().strip()


def _make_cpuset(mount: str, relative: str) -> None:
    """mkdir each level of a v1 cpuset cgroup, copying cpus and mems down (they start empty)."""
    current = mount
    for part in relative.split("/"):
        parent, current = current, os.path.join(current, part)
        try:
            os.mkdir(current)
        except FileExistsError:
            continue
        for name in ("cpuset.cpus", "cpuset.mems"):
            _write(current, name, _read(os.path.join(parent, name)))


def _enable_v2_controllers(mount: str, relative: str, wanted: list[str]) -> None:
    """Turn on `wanted` controllers in subtree_control from the root down to the cgroup's parent."""
    current = mount
    for part in relative.split("/"):
        available = _read(os.path.join(current, "cgroup.controllers")).split()
        enable = " ".join("+" + c for c in wanted if c in available)
        if enable:
            _write(current, "cgroup.subtree_control", enable)
        current = os.path.join(current, part)


def _v2_available(mount: str) -> set[str]:
    return set(_read(os.path.join(mount, "cgroup.controllers")).split())


# linux.resources.blockIO's throttles and their cgroup v1 files (blkio.throttle.<name>_device)
_THROTTLES = {"throttleReadBpsDevice": "read_bps", "throttleWriteBpsDevice": "write_bps",
              "throttleReadIOPSDevice": "read_iops", "throttleWriteIOPSDevice": "write_iops"}


def _limits(resources: Mapping[str, Any]) -> Settings:
    """Spec linux.resources -> {controller: {cgroup v1 file: value, or one value per device}}."""
    out: Settings = {}
    memory = resources.get("memory") or {}
    if memory.get("limit") is not None:
        out.setdefault("memory", {})["memory.limit_in_bytes"] = str(memory["limit"])
    if memory.get("reservation") is not None:
        out.setdefault("memory", {})["memory.soft_limit_in_bytes"] = str(memory["reservation"])
    if memory.get("swap") is not None:
        out.setdefault("memory", {})["memory.memsw.limit_in_bytes"] = str(memory["swap"])
    if memory.get("swappiness") is not None:
        out.setdefault("memory", {})["memory.swappiness"] = str(memory["swappiness"])
    if memory.get("disableOOMKiller"):
        out.setdefault("memory", {})["memory.oom_control"] = "1"
    block_io = resources.get("blockIO") or {}
    if block_io.get("weight"):
        out.setdefault("blkio", {})["blkio.weight"] = str(block_io["weight"])
    if block_io.get("weightDevice"):
        out.setdefault("blkio", {})["blkio.weight_device"] = [
            f"{device['major']}:{device['minor']} {device['weight']}" for device in block_io["weightDevice"]]
    for field, name in _THROTTLES.items():
        if block_io.get(field):
            out.setdefault("blkio", {})[f"blkio.throttle.{name}_device"] = [
                f"{device['major']}:{device['minor']} {device['rate']}" for device in block_io[field]]
    cpu = resources.get("cpu") or {}
    if cpu.get("shares"):
        out.setdefault("cpu", {})["cpu.shares"] = str(cpu["shares"])
    if cpu.get("period"):
        out.setdefault("cpu", {})["cpu.cfs_period_us"] = str(cpu["period"])
    if cpu.get("quota"):
        out.setdefault("cpu", {})["cpu.cfs_quota_us"] = str(cpu["quota"])
    _add_cpuset_and_pids(resources, out)
    return out


def _add_cpuset_and_pids(resources: Mapping[str, Any], out: Settings) -> None:
    """cpuset and pids limits: the same file names on v1 and v2."""
    cpu = resources.get("cpu") or {}
    if cpu.get("cpus"):
        out.setdefault("cpuset", {})["cpuset.cpus"] = cpu["cpus"]
    if cpu.get("mems"):
        out.setdefault("cpuset", {})["cpuset.mems"] = cpu["mems"]
    pids = resources.get("pids") or {}
    if pids.get("limit") is not None:
        out.setdefault("pids", {})["pids.max"] = str(pids["limit"]) if pids["limit"] > 0 else "max"


def _v2_limits(resources: Mapping[str, Any]) -> Settings:
    """The same resources in cgroup2 file names."""
    out: Settings = {}
    memory = resources.get("memory") or {}
    limit = memory.get("limit")
    if limit is not None:
        out.setdefault("memory", {})["memory.max"] = str(limit) if limit > 0 else "max"
        swap = memory.get("swap")
        if swap is not None:
            out["memory"]["memory.swap.max"] = "max" if swap < 0 else str(max(swap - limit, 0))
    if memory.get("reservation") is not None:
        out.setdefault("memory", {})["memory.low"] = str(memory["reservation"])
    cpu = resources.get("cpu") or {}
    if cpu.get("shares"):
        out.setdefault("cpu", {})["cpu.weight"] = str(1 + ((cpu["shares"] - 2) * 9999) // 262142)
    if cpu.get("quota") or cpu.get("period"):
        quota = cpu.get("quota") or 0
        out.setdefault("cpu", {})["cpu.max"] = f"{quota if quota > 0 else 'max'} {cpu.get('period') or 100000}"
    _add_cpuset_and_pids(resources, out)
    return out


# Always allowed, after the spec's own rules, as runc does: mknod anything, use the basic devices and ptys.
DEFAULT_DEVICE_RULES = ["c *:* m", "b *:* m", "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm",
                        "c 1:9 rwm", "c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm", "c 136:* rwm"]


def _device_rules(resources: Mapping[str, Any], devices: list[dict]) -> list[tuple[str, str]]:
    """Spec device rules, then the defaults and linux.devices: ("devices.allow" | "devices.deny", rule)."""
    rules = []
    for device in resources.get("devices") or []:
        kind = device.get("type", "a")
        major = "*" if device.get("major") in (None, -1) else device["major"]
        minor = "*" if device.get("minor") in (None, -1) else device["minor"]
        access = device.get("access", "rwm")
        rule = "a" if kind == "a" and major == "*" and minor == "*" else f"{kind} {major}:{minor} {access}"
        rules.append(("devices.allow" if device.get("allow") else "devices.deny", rule))
    rules += [("devices.allow", rule) for rule in DEFAULT_DEVICE_RULES]
    rules += [("devices.allow", f"{d.get('type', 'c')} {d.get('major', 0)}:{d.get('minor', 0)} rwm")
              for d in devices]
    return rules


def create(cgroups_path: str, resources: Mapping[str, Any] | None = None,
           devices: list[dict] | None = None) -> list[str]:
    """Make the cgroup everywhere, apply `resources` (and allow `devices`, the spec's linux.devices).

    Returns the cgroup.procs files a process writes itself into to join.
    """
    found = hierarchies()
    relative = _relative(cgroups_path)
    resources = resources or {}
    for controller, mount in found.v1.items():
        if controller == "cpuset":
            _make_cpuset(mount, relative)
        else:
            os.makedirs(os.path.join(mount, relative), exist_ok=True)
    if found.v2:
        wanted = [c for c in V2_CONTROLLERS if c in _v2_limits(resources) and c not in found.v1]
        if wanted:
            _enable_v2_controllers(found.v2, relative, wanted)
        os.makedirs(os.path.join(found.v2, relative), exist_ok=True)
    set_limits(cgroups_path, resources)
    if "devices" in found.v1:
        directory = os.path.join(found.v1["devices"], relative)
        for name, rule in _device_rules(resources, devices or []):
            _write(directory, name, rule)
    return [os.path.join(d, "cgroup.procs") for d in directories(cgroups_path)]


def set_limits(cgroups_path: str, resources: Mapping[str, Any]) -> None:
    """Write the spec's linux.resources into the cgroup's files (at creation, and for `update`)."""
    found = hierarchies()
    relative = _relative(cgroups_path)
    v2_limits = _v2_limits(resources)
    for controller, files in _limits(resources).items():
        if controller in found.v1:
            directory = os.path.join(found.v1[controller], relative)
            items = list(files.items())
            try:
                for name, value in items:
                    _write_each(directory, name, value)
            except OSError as error:
                # v1 wants memory.limit_in_bytes <= memory.memsw.limit_in_bytes at every moment:
                # raising both means the swap limit first
                if error.errno != errno.EINVAL or controller != "memory":
                    raise
                for name, value in reversed(items):
                    _write_each(directory, name, value)
        elif found.v2 and controller in _v2_available(found.v2):
            directory = os.path.join(found.v2, relative)
            for name, value in v2_limits.get(controller, {}).items():
                _write_each(directory, name, value)
        else:
            raise OSError(errno.ENOTSUP, f"cgroup controller {controller!r} is not available")


def _write_each(directory: str, name: str, value: str | list[str]) -> None:
    """One write per value: a v1 blkio throttle file takes one device's rule at a time."""
    for line in value if isinstance(value, list) else [value]:
        _write(directory, name, line)


def join(procs_files: list[str], pid: int = 0) -> None:
    """Move `pid` (0: the caller) into each cgroup.procs file given."""
    for path in procs_files:
        with open(path, "w") as file:
            file.write(str(pid))


def procs_files_of(pid: int) -> list[str]:
    """The cgroup.procs files of the cgroups `pid` is in (for exec to join a running container)."""
    found = hierarchies()
    files = []
    with open(f"/proc/{pid}/cgroup") as lines:
        for line in lines:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            if controllers == "":
                mount = found.v2
            else:
                mount = next((found.v1[c] for c in controllers.split(",") if c in found.v1), None)
            if mount:
                files.append(os.path.join(mount, path.lstrip("/"), "cgroup.procs"))
    return files


def oom_kill_count(cgroups_path: str) -> int:
    """The cgroup's oom_kill counter; 0 when the cgroup or the counter does not exist."""
    found = hierarchies()
    relative = _relative(cgroups_path)
    if "memory" in found.v1:
        counters = os.path.join(found.v1["memory"], relative, "memory.oom_control")
    elif found.v2:
        counters = os.path.join(found.v2, relative, "memory.events")
    else:
        return 0
    try:
        with open(counters) as lines:
            for line in lines:
                key, _, value = line.partition(" ")
                if key == "oom_kill":
                    return int(value)
    except FileNotFoundError:
        pass
    return 0


def cgroup_pids(cgroups_path: str) -> list[int]:
    """Every process in the cgroup (read from the pids hierarchy, else any that tracks it)."""
    found = hierarchies()
    relative = _relative(cgroups_path)
    mount = found.v1.get("pids") or found.v2 or next(iter(found.v1.values()))
    try:
        return [int(line) for line in _read(os.path.join(mount, relative, "cgroup.procs")).split()]
    except FileNotFoundError:
        return []


def _stat_file(path: str) -> dict[str, int]:
    try:
        return {key: int(value) for key, value in (line.split() for line in _read(path).splitlines())}
    except FileNotFoundError:
        return {}


def _int_file(path: str) -> int | None:
    try:
        text = _read(path)
    except FileNotFoundError:
        return None
    return None if text == "max" else int(text)


def read_stats(cgroups_path: str) -> CgroupStats:
    """Memory, CPU and pid counts for `docker stats`, from whichever version holds each controller."""
    found = hierarchies()
    relative = _relative(cgroups_path)

    def where(controller: str) -> tuple[str, bool]:
        if controller in found.v1:
            return os.path.join(found.v1[controller], relative), True
        return os.path.join(found.v2 or "", relative), False

    memory_dir, v1 = where("memory")
    peak = None
    if v1:
        usage = _int_file(f"{memory_dir}/memory.usage_in_bytes") or 0
        limit = _int_file(f"{memory_dir}/memory.limit_in_bytes")
        limit = None if limit is not None and limit >= 1 << 62 else limit
        peak = _int_file(f"{memory_dir}/memory.max_usage_in_bytes")
    else:
        usage = _int_file(f"{memory_dir}/memory.current") or 0
        limit = _int_file(f"{memory_dir}/memory.max")
    cpu_dir, v1 = where("cpuacct")
    per_cpu = None
    if v1:
        cpu = _int_file(f"{cpu_dir}/cpuacct.usage") or 0
        try:
            per_cpu = [int(value) for value in _read(f"{cpu_dir}/cpuacct.usage_percpu").split()]
        except (OSError, ValueError):
            per_cpu = None
    else:
        cpu = _stat_file(f"{cpu_dir}/cpu.stat").get("usage_usec", 0) * 1000
    pids_dir, _ = where("pids")
    pids = _int_file(f"{pids_dir}/pids.current")
    return CgroupStats(usage, limit, _stat_file(f"{memory_dir}/memory.stat"), cpu,
                       pids if pids is not None else len(cgroup_pids(cgroups_path)), peak, per_cpu)


def remove_cgroup(cgroups_path: str, attempts: int = 50) -> None:
    """rmdir the cgroup in every hierarchy; waits briefly for exiting processes to leave."""
    for directory in directories(cgroups_path):
        for attempt in range(attempts):
            try:
                os.rmdir(directory)
                break
            except FileNotFoundError:
                break
            except OSError as error:
                if error.errno != errno.EBUSY or attempt == attempts - 1:
                    raise
                time.sleep(0.01)


FREEZE_WAIT_SECONDS = 5.0


def set_frozen(cgroups_path: str, frozen: bool) -> None:
    """Freeze (pause) or thaw every process of the cgroup; returns once the kernel reports it done.

    Uses the v1 freezer where it is mounted, else cgroup.freeze of the v2 tree.
    """
    found = hierarchies()
    relative = _relative(cgroups_path)
    if "freezer" in found.v1:
        directory = os.path.join(found.v1["freezer"], relative)
        wanted = "FROZEN" if frozen else "THAWED"
        _write(directory, "freezer.state", wanted)
        done = lambda: _read(os.path.join(directory, "freezer.state")) == wanted  # noqa: E731
    elif found.v2 is not None:
        directory = os.path.join(found.v2, relative)
        _write(directory, "cgroup.freeze", "1" if frozen else "0")
        done = lambda: ("frozen 1" in _read(os.path.join(directory, "cgroup.events"))) == frozen  # noqa: E731
    else:
        raise OSError(errno.ENOTSUP, "no freezer cgroup on this host")
    deadline = time.monotonic() + FREEZE_WAIT_SECONDS
    while not done():
        if time.monotonic() > deadline:
            raise OSError(errno.ETIMEDOUT, f"cgroup {cgroups_path} did not {'freeze' if frozen else 'thaw'}")
        time.sleep(0.001)


def prime_migration() -> None:
    """Start the RCU grace period that the next move of a process into a cgroup will wait for (blocks for it).

    The kernel makes the first cgroup.procs write after a quiet spell wait for a grace period
    (5-15 ms here); writes that come while it runs, or shortly after, share it. "Moving" ourselves
    into the cgroup we are already in starts one without changing anything, so a caller that knows
    a container start is coming can have that wait overlap its other work.
    """
    found = hierarchies()
    if found.v1:
        controller, mount = next(iter(found.v1.items()))
        key = controller
    elif found.v2 is not None:
        mount, key = found.v2, ""
    else:
        return
    with open("/proc/self/cgroup") as membership:
        for line in membership:
            _hierarchy, controllers, path = line.rstrip("\n").split(":", 2)
            if key in controllers.split(",") or (not key and not controllers):
                _write(os.path.join(mount, path.lstrip("/")), "cgroup.procs", "0")
                return
