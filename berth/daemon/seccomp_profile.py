"""Seccomp profiles in Docker's format (`--security-opt seccomp=profile.json`) and berth's default one,
turned into the OCI spec's `linux.seccomp` for a container's capabilities.

berth's default profile is a deny list: every system call is allowed except the ones that reach
kernel state a container does not own (keyrings, modules, clocks, the boot loader, io_uring) or that
open new privilege (user namespaces, mounts, bpf). Most of those are refused by the capability
check too; the filter also closes the ones no capability guards, such as `unshare(CLONE_NEWUSER)` and
`keyctl`. As in Docker's profile, a rule no longer applies once the container holds the capability
that makes the call legitimate (`--cap-add SYS_ADMIN` allows mount and unshare).
"""
from __future__ import annotations

import errno
import json
import platform
from typing import Any

from berth.errdefs import InvalidArgument


class ProfileError(InvalidArgument, ValueError):
    pass


ACTIONS = {"SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_TRAP",
           "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG"}
OPERATORS = {"SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT",
             "SCMP_CMP_MASKED_EQ"}

# The machine's own architecture and the ones its kernel also runs binaries of.
_NATIVE_ARCHES = {
    "x86_64": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
    "aarch64": ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"],
    "ppc64le": ["SCMP_ARCH_PPC64LE"],
    "s390x": ["SCMP_ARCH_S390X", "SCMP_ARCH_S390"],
    "riscv64": ["SCMP_ARCH_RISCV64"],
}

# Namespace flags of clone(2); without CAP_SYS_ADMIN a container may not make new namespaces.
_CLONE_NAMESPACE_FLAGS = (0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000)

# System calls refused unless the container holds the capability ("" = refused always).
_REFUSED_WITHOUT: dict[str, list[str]] = {
    "": ["add_key", "keyctl", "request_key", "io_uring_setup", "io_uring_enter", "io_uring_register",
         "uselib", "vm86", "vm86old", "_sysctl", "nfsservctl"],
    "CAP_SYS_ADMIN": ["mount", "umount", "umount2", "pivot_root", "setns", "unshare", "bpf", "fanotify_init",
                      "lookup_dcookie", "quotactl", "quotactl_fd", "swapon", "swapoff", "fsopen", "fsconfig",
                      "fsmount", "fspick", "move_mount", "open_tree", "mount_setattr", "perf_event_open"],
    "CAP_SYS_BOOT": ["reboot", "kexec_load", "kexec_file_load"],
    "CAP_SYS_MODULE": ["init_module", "finit_module", "delete_module", "create_module", "query_module",
                       "get_kernel_syms"],
    "CAP_SYS_TIME": ["settimeofday", "stime", "clock_settime", "clock_settime64"],
    "CAP_SYS_RAWIO": ["iopl", "ioperm"],
    "CAP_SYS_PACCT": ["acct"],
    "CAP_SYS_PTRACE": ["process_vm_readv", "process_vm_writev", "kcmp", "userfaultfd"],
    "CAP_SYS_NICE": ["mbind", "set_mempolicy", "get_mempolicy", "migrate_pages", "move_pages"],
    "CAP_SYSLOG": ["syslog"],
    "CAP_DAC_READ_SEARCH": ["open_by_handle_at"],
}


def _default_profile() -> dict[str, Any]:
    def refuse(names: list[str], capability: str, **rule: Any) -> dict[str, Any]:
        entry = {"names": names, "action": "SCMP_ACT_ERRNO", **rule}
        if capability:
            entry["excludes"] = {"caps": [capability]}
        return entry

    syscalls = [refuse(names, capability) for capability, names in _REFUSED_WITHOUT.items()]
    syscalls += [refuse(["clone"], "CAP_SYS_ADMIN", args=[{"index": 0, "value": flag, "valueTwo": flag,
                                                          "op": "SCMP_CMP_MASKED_EQ"}])
                 for flag in _CLONE_NAMESPACE_FLAGS]
    # clone3 passes its flags in memory, out of a filter's reach: ENOSYS makes libc fall back to clone.
    syscalls.append(refuse(["clone3"], "CAP_SYS_ADMIN", errnoRet=errno.ENOSYS))
    return {"defaultAction": "SCMP_ACT_ALLOW",
            "archMap": [{"architecture": arches[0], "subArchitectures": arches[1:]}
                        for arches in _NATIVE_ARCHES.values()],
            "syscalls": syscalls}


DEFAULT_PROFILE = _default_profile()


def load_profile(text: str) -> dict[str, Any]:
    """Parse and check a profile sent as `seccomp=<json>`; the error says what is wrong."""
    try:
        profile = json.loads(text)
    except ValueError as error:
        raise ProfileError(f"Decoding seccomp profile failed: {error}") from None
    if not isinstance(profile, dict):
        raise ProfileError("Decoding seccomp profile failed: the profile must be a JSON object")
    _check_action(profile.get("defaultAction", ""))
    for rule in profile.get("syscalls") or []:
        _check_action(rule.get("action", ""))
        if not rule.get("names") and not rule.get("name"):
            raise ProfileError("seccomp profile: a syscalls entry names no system call")
        for arg in rule.get("args") or []:
            if arg.get("op") not in OPERATORS:
                raise ProfileError(f"seccomp profile: {arg.get('op')!r} is not a valid operator")
    return profile


def _check_action(action: str) -> None:
    if action not in ACTIONS:
        raise ProfileError(f"seccomp profile: {action!r} is not a valid action")


def oci_seccomp(profile: dict[str, Any], capabilities: list[str], machine: str | None = None) -> dict[str, Any]:
    """The spec's linux.seccomp: the profile's rules that apply to this architecture and these
    capabilities (a rule's `includes` must all be held, none of its `excludes`)."""
    machine = machine or platform.machine()
    native = _NATIVE_ARCHES.get(machine, [])[:1]
    architectures = list(profile.get("architectures") or [])
    for entry in profile.get("archMap") or []:
        if entry.get("architecture") in native:
            architectures += [entry["architecture"], *(entry.get("subArchitectures") or [])]
    held = set(capabilities)
    syscalls = []
    for rule in profile.get("syscalls") or []:
        includes, excludes = rule.get("includes") or {}, rule.get("excludes") or {}
        if not held.issuperset(includes.get("caps") or []) or held.intersection(excludes.get("caps") or []):
            continue
        if includes.get("arches") and not set(includes["arches"]) & {machine, *_go_arches(machine)}:
            continue
        if set(excludes.get("arches") or []) & {machine, *_go_arches(machine)}:
            continue
        entry = {"names": rule.get("names") or [rule["name"]], "action": rule["action"]}
        for key in ("errnoRet", "args"):
            if rule.get(key) is not None:
                entry[key] = rule[key]
        syscalls.append(entry)
    section: dict[str, Any] = {"defaultAction": profile["defaultAction"], "architectures": architectures,
                               "syscalls": syscalls}
    if profile.get("defaultErrnoRet") is not None:
        section["defaultErrnoRet"] = profile["defaultErrnoRet"]
    return section


def _go_arches(machine: str) -> list[str]:
    """Go's names for an architecture, which Docker's profiles use in includes/excludes."""
    return {"x86_64": ["amd64"], "aarch64": ["arm64"], "i686": ["386"]}.get(machine, [])
