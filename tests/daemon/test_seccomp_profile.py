"""Which seccomp rules a container gets, from berth's default profile or a Docker-format one."""
from __future__ import annotations

import errno
import json
import re

import pytest

from berth.daemon.seccomp_default import DEFAULT_PROFILE
from berth.daemon.seccomp_profile import oci_seccomp
from berth.daemon.security import (
    check_security_opts,
    parse_security_opts,
    seccomp_section,
)
from berth.daemon.spec import ALL_CAPABILITIES, DEFAULT_CAPABILITIES
from berth.errdefs import InvalidArgument


def allowed(section: dict) -> set[str]:
    """The calls a section allows whatever their arguments."""
    return {name for rule in section["syscalls"] if rule["action"] == "SCMP_ACT_ALLOW" and not rule.get("args")
            for name in rule["names"]}


def rules_for(section: dict, name: str) -> list[dict]:
    return [rule for rule in section["syscalls"] if name in rule["names"]]


def test_the_default_profile_allows_what_programs_need_and_refuses_the_rest():
    section = oci_seccomp(DEFAULT_PROFILE, DEFAULT_CAPABILITIES, machine="x86_64")
    assert (section["defaultAction"], section["defaultErrnoRet"]) == ("SCMP_ACT_ERRNO", errno.EPERM)
    assert section["architectures"] == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]
    assert {"read", "openat", "execve", "wait4", "mmap", "chroot", "arch_prctl", "ptrace", "setresuid"} <= allowed(section)
    assert not {"keyctl", "unshare", "mount", "setns", "bpf", "kexec_load", "init_module", "clock_settime",
                "open_by_handle_at", "io_uring_setup", "sysfs", "userfaultfd", "process_vm_readv", "sethostname",
                "personality", "socket", "clone", "arm_fadvise64_64"} & allowed(section)
    assert {rule["args"][0]["value"] for rule in rules_for(section, "personality")} == {0, 8, 0x20000, 0x20008,
                                                                                        0xFFFFFFFF}
    [socket] = rules_for(section, "socket")
    assert socket["args"] == [{"index": 0, "value": 40, "op": "SCMP_CMP_NE"}]  # no AF_VSOCK
    [clone] = rules_for(section, "clone")
    assert clone["args"] == [{"index": 0, "value": 0x7E020000, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]
    [clone3] = rules_for(section, "clone3")
    assert (clone3["action"], clone3["errnoRet"]) == ("SCMP_ACT_ERRNO", errno.ENOSYS)  # libc falls back to clone


def test_a_capability_allows_the_calls_it_guards_and_io_uring_stays_refused():
    section = oci_seccomp(DEFAULT_PROFILE, [*DEFAULT_CAPABILITIES, "CAP_SYS_ADMIN"], machine="x86_64")
    assert {"unshare", "mount", "setns", "clone", "clone3", "sethostname"} <= allowed(section)
    assert not {"keyctl", "kexec_load", "open_by_handle_at"} & allowed(section)
    every = oci_seccomp(DEFAULT_PROFILE, ALL_CAPABILITIES, machine="x86_64")
    assert {"open_by_handle_at", "process_vm_readv", "pidfd_getfd", "reboot", "init_module"} <= allowed(every)
    assert not {"io_uring_setup", "io_uring_enter", "keyctl", "sysfs"} & allowed(every)


def test_a_docker_profile_keeps_the_rules_for_this_machine_and_these_capabilities():
    profile = {
        "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
        "archMap": [{"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]},
                    {"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86"]}],
        "syscalls": [
            {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
            {"name": "reboot", "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_BOOT"]}},
            {"names": ["ptrace"], "action": "SCMP_ACT_ALLOW", "excludes": {"caps": ["CAP_CHOWN"]}},
            {"names": ["arch_prctl"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["amd64"]}},
            {"names": ["ioperm"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["arm64"]}},
        ],
    }
    section = oci_seccomp(profile, ["CAP_CHOWN"], machine="x86_64")
    assert section == {
        "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
        "syscalls": [{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
                     {"names": ["arch_prctl"], "action": "SCMP_ACT_ALLOW"}],
    }


@pytest.mark.parametrize("options, expected", [
    ([], ("", False)),
    (["no-new-privileges"], ("", True)),
    (["no-new-privileges:true", "no-new-privileges=false"], ("", False)),
    (["seccomp=unconfined", "label=disable", "apparmor:unconfined"], ("unconfined", False)),
    (["seccomp:{}"], ("{}", False)),
])
def test_security_options_are_read_as_dockerd_reads_them(options, expected):
    assert tuple(parse_security_opts(options)) == expected


@pytest.mark.parametrize("option, message", [
    ("bogus", 'invalid --security-opt 1: "bogus"'),
    ("bogus=1", 'invalid --security-opt 2: "bogus=1"'),
    ("no-new-privileges=maybe", 'invalid --security-opt 2: "no-new-privileges=maybe"'),
    ("seccomp={bad", "Decoding seccomp profile failed"),
    ("seccomp=" + json.dumps({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_SOMETIMES"}]}]}),
     "'SCMP_CMP_SOMETIMES' is not a valid operator"),
])
def test_bad_security_options_are_refused_at_create(option, message):
    with pytest.raises(InvalidArgument, match=re.escape(message)):
        check_security_opts({"SecurityOpt": [option]})


def test_privileged_and_unconfined_containers_get_no_filter():
    assert seccomp_section({"Privileged": True}, DEFAULT_CAPABILITIES) is None
    assert seccomp_section({"SecurityOpt": ["seccomp=unconfined"]}, DEFAULT_CAPABILITIES) is None
    custom = json.dumps({"defaultAction": "SCMP_ACT_LOG"})
    assert seccomp_section({"SecurityOpt": [f"seccomp={custom}"]}, DEFAULT_CAPABILITIES)["defaultAction"] == "SCMP_ACT_LOG"
