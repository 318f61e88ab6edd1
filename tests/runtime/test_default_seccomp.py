"""berth's default seccomp profile as the kernel applies it: compiled as berthd compiles it for a
container with Docker's default capabilities, installed in a child of the test, which then makes
raw system calls."""
from __future__ import annotations

import ctypes
import errno
import os

from berth.daemon.seccomp_default import DEFAULT_PROFILE
from berth.daemon.seccomp_profile import oci_seccomp
from berth.daemon.spec import DEFAULT_CAPABILITIES
from berth.linux import seccomp as lib
from berth.linux import syscalls as sc
from berth.runtime.seccomp import compile_program

_libc = ctypes.CDLL(None, use_errno=True)
ADDR_NO_RANDOMIZE = 0x0040000
PER_QUERY = 0xFFFFFFFF
SYSFS_FS_COUNT = 3


def errno_under_default_profile(name: str, *args: int) -> int:
    """The errno of the call `name(*args)` under the default filter; 0 if the call succeeded."""
    number = lib.Filter(lib.ACT_ALLOW).syscall_number(name)
    assert number is not None and number >= 0, name
    program = compile_program(oci_seccomp(DEFAULT_PROFILE, DEFAULT_CAPABILITIES))
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through its exit status
        code = 255
        try:
            sc.prctl(sc.PR_SET_NO_NEW_PRIVS, 1)
            lib.Program(program).load()
            result = _libc.syscall(ctypes.c_long(number), *(ctypes.c_ulong(arg) for arg in args))
            code = 0 if result >= 0 else ctypes.get_errno()
        finally:
            os._exit(code)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def test_personality_may_read_the_domain_but_not_switch_off_address_randomisation():
    assert errno_under_default_profile("personality", PER_QUERY) == 0
    assert errno_under_default_profile("personality", ADDR_NO_RANDOMIZE) == errno.EPERM


def test_calls_off_the_allow_list_are_refused_and_ordinary_ones_pass():
    assert errno_under_default_profile("sysfs", SYSFS_FS_COUNT) == errno.EPERM
    assert errno_under_default_profile("io_uring_setup", 1, 0) == errno.EPERM
    assert errno_under_default_profile("getpid") == 0
    assert errno_under_default_profile("clone3", 0, 0) == errno.ENOSYS  # libc then falls back to clone
