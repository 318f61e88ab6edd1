"""Linux capabilities: names, the bounding and ambient sets (prctl) and capset(2)."""
from __future__ import annotations

import ctypes

from berth.linux.syscalls import (
    PR_CAP_AMBIENT,
    PR_CAP_AMBIENT_CLEAR_ALL,
    PR_CAP_AMBIENT_RAISE,
    PR_CAPBSET_DROP,
    _check,
    _libc,
    prctl,
)

NAMES = (
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
    "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
    "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
)
NUMBERS = {name: number for number, name in enumerate(NAMES)}

_VERSION_3 = 0x20080522


class _Header(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _Data(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


def last_cap() -> int:
    """The highest capability number the running kernel knows."""
    with open("/proc/sys/kernel/cap_last_cap") as file:
        return int(file.read())


def number(name: str) -> int:
    """CAP_xxx (or xxx) -> its number; ValueError for an unknown name."""
    key = name.upper() if name.upper().startswith("CAP_") else "CAP_" + name.upper()
    try:
        return NUMBERS[key]
    except KeyError:
        raise ValueError(f"unknown capability {name!r}") from None


def drop_bounding(keep: set[int]) -> None:
    """Remove every capability not in `keep` from this thread's bounding set."""
    for cap in range(last_cap() + 1):
        if cap not in keep:
            prctl(PR_CAPBSET_DROP, cap)


def _mask(caps: set[int], word: int) -> int:
    """The 32 capability bits of `caps` that the kernel's capset data holds in `word` (0 or 1)."""
    return sum(1 << (cap - 32 * word) for cap in caps if 32 * word <= cap < 32 * (word + 1))


def capset(effective: set[int], permitted: set[int], inheritable: set[int]) -> None:
    data = (_Data * 2)()
    for index in (0, 1):
        data[index] = _Data(_mask(effective, index), _mask(permitted, index), _mask(inheritable, index))
    _check(_libc.capset(ctypes.byref(_Header(_VERSION_3, 0)), data), "capset")


def set_ambient(caps: set[int]) -> set[int]:
    """Make the ambient set `caps`; returns those the kernel refused (not permitted and inheritable)."""
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
    refused = set()
    for cap in caps:
        try:
            prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap)
        except PermissionError:
            refused.add(cap)
    return refused
