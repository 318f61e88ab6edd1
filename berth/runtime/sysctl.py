"""linux.sysctl: a container may set only the kernel parameters of namespaces it has of its own;
writing any other would change the host's."""
from __future__ import annotations

from berth.runtime.ocispec import Namespace

_IPC_PARAMETERS = ("kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall", "kernel.shmmax",
                   "kernel.shmmni", "kernel.shm_rmid_forced")


def check_sysctls(sysctls: dict[str, str], namespaces: list[Namespace]) -> None:
    """Raise ValueError for a parameter outside the container's own (new) namespaces."""
    own = {namespace["type"] for namespace in namespaces if not namespace.get("path")}
    joined = {namespace["type"] for namespace in namespaces if namespace.get("path")}
    for key in sysctls:
        if key in _IPC_PARAMETERS or key.startswith("fs.mqueue."):
            needed = "ipc"
        elif key.startswith("net."):
            needed = "network"
        elif key in ("kernel.hostname", "kernel.domainname"):
            needed = "uts"
        else:
            raise ValueError(f"sysctl {key!r} is not in a separate kernel namespace")
        if needed not in own and needed not in joined:
            raise ValueError(f"sysctl {key!r} is not allowed in the host's {needed} namespace")
