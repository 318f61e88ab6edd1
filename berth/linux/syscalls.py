"""Thin ctypes wrappers over the system calls berth needs; each raises OSError on failure."""
from __future__ import annotations

import ctypes
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

# By soname, not ctypes.util.find_library: that drags in subprocess and threading, and every
# monitor forked from the zygote would pay for their pages.
_libc = ctypes.CDLL("libc.so.6", use_errno=True)
_MACHINE = os.uname().machine

CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
CLONE_NEWTIME = 0x00000080

MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_SYNCHRONOUS = 0x10
MS_REMOUNT = 0x20
MS_MANDLOCK = 0x40
MS_DIRSYNC = 0x80
MS_NOSYMFOLLOW = 0x100
MS_NOATIME = 0x400
MS_NODIRATIME = 0x800
MS_BIND = 0x1000
MS_REC = 0x4000
MS_SILENT = 0x8000
MS_UNBINDABLE = 0x20000
MS_PRIVATE = 0x40000
MS_SLAVE = 0x80000
MS_SHARED = 0x100000
MS_RELATIME = 0x200000
MS_STRICTATIME = 0x1000000
MS_LAZYTIME = 0x2000000

MNT_DETACH = 0x2

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_KEEPCAPS = 8
PR_CAPBSET_DROP = 24
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_RAISE = 2
PR_CAP_AMBIENT_CLEAR_ALL = 4

CLOSE_RANGE_CLOEXEC = 0x4

_SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "riscv64": 41, "ppc64le": 203, "s390x": 217}


def _check(result: int, what: str) -> int:
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")
    return result


def unshare(flags: int) -> None:
    _check(_libc.unshare(ctypes.c_int(flags)), "unshare")


def setns(fd: int, nstype: int = 0) -> None:
    _check(_libc.setns(ctypes.c_int(fd), ctypes.c_int(nstype)), "setns")


def mount(source: str | None, target: str, fstype: str | None, flags: int = 0, data: str | None = None) -> None:
    _check(
        _libc.mount(
            source.encode() if source is not None else None,
            target.encode(),
            fstype.encode() if fstype is not None else None,
            ctypes.c_ulong(flags),
            data.encode() if data is not None else None,
        ),
        f"mount {target}",
    )


def umount2(target: str, flags: int = 0) -> None:
    _check(_libc.umount2(target.encode(), ctypes.c_int(flags)), f"umount {target}")


def pivot_root(new_root: str, put_old: str) -> None:
    number = _SYS_PIVOT_ROOT[_MACHINE]
    _check(_libc.syscall(ctypes.c_long(number), new_root.encode(), put_old.encode()), "pivot_root")


def sethostname(name: str) -> None:
    raw = name.encode()
    _check(_libc.sethostname(raw, ctypes.c_size_t(len(raw))), "sethostname")


def setdomainname(name: str) -> None:
    raw = name.encode()
    _check(_libc.setdomainname(raw, ctypes.c_size_t(len(raw))), "setdomainname")


_libc.prctl.argtypes = (ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong)


def prctl(option: int, arg2: int = 0, arg3: int = 0, arg4: int = 0, arg5: int = 0) -> int:
    # ctypes converts the ints itself (argtypes): a monitor calls this once after it was forked, and
    # each Python object it makes on the way is a page copied from the zygote
    return _check(_libc.prctl(option, arg2, arg3, arg4, arg5), "prctl")


def close_range(first: int, last: int = 0xFFFFFFFF, flags: int = 0) -> None:
    _check(_libc.close_range(ctypes.c_uint(first), ctypes.c_uint(last), ctypes.c_int(flags)), "close_range")


def close_all_but(keep: Iterable[int]) -> None:
    """Close every descriptor of this process except those in `keep`."""
    first = 0
    for fd in sorted(set(keep)):
        if fd > first:
            close_range(first, fd - 1)
        first = fd + 1
    close_range(first)


class _KernelSigaction(ctypes.Structure):
    """The kernel's `struct sigaction` on x86_64 and aarch64 (not glibc's)."""

    _fields_ = [("handler", ctypes.c_ulong), ("flags", ctypes.c_ulong), ("restorer", ctypes.c_ulong),
                ("mask", ctypes.c_ulong)]


_SYS_RT_SIGACTION = {"x86_64": 13, "aarch64": 134}[_MACHINE]
_SIGNAL_SET_SIZE = 8
LAST_SIGNAL = 64


def default_all_signals() -> None:
    """Reset every catchable signal, glibc's reserved 32 and 33 included, to its default action.

    A process inherits ignored signals across exec; Python and its callers may ignore some that a
    container's process must not. glibc refuses to touch 32 and 33, so this talks to the kernel.
    """
    default = _KernelSigaction(0, 0, 0, 0)
    for number in range(1, LAST_SIGNAL + 1):
        if number in (9, 19):  # SIGKILL, SIGSTOP
            continue
        _libc.syscall(ctypes.c_long(_SYS_RT_SIGACTION), ctypes.c_int(number), ctypes.byref(default), None,
                      ctypes.c_size_t(_SIGNAL_SET_SIZE))
