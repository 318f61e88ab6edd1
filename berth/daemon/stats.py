"""`GET /containers/{id}/stats`: resource use read from a container's cgroups, in Docker's JSON shape."""
from __future__ import annotations

import os
from typing import Any

from berth.runtime import cgroups
from berth.timestamps import ZERO_TIME, rfc3339_nano

_TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def _system_cpu_ns() -> int:
    """All CPUs' time since boot, as the `cpu` line of /proc/stat counts it (user..steal)."""
    with open("/proc/stat") as stat:
        fields = stat.readline().split()[1:9]
    return sum(int(field) for field in fields) * 1_000_000_000 // _TICKS_PER_SECOND


def _host_memory() -> int:
    with open("/proc/meminfo") as meminfo:
        return int(meminfo.readline().split()[1]) * 1024  # MemTotal comes first


def empty_cpu() -> dict[str, Any]:
    return {"cpu_usage": {"total_usage": 0, "usage_in_kernelmode": 0, "usage_in_usermode": 0},
            "system_cpu_usage": 0, "online_cpus": 0,
            "throttling_data": {"periods": 0, "throttled_periods": 0, "throttled_time": 0}}


_NET_DEV_FIELDS = ("rx_bytes", "rx_packets", "rx_errors", "rx_dropped")  # then tx_ at offset 8 of /proc/net/dev


def network_counters(pid: int) -> dict[str, dict[str, int]]:
    """Each interface's traffic counters (but loopback's) in the network namespace of process `pid`,
    as `docker stats` shows them; {} when the process is gone."""
    try:
        with open(f"/proc/{pid}/net/dev") as dev:
            lines = dev.readlines()[2:]
    except OSError:
        return {}
    counters = {}
    for line in lines:
        name, _, numbers = line.partition(":")
        values = [int(value) for value in numbers.split()]
        if name.strip() != "lo" and len(values) >= 12:
            counters[name.strip()] = {**dict(zip(_NET_DEV_FIELDS, values[0:4], strict=True)),
                                      **{field.replace("rx", "tx"): value
                                         for field, value in zip(_NET_DEV_FIELDS, values[8:12], strict=True)}}
    return counters


def sample(name: str, container_id: str, stats: cgroups.CgroupStats | None,
           previous: dict[str, Any] | None, networks: dict[str, dict[str, int]] | None = None) -> dict[str, Any]:
    """One reading in Docker's shape, from the runtime's `stats` (None for a stopped container: Docker's
    all-zero reading), the reading before it (for CPU %) and, for a container with interfaces of its
    own, their counters."""
    reading: dict[str, Any] = {
        "read": ZERO_TIME, "preread": previous["read"] if previous else ZERO_TIME,
        "pids_stats": {}, "blkio_stats": {"io_service_bytes_recursive": None, "io_serviced_recursive": None,
                                          "io_queue_recursive": None, "io_service_time_recursive": None,
                                          "io_wait_time_recursive": None, "io_merged_recursive": None,
                                          "io_time_recursive": None, "sectors_recursive": None},
        "num_procs": 0, "storage_stats": {}, "cpu_stats": empty_cpu(),
        "precpu_stats": previous["cpu_stats"] if previous else empty_cpu(),
        "memory_stats": {}, "name": "/" + name, "id": container_id,
    }
    if stats is None:
        return reading
    reading["read"] = rfc3339_nano()
    reading["pids_stats"] = {"current": stats.pids}
    usage: dict[str, Any] = {"total_usage": stats.cpu_usage_ns}
    if stats.cpu_usage_per_cpu_ns is not None:
        usage["percpu_usage"] = stats.cpu_usage_per_cpu_ns
    reading["cpu_stats"] = {
        "cpu_usage": {**usage, "usage_in_kernelmode": 0, "usage_in_usermode": 0},
        "system_cpu_usage": _system_cpu_ns(), "online_cpus": os.cpu_count() or 1,
        "throttling_data": {"periods": 0, "throttled_periods": 0, "throttled_time": 0},
    }
    memory: dict[str, Any] = {"usage": stats.memory_usage}
    if stats.memory_max_usage is not None:
        memory["max_usage"] = stats.memory_max_usage
    reading["memory_stats"] = {**memory, "stats": stats.memory_stat, "limit": stats.memory_limit or _host_memory()}
    if networks:
        reading["networks"] = networks
    return reading
