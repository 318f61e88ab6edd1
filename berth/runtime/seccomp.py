"""linux.seccomp from the spec -> a libseccomp filter, or the BPF program a caller compiled from it
earlier (berthd does, once per profile: building and loading a filter with libseccomp costs a
container or an exec about 2 ms, installing the program about 0.3 ms)."""
from __future__ import annotations

import errno
import hashlib
import json
from collections import Counter
from pathlib import Path

from berth.linux import seccomp as lib
from berth.runtime.ocispec import Spec

_ARCHES = {
    "SCMP_ARCH_X86": "x86", "SCMP_ARCH_X86_64": "x86_64", "SCMP_ARCH_X32": "x32",
    "SCMP_ARCH_ARM": "arm", "SCMP_ARCH_AARCH64": "aarch64", "SCMP_ARCH_MIPS": "mips",
    "SCMP_ARCH_MIPS64": "mips64", "SCMP_ARCH_MIPS64N32": "mips64n32", "SCMP_ARCH_MIPSEL": "mipsel",
    "SCMP_ARCH_MIPSEL64": "mipsel64", "SCMP_ARCH_MIPSEL64N32": "mipsel64n32", "SCMP_ARCH_PPC": "ppc",
    "SCMP_ARCH_PPC64": "ppc64", "SCMP_ARCH_PPC64LE": "ppc64le", "SCMP_ARCH_S390": "s390",
    "SCMP_ARCH_S390X": "s390x", "SCMP_ARCH_RISCV64": "riscv64",
}
_OPERATORS = {
    "SCMP_CMP_NE": lib.CMP_NE, "SCMP_CMP_LT": lib.CMP_LT, "SCMP_CMP_LE": lib.CMP_LE,
    "SCMP_CMP_EQ": lib.CMP_EQ, "SCMP_CMP_GE": lib.CMP_GE, "SCMP_CMP_GT": lib.CMP_GT,
    "SCMP_CMP_MASKED_EQ": lib.CMP_MASKED_EQ,
}


def _action(name: str, errno_ret: int | None) -> int:
    if name == "SCMP_ACT_ERRNO":
        return lib.errno_action(errno.EPERM if errno_ret is None else errno_ret)
    if name == "SCMP_ACT_TRACE":
        return lib.trace_action(errno.EPERM if errno_ret is None else errno_ret)
    simple = {"SCMP_ACT_KILL": lib.ACT_KILL_THREAD, "SCMP_ACT_KILL_THREAD": lib.ACT_KILL_THREAD,
              "SCMP_ACT_KILL_PROCESS": lib.ACT_KILL_PROCESS, "SCMP_ACT_TRAP": lib.ACT_TRAP,
              "SCMP_ACT_LOG": lib.ACT_LOG, "SCMP_ACT_ALLOW": lib.ACT_ALLOW}
    if name not in simple:
        raise ValueError(f"unsupported seccomp action {name!r}")
    return simple[name]


def build_filter(config: dict) -> lib.Filter:
    """Compile linux.seccomp; syscalls unknown to this kernel's libseccomp are skipped, as runc does."""
    default = _action(config["defaultAction"], config.get("defaultErrnoRet"))
    seccomp = lib.Filter(default)
    for arch in config.get("architectures") or []:
        seccomp.add_arch(_ARCHES.get(arch, arch))
    for rule in config.get("syscalls") or []:
        action = _action(rule["action"], rule.get("errnoRet"))
        if action == default:
            continue
        conditions = [(arg["index"], _OPERATORS[arg["op"]], arg["value"], arg.get("valueTwo", 0))
                      for arg in rule.get("args") or []]
        # libseccomp ANDs conditions on distinct arguments; repeated ones mean "any of" (one rule each).
        repeated = any(n > 1 for n in Counter(c[0] for c in conditions).values())
        groups = [[c] for c in conditions] if repeated else [conditions]
        for name in rule["names"]:
            number = seccomp.syscall_number(name)
            if number is None:
                continue
            for group in groups:
                seccomp.add_rule(action, number, group)
    return seccomp


# A spec annotation naming a file that holds linux.seccomp compiled (berth's own runtime reads it;
# runc and crun compile linux.seccomp themselves).
PROGRAM_ANNOTATION = "org.berth.seccomp-program"


def program_name(config: dict) -> str:
    """The file name a compiled program of `config` goes by: it names the config's digest, so a
    program never stands for a config it was not compiled from."""
    canonical = json.dumps(config, sort_keys=True, separators=(",", ":")).encode()
    return f"seccomp-{hashlib.sha256(canonical).hexdigest()}.bpf"


def compile_program(config: dict) -> bytes:
    return build_filter(config).export()


def precompiled_program(spec: Spec) -> bytes | None:
    """The compiled linux.seccomp the spec's annotation points to, if it is there and is for it."""
    config = (spec.get("linux") or {}).get("seccomp")
    path = (spec.get("annotations") or {}).get(PROGRAM_ANNOTATION)
    if not config or not path or Path(path).name != program_name(config):
        return None
    try:
        with open(path, "rb") as file:
            return file.read()
    except OSError:
        return None
