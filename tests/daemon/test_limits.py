"""Resource limits are checked as dockerd checks them (pure parts)."""
from __future__ import annotations

import os

import pytest

from berth.daemon.limits import check_limits, default_swap, discard_unsupported, normalize_limits, parse_list
from berth.errdefs import InvalidArgument

MB = 1024 * 1024
CPUS = len(os.sched_getaffinity(0))


@pytest.mark.parametrize("host_config, message", [
    ({"Memory": MB}, "Minimum memory limit allowed is 6MB"),
    ({"Memory": -5}, "Minimum memory limit allowed is 6MB"),
    ({"Memory": 64 * MB, "MemorySwap": 32 * MB}, "Minimum memoryswap limit should be larger than memory limit"),
    ({"MemorySwap": 64 * MB}, "You should always set the Memory limit when using Memoryswap limit"),
    ({"MemorySwappiness": 101}, "Invalid value: 101, valid memory swappiness range is 0-100"),
    ({"MemoryReservation": MB}, "Minimum memory reservation allowed is 6MB"),
    ({"Memory": 64 * MB, "MemoryReservation": 128 * MB}, "Minimum memory limit can not be less than memory reservation"),
    ({"NanoCpus": 500_000_000, "CpuPeriod": 50_000}, "Conflicting options: Nano CPUs and CPU Period cannot both be set"),
    ({"NanoCpus": 500_000_000, "CpuQuota": 50_000}, "Conflicting options: Nano CPUs and CPU Quota cannot both be set"),
    ({"NanoCpus": (CPUS + 1) * 1_000_000_000}, f"Range of CPUs is from 0.01 to {CPUS}.00, as there are only {CPUS} CPUs"),
    ({"CpuPeriod": 10}, "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)"),
    ({"CpuQuota": 10}, "CPU cfs quota can not be less than 1ms (i.e. 1000)"),
    ({"CpusetCpus": "0-"}, "Invalid value 0- for cpuset cpus: invalid format: 0-"),
    ({"CpusetCpus": "4096"}, "Requested CPUs are not available - requested 4096, available: "),
    ({"CpusetMems": "512"}, "Requested memory nodes are not available - requested 512, available: "),
])
def test_limits_dockerd_refuses(host_config, message):
    with pytest.raises(InvalidArgument) as refused:
        check_limits(host_config)
    assert str(refused.value).startswith(message)


@pytest.mark.parametrize("host_config", [
    {}, {"Memory": 64 * MB, "MemorySwap": -1}, {"CpuQuota": -1}, {"MemoryReservation": -1},
    {"MemorySwappiness": 0}, {"CpusetCpus": "0", "CpusetMems": "0"}, {"CpuShares": 2},
])
def test_limits_dockerd_accepts(host_config):
    check_limits(host_config)


def test_an_update_may_set_swap_without_memory():
    check_limits({"MemorySwap": 64 * MB}, update=True)


def test_no_limit_is_stored_as_null():
    host_config = {"PidsLimit": -1, "MemorySwappiness": -1}
    normalize_limits(host_config)
    assert host_config == {"PidsLimit": None, "MemorySwappiness": None}


def test_cpu_lists_use_the_kernels_format():
    assert parse_list("0-2,5") == {0, 1, 2, 5}
    for bad in ("", "a", "2-1", "1,", "-1"):
        with pytest.raises(ValueError):
            parse_list(bad)


def test_settings_the_kernel_cannot_apply_are_dropped_with_dockerds_warnings(tmp_path):
    memory, blkio = tmp_path / "memory", tmp_path / "blkio"
    memory.mkdir()
    blkio.mkdir()
    host_config = {"BlkioWeight": 500, "OomKillDisable": True}
    warnings = discard_unsupported(host_config, memory, blkio)
    assert warnings == ["Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.",
                        "Your kernel does not support OomKillDisable. OomKillDisable discarded."]
    assert host_config == {"BlkioWeight": 0, "OomKillDisable": False}
    (blkio / "blkio.weight").touch()
    (memory / "memory.oom_control").touch()
    host_config = {"BlkioWeight": 500, "OomKillDisable": True, "Memory": 64 * MB}
    assert discard_unsupported(host_config, memory, blkio) == [] and host_config["BlkioWeight"] == 500
    with pytest.raises(InvalidArgument, match="Range of blkio weight is from 10 to 1000"):
        discard_unsupported({"BlkioWeight": 5}, memory, blkio)


def test_a_memory_limit_alone_gets_dockerds_swap_limit_where_the_kernel_limits_swap(tmp_path):
    memory = tmp_path / "memory"
    memory.mkdir()
    given = [{"Memory": 64 * MB}, {"Memory": 64 * MB, "MemorySwap": -1}, {"Memory": 64 * MB, "MemorySwap": 100 * MB},
             {"Memory": 0, "MemorySwap": 0}]

    def defaulted(controller):
        configs = [dict(host_config) for host_config in given]
        for host_config in configs:
            default_swap(host_config, controller)
        return [host_config["MemorySwap"] if "MemorySwap" in host_config else None for host_config in configs]

    assert defaulted(memory) == [None, -1, 100 * MB, 0]  # cgroup v1 without memsw: no swap limit to set
    (memory / "memory.memsw.limit_in_bytes").touch()
    assert defaulted(memory) == [128 * MB, -1, 100 * MB, 0]
    assert defaulted(tmp_path / "absent") == [128 * MB, -1, 100 * MB, 0]  # cgroup v2: memory.swap.max
