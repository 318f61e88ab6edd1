"""libseccomp through ctypes: build a filter in memory, export it as BPF, and load either into the calling thread."""
from __future__ import annotations

import ctypes
import os
from functools import cache

from berth.linux.syscalls import prctl

ACT_KILL_THREAD = 0x00000000
ACT_KILL_PROCESS = 0x80000000
ACT_TRAP = 0x00030000
ACT_ERRNO = 0x00050000
ACT_TRACE = 0x7FF00000
ACT_LOG = 0x7FFC0000
ACT_ALLOW = 0x7FFF0000

CMP_NE, CMP_LT, CMP_LE, CMP_EQ, CMP_GE, CMP_GT, CMP_MASKED_EQ = range(1, 8)

_ATTR_CTL_NNP = 3
_NR_SCMP_ERROR = -1
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2
_BPF_INSTRUCTION_SIZE = 8  # struct sock_filter


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


class _ArgCmp(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int),
                ("datum_a", ctypes.c_uint64), ("datum_b", ctypes.c_uint64)]


@cache
def _lib() -> ctypes.CDLL:
    try:
        lib = ctypes.CDLL("libseccomp.so.2")  # by soname, as libc in syscalls
    except OSError:
        raise OSError("libseccomp is not installed") from None
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    lib.seccomp_load.argtypes = [ctypes.c_void_p]
    lib.seccomp_attr_set.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_uint32]
    lib.seccomp_arch_add.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
    lib.seccomp_arch_resolve_name.restype = ctypes.c_uint32
    lib.seccomp_arch_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int,
                                           ctypes.c_uint, ctypes.POINTER(_ArgCmp)]
    lib.seccomp_export_bpf.argtypes = [ctypes.c_void_p, ctypes.c_int]
    return lib


def load() -> None:
    """Load libseccomp into this process now (before a chroot or pivot_root would hide it)."""
    _lib()


def _check(result: int, what: str) -> None:
    if result < 0:
        raise OSError(-result, f"seccomp {what}: {os.strerror(-result)}")


def errno_action(errno: int) -> int:
    return ACT_ERRNO | (errno & 0xFFFF)


def trace_action(message: int) -> int:
    return ACT_TRACE | (message & 0xFFFF)


class Filter:
    """A seccomp filter under construction; `load()` installs it (keep the object alive till then)."""

    def __init__(self, default_action: int) -> None:
        self._lib = _lib()
        self._ctx = self._lib.seccomp_init(default_action)
        if not self._ctx:
            raise OSError(f"seccomp_init failed for default action {default_action:#x}")
        # The runtime sets no_new_privs itself when the spec asks for it.
        _check(self._lib.seccomp_attr_set(self._ctx, _ATTR_CTL_NNP, 0), "attr")

    def add_arch(self, name: str) -> None:
        """Add an architecture by libseccomp name ("x86", "x32", "aarch64", ...)."""
        token = self._lib.seccomp_arch_resolve_name(name.encode())
        if token == 0:
            raise ValueError(f"unknown seccomp architecture {name!r}")
        result = self._lib.seccomp_arch_add(self._ctx, token)
        if result != -17:  # EEXIST: already present (the native one)
            _check(result, f"arch {name}")

    def syscall_number(self, name: str) -> int | None:
        """The native number, or libseccomp's negative stand-in for a call only another of the
        filter's architectures has (`stime` on x86); None for a name libseccomp does not know."""
        number = self._lib.seccomp_syscall_resolve_name(name.encode())
        return None if number == _NR_SCMP_ERROR else number

    def add_rule(self, action: int, syscall: int, conditions: list[tuple[int, int, int, int]]) -> None:
        """Add a rule; each condition is (argument index, CMP_* operator, value, second value)."""
        array = (_ArgCmp * len(conditions))(*(_ArgCmp(*c) for c in conditions))
        _check(self._lib.seccomp_rule_add_array(self._ctx, action, syscall, len(conditions), array),
               f"rule for syscall {syscall}")

    def load(self) -> None:
        _check(self._lib.seccomp_load(self._ctx), "load")

    def export(self) -> bytes:
        """The filter as the BPF program the kernel runs (for Program, without libseccomp)."""
        read_end, write_end = os.pipe()
        try:
            _check(self._lib.seccomp_export_bpf(self._ctx, write_end), "export")
            os.close(write_end)
            write_end = -1
            chunks = []
            while chunk := os.read(read_end, 65536):
                chunks.append(chunk)
            return b"".join(chunks)
        finally:
            os.close(read_end)
            if write_end >= 0:
                os.close(write_end)

    def __del__(self) -> None:
        if getattr(self, "_ctx", None):
            self._lib.seccomp_release(self._ctx)
            self._ctx = None


class Program:
    """A BPF program exported from a Filter; `load()` installs it with prctl, as seccomp_load does."""

    def __init__(self, program: bytes) -> None:
        if not program or len(program) % _BPF_INSTRUCTION_SIZE:
            raise ValueError("a seccomp program is a non-empty array of 8-byte instructions")
        self._buffer = ctypes.create_string_buffer(program, len(program))
        self._fprog = _SockFprog(len(program) // _BPF_INSTRUCTION_SIZE, ctypes.addressof(self._buffer))

    def load(self) -> None:
        prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.addressof(self._fprog))
