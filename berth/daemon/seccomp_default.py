"""berth's default seccomp profile: an allow list, written in Docker's profile format.

A container may make the system calls that ordinary programs make on their own files, memory,
processes, sockets and clocks; any other call fails with EPERM. A call that reaches state the
container does not own (mounts, namespaces, modules, clocks, the boot loader, the kernel log) is
allowed only while the container holds the capability that makes it legitimate. The profile is at
least as strict as Docker's default one, for every set of capabilities, and stricter where berth
chose to be:
- io_uring is never allowed: its requests run outside the filter's sight;
- process_vm_readv/writev need CAP_SYS_PTRACE, as kcmp and pidfd_getfd do;
- socket refuses AF_VSOCK, name_to_handle_at needs CAP_SYS_ADMIN, bpf and perf_event_open need
  CAP_SYS_ADMIN (not CAP_BPF or CAP_PERFMON);
- personality takes only the execution domains Linux programs use, never flags such as
  ADDR_NO_RANDOMIZE (which would switch off address randomisation for the next program).
"""
from __future__ import annotations

import errno
from typing import Any

from berth.daemon.seccomp_profile import NATIVE_ARCHES

_FILES = [
    "access", "faccessat", "faccessat2", "chdir", "fchdir", "getcwd", "chmod", "fchmod", "fchmodat",
    "chown", "chown32", "fchown", "fchown32", "fchownat", "lchown", "lchown32", "umask",
    "open", "openat", "openat2", "creat", "close", "close_range", "dup", "dup2", "dup3", "fcntl", "fcntl64",
    "flock", "ioctl", "read", "readv", "pread64", "preadv", "preadv2", "write", "writev", "pwrite64",
    "pwritev", "pwritev2", "lseek", "_llseek", "sendfile", "sendfile64", "copy_file_range", "splice", "tee",
    "vmsplice", "readahead", "fadvise64", "fadvise64_64", "fallocate", "truncate", "truncate64",
    "ftruncate", "ftruncate64", "fsync", "fdatasync", "sync", "syncfs", "sync_file_range",
    "stat", "stat64", "lstat", "lstat64", "fstat", "fstat64", "fstatat64", "newfstatat", "statx",
    "statfs", "statfs64", "fstatfs", "fstatfs64", "getdents", "getdents64",
    "mkdir", "mkdirat", "mknod", "mknodat", "rmdir", "link", "linkat", "symlink", "symlinkat", "readlink",
    "readlinkat", "rename", "renameat", "renameat2", "unlink", "unlinkat",
    "utime", "utimes", "utimensat", "utimensat_time64", "futimesat",
    "getxattr", "lgetxattr", "fgetxattr", "setxattr", "lsetxattr", "fsetxattr", "listxattr", "llistxattr",
    "flistxattr", "removexattr", "lremovexattr", "fremovexattr",
    "inotify_init", "inotify_init1", "inotify_add_watch", "inotify_rm_watch", "fanotify_mark",
    "memfd_create", "memfd_secret",
]
_WAITING = [
    "select", "_newselect", "pselect6", "pselect6_time64", "poll", "ppoll", "ppoll_time64",
    "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_wait", "epoll_wait_old",
    "epoll_pwait", "epoll_pwait2", "eventfd", "eventfd2", "signalfd", "signalfd4", "timerfd_create",
    "timerfd_settime", "timerfd_settime64", "timerfd_gettime", "timerfd_gettime64", "pipe", "pipe2",
    "io_setup", "io_destroy", "io_submit", "io_cancel", "io_getevents", "io_pgetevents", "io_pgetevents_time64",
]
_MEMORY = [
    "brk", "mmap", "mmap2", "munmap", "mremap", "mprotect", "madvise", "mincore", "mlock", "mlock2",
    "mlockall", "munlock", "munlockall", "msync", "remap_file_pages", "membarrier", "process_mrelease",
]
_PROCESSES = [
    "fork", "vfork", "execve", "execveat", "exit", "exit_group", "wait4", "waitid", "waitpid",
    "kill", "tkill", "tgkill", "pidfd_open", "pidfd_send_signal",
    "getpid", "getppid", "gettid", "getpgid", "setpgid", "getpgrp", "getsid", "setsid",
    "set_tid_address", "set_robust_list", "get_robust_list", "rseq", "futex", "futex_time64", "futex_waitv",
    "restart_syscall", "prctl", "seccomp", "capget", "capset", "ptrace",
    "landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self",
    "getrlimit", "setrlimit", "ugetrlimit", "prlimit64", "getrusage", "getpriority", "setpriority",
    "ioprio_get", "ioprio_set", "get_thread_area", "set_thread_area",
]
_IDENTITY = [
    "getuid", "getuid32", "geteuid", "geteuid32", "getgid", "getgid32", "getegid", "getegid32",
    "getresuid", "getresuid32", "getresgid", "getresgid32", "getgroups", "getgroups32",
    "setuid", "setuid32", "setgid", "setgid32", "setreuid", "setreuid32", "setregid", "setregid32",
    "setresuid", "setresuid32", "setresgid", "setresgid32", "setfsuid", "setfsuid32", "setfsgid",
    "setfsgid32", "setgroups", "setgroups32",
]
_SIGNALS_AND_TIME = [
    "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigpending", "rt_sigsuspend", "rt_sigtimedwait",
    "rt_sigtimedwait_time64", "rt_sigqueueinfo", "rt_tgsigqueueinfo", "sigaltstack", "sigprocmask",
    "sigreturn", "pause", "alarm", "getitimer", "setitimer",
    "time", "gettimeofday", "clock_gettime", "clock_gettime64", "clock_getres", "clock_getres_time64",
    "clock_nanosleep", "clock_nanosleep_time64", "nanosleep", "adjtimex", "clock_adjtime", "clock_adjtime64",
    "times", "timer_create", "timer_delete", "timer_settime", "timer_settime64", "timer_gettime",
    "timer_gettime64", "timer_getoverrun",
    "sched_yield", "sched_getaffinity", "sched_setaffinity", "sched_getattr", "sched_setattr",
    "sched_getparam", "sched_setparam", "sched_getscheduler", "sched_setscheduler", "sched_get_priority_max",
    "sched_get_priority_min", "sched_rr_get_interval", "sched_rr_get_interval_time64", "getcpu",
    "uname", "sysinfo", "getrandom",
]
_SOCKETS_AND_IPC = [
    "socketpair", "bind", "connect", "listen", "accept", "accept4", "getsockname", "getpeername",
    "getsockopt", "setsockopt", "send", "sendto", "sendmsg", "sendmmsg", "recv", "recvfrom", "recvmsg",
    "recvmmsg", "recvmmsg_time64", "shutdown", "socketcall",
    "ipc", "msgget", "msgctl", "msgsnd", "msgrcv", "semget", "semctl", "semop", "semtimedop",
    "semtimedop_time64", "shmget", "shmat", "shmdt", "shmctl", "mq_open", "mq_unlink", "mq_timedsend",
    "mq_timedsend_time64", "mq_timedreceive", "mq_timedreceive_time64", "mq_notify", "mq_getsetattr",
]

# Allowed only while the container holds the capability.
_WITH_CAPABILITY: dict[str, list[str]] = {
    "CAP_SYS_ADMIN": ["mount", "umount", "umount2", "mount_setattr", "move_mount", "open_tree", "fsopen",
                      "fsconfig", "fsmount", "fspick", "unshare", "setns", "clone", "clone3", "sethostname",
                      "setdomainname", "bpf", "perf_event_open", "fanotify_init", "lookup_dcookie", "quotactl",
                      "quotactl_fd", "name_to_handle_at", "syslog"],
    "CAP_SYS_PTRACE": ["kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev"],
    "CAP_DAC_READ_SEARCH": ["open_by_handle_at"],
    "CAP_SYS_BOOT": ["reboot"],
    "CAP_SYS_CHROOT": ["chroot"],
    "CAP_SYS_MODULE": ["init_module", "finit_module", "delete_module"],
    "CAP_SYS_PACCT": ["acct"],
    "CAP_SYS_RAWIO": ["iopl", "ioperm"],
    "CAP_SYS_TIME": ["settimeofday", "stime", "clock_settime"],
    "CAP_SYS_TTY_CONFIG": ["vhangup"],
    "CAP_SYS_NICE": ["mbind", "get_mempolicy", "set_mempolicy"],
    "CAP_SYSLOG": ["syslog"],
}

# Allowed on one architecture only (Go's names, as Docker's profiles give them).
_ON_ARCHITECTURE: dict[tuple[str, ...], list[str]] = {
    ("amd64", "x32"): ["arch_prctl"],
    ("amd64", "x32", "x86"): ["modify_ldt"],
    ("arm", "arm64"): ["arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "breakpoint", "cacheflush",
                       "set_tls"],
    ("ppc64le",): ["sync_file_range2"],
    ("s390", "s390x"): ["s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr"],
    ("riscv64",): ["riscv_flush_icache"],
}

# personality(2) with one of Linux's execution domains (PER_LINUX, PER_LINUX32, each with UNAME26),
# or 0xffffffff, which only reads the current one.
_PERSONALITIES = (0x0, 0x8, 0x20000, 0x20008, 0xFFFFFFFF)
_AF_VSOCK = 40
# clone(2)'s flags that make namespaces: CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET.
_CLONE_NAMESPACES = 0x7E020000


def _allow(names: list[str], **rule: Any) -> dict[str, Any]:
    return {"names": names, "action": "SCMP_ACT_ALLOW", **rule}


def _default_profile() -> dict[str, Any]:
    plain = [*_FILES, *_WAITING, *_MEMORY, *_PROCESSES, *_IDENTITY, *_SIGNALS_AND_TIME, *_SOCKETS_AND_IPC]
    syscalls = [_allow(plain),
                _allow(["socket"], args=[{"index": 0, "value": _AF_VSOCK, "op": "SCMP_CMP_NE"}])]
    syscalls += [_allow(["personality"], args=[{"index": 0, "value": value, "op": "SCMP_CMP_EQ"}])
                 for value in _PERSONALITIES]
    syscalls += [_allow(names, includes={"arches": list(arches)}) for arches, names in _ON_ARCHITECTURE.items()]
    syscalls += [_allow(names, includes={"caps": [capability]}) for capability, names in _WITH_CAPABILITY.items()]
    # Without CAP_SYS_ADMIN: clone without namespace flags (s390 passes the flags second), and
    # clone3, whose flags are out of a filter's reach, answered as a kernel without it so that libc
    # falls back to clone.
    no_namespaces = {"value": _CLONE_NAMESPACES, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}
    syscalls.append(_allow(["clone"], args=[{"index": 0, **no_namespaces}],
                           excludes={"caps": ["CAP_SYS_ADMIN"], "arches": ["s390", "s390x"]}))
    syscalls.append(_allow(["clone"], args=[{"index": 1, **no_namespaces}],
                           includes={"arches": ["s390", "s390x"]}, excludes={"caps": ["CAP_SYS_ADMIN"]}))
    syscalls.append({"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": errno.ENOSYS,
                     "excludes": {"caps": ["CAP_SYS_ADMIN"]}})
    return {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": errno.EPERM,
            "archMap": [{"architecture": arches[0], "subArchitectures": arches[1:]}
                        for arches in NATIVE_ARCHES.values()],
            "syscalls": syscalls}


DEFAULT_PROFILE = _default_profile()
