"""A container may set only the kernel parameters of namespaces of its own."""
from __future__ import annotations

import pytest

from berth.runtime.sysctl import check_sysctls

pytestmark = pytest.mark.any_user  # no container, no kernel: see tests/conftest.py

OWN = [{"type": kind} for kind in ("mount", "pid", "ipc", "uts", "network")]


def test_parameters_of_the_containers_own_namespaces_are_allowed():
    check_sysctls({"net.ipv4.ip_forward": "1", "kernel.shmmax": "1", "fs.mqueue.msg_max": "1",
                   "kernel.domainname": "x"}, OWN)
    check_sysctls({"kernel.sem": "1"}, [{"type": "ipc", "path": "/proc/1/ns/ipc"}])  # joined, not the host's


@pytest.mark.parametrize(("sysctl", "message"), [
    ("vm.swappiness", "'vm.swappiness' is not in a separate kernel namespace"),
    ("net.ipv4.ip_forward", "'net.ipv4.ip_forward' is not allowed in the host's network namespace"),
    ("kernel.shmmax", "'kernel.shmmax' is not allowed in the host's ipc namespace"),
])
def test_the_hosts_parameters_are_refused(sysctl, message):
    with pytest.raises(ValueError, match=message):
        check_sysctls({sysctl: "1"}, [{"type": "mount"}, {"type": "uts"}])
