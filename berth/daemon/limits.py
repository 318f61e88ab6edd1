"""HostConfig's resource limits, checked as dockerd checks them when a container is created or updated."""
from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from berth.daemon.apitypes import HostConfig
from berth.errdefs import InvalidArgument

MIN_MEMORY = 6 * 1024 * 1024


def normalize_limits(host_config: dict[str, Any]) -> None:
    """What dockerd stores for "no limit": PidsLimit 0 or below and MemorySwappiness -1 become null."""
    if (host_config.get("PidsLimit") or 0) <= 0:
        host_config["PidsLimit"] = None
    if host_config.get("MemorySwappiness") == -1:
        host_config["MemorySwappiness"] = None


def check_limits(host_config: Mapping[str, Any], *, update: bool = False) -> None:
    """Refuse limits the kernel would refuse or that contradict each other, in dockerd's words."""
    memory = host_config.get("Memory") or 0
    swap = host_config.get("MemorySwap") or 0
    reservation = host_config.get("MemoryReservation") or 0
    if memory and memory < MIN_MEMORY:
        raise InvalidArgument("Minimum memory limit allowed is 6MB")
    if memory > 0 and swap > 0 and swap < memory:
        raise InvalidArgument("Minimum memoryswap limit should be larger than memory limit, see usage")
    if not update and memory == 0 and swap > 0:
        raise InvalidArgument("You should always set the Memory limit when using Memoryswap limit, see usage")
    swappiness = host_config.get("MemorySwappiness")
    if swappiness is not None and not 0 <= swappiness <= 100:
        raise InvalidArgument(f"Invalid value: {swappiness}, valid memory swappiness range is 0-100")
    if 0 < reservation < MIN_MEMORY:
        raise InvalidArgument("Minimum memory reservation allowed is 6MB")
    if memory > 0 and reservation > 0 and memory < reservation:
        raise InvalidArgument("Minimum memory limit can not be less than memory reservation limit, see usage")
    oom_score_adj = host_config.get("OomScoreAdj") or 0
    if not -1000 <= oom_score_adj <= 1000:
        raise InvalidArgument(f"Invalid value {oom_score_adj}, range for oom score adj is [-1000, 1000]")
    _check_cpu(host_config)
    _check_cpuset(host_config.get("CpusetCpus") or "", "cpus", "CPUs", "/sys/devices/system/cpu/online")
    _check_cpuset(host_config.get("CpusetMems") or "", "mems", "memory nodes", "/sys/devices/system/node/online")


def _check_cpu(host_config: Mapping[str, Any]) -> None:
    nano_cpus = host_config.get("NanoCpus") or 0
    period = host_config.get("CpuPeriod") or 0
    quota = host_config.get("CpuQuota") or 0
    if nano_cpus and period:
        raise InvalidArgument("Conflicting options: Nano CPUs and CPU Period cannot both be set")
    if nano_cpus and quota:
        raise InvalidArgument("Conflicting options: Nano CPUs and CPU Quota cannot both be set")
    cpus = len(os.sched_getaffinity(0))
    if nano_cpus and not 10_000_000 <= nano_cpus <= cpus * 1_000_000_000:
        raise InvalidArgument(f"Range of CPUs is from 0.01 to {cpus}.00, as there are only {cpus} CPUs available")
    if period and not 1000 <= period <= 1_000_000:
        raise InvalidArgument("CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)")
    if 0 < quota < 1000:
        raise InvalidArgument("CPU cfs quota can not be less than 1ms (i.e. 1000)")


def _check_cpuset(text: str, field: str, what: str, online_file: str) -> None:
    if not text:
        return
    try:
        requested = parse_list(text)
    except ValueError:
        raise InvalidArgument(f"Invalid value {text} for cpuset {field}: invalid format: {text}") from None
    with open(online_file) as file:
        online = file.read().strip()
    if not requested <= parse_list(online):
        raise InvalidArgument(f"Requested {what} are not available - requested {text}, available: {online}")


def parse_list(text: str) -> set[int]:
    """The kernel's list format, `0-3,5`, as a set; ValueError for anything else."""
    numbers: set[int] = set()
    for part in text.split(","):
        first, dash, last = part.partition("-")
        if not first.isdigit() or (dash and not last.isdigit()):
            raise ValueError(text)
        low, high = int(first), int(last) if dash else int(first)
        if high < low:
            raise ValueError(text)
        numbers.update(range(low, high + 1))
    return numbers


def default_swap(host_config: HostConfig, memory_controller: Path = Path("/sys/fs/cgroup/memory")) -> None:
    """dockerd's --memory-swap when only --memory is given: memory and swap together may take twice
    the memory limit, where the kernel limits swap (cgroup v1's memsw files; on cgroup v2, as
    dockerd does, memory.swap.max is taken to be there). -1 stays unlimited."""
    memory = host_config.get("Memory") or 0
    limits_swap = not memory_controller.is_dir() or (memory_controller / "memory.memsw.limit_in_bytes").exists()
    if memory > 0 and not host_config.get("MemorySwap") and limits_swap:
        host_config["MemorySwap"] = 2 * memory


def discard_unsupported(host_config: HostConfig, memory_controller: Path = Path("/sys/fs/cgroup/memory"),
                        blkio_controller: Path = Path("/sys/fs/cgroup/blkio")) -> list[str]:
    """Drop the settings this kernel cannot apply and say so, as dockerd warns at create (it checks
    the range of a block I/O weight only when the kernel can apply one)."""
    warnings = []
    if host_config.get("BlkioWeight") and not (blkio_controller / "blkio.weight").exists():
        warnings.append("Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.")
        host_config["BlkioWeight"] = 0
    if host_config.get("BlkioWeight") and not 10 <= host_config["BlkioWeight"] <= 1000:
        raise InvalidArgument("Range of blkio weight is from 10 to 1000")
    if host_config.get("BlkioWeightDevice") and not (blkio_controller / "blkio.weight_device").exists():
        warnings.append("Your kernel does not support Block I/O weight_device or the cgroup is not mounted. "
                        "Weight-device discarded.")
        host_config["BlkioWeightDevice"] = None
    if host_config.get("OomKillDisable"):
        if not (memory_controller / "memory.oom_control").exists():
            warnings.append("Your kernel does not support OomKillDisable. OomKillDisable discarded.")
            host_config["OomKillDisable"] = False
        elif not host_config.get("Memory"):
            warnings.append("OOM killer is disabled for the container, but no memory limit is set, "
                            "this can result in the system running out of resources.")
    return warnings
