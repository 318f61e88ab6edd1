"""Seccomp profiles in Docker's format (`--security-opt seccomp=profile.json`, berth's default one in
`seccomp_default`), turned into the OCI spec's `linux.seccomp` for a container's capabilities: a
rule applies only while the container holds the capabilities it `includes` and none it `excludes`.
"""
from __future__ import annotations

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
NATIVE_ARCHES = {
    "x86_64": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
    "aarch64": ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"],
    "ppc64le": ["SCMP_ARCH_PPC64LE"],
    "s390x": ["SCMP_ARCH_S390X", "SCMP_ARCH_S390"],
    "riscv64": ["SCMP_ARCH_RISCV64"],
}


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
    native = NATIVE_ARCHES.get(machine, [])[:1]
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
