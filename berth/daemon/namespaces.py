"""Which namespaces a container gets: its own, the host's (`--pid host`), or those of another running
container (`--ipc container:db`), from HostConfig's PidMode, IpcMode, UTSMode and NetworkMode."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from berth.errdefs import InvalidArgument
from berth.network.drivers import Sandbox
from berth.runtime.ocispec import Namespace

_MODES = {"pid": "PidMode", "ipc": "IpcMode", "uts": "UTSMode"}
_IPC_MODES = ("", "private", "shareable", "host", "none")


def check_modes(host_config: Mapping[str, Any]) -> None:
    """Refuse a mode dockerd refuses, in its words."""
    pid = host_config.get("PidMode") or ""
    if pid not in ("", "host") and not joined_container(pid):
        raise InvalidArgument(f"invalid PID mode: {pid}")
    ipc = host_config.get("IpcMode") or ""
    if ipc not in _IPC_MODES and not joined_container(ipc):
        raise InvalidArgument(f"Invalid IPC mode: {ipc}")
    uts = host_config.get("UTSMode") or ""
    if uts not in ("", "host"):
        raise InvalidArgument(f"invalid UTS mode: {uts}")


def shared_with(host_config: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(namespace, container reference) for each namespace joined from another container."""
    return [(kind, ref) for kind, field in _MODES.items() if (ref := joined_container(host_config.get(field) or ""))]


def spec_namespaces(host_config: Mapping[str, Any], init_pid_of: Callable[[str, str], int],
                    network: Sandbox, netns_path: str = "") -> list[Namespace]:
    """The spec's linux.namespaces; `init_pid_of(namespace, reference)` finds the init of the running
    container whose namespace is joined; `network` is the network namespace the container's network
    gives it (berth.daemon.networks), at `netns_path` when the daemon made it (PREPARED)."""
    namespaces: list[Namespace] = [{"type": "mount"}]
    for kind, field in _MODES.items():
        mode = host_config.get(field) or ""
        if mode == "host":
            continue
        if ref := joined_container(mode):
            namespaces.append({"type": kind, "path": f"/proc/{init_pid_of(kind, ref)}/ns/{kind}"})
        else:
            namespaces.append({"type": kind})
    if network is Sandbox.JOINED:
        ref = joined_container(host_config.get("NetworkMode") or "") or ""
        namespaces.append({"type": "network", "path": f"/proc/{init_pid_of('network', ref)}/ns/net"})
    elif network is Sandbox.OWN:
        namespaces.append({"type": "network"})
    elif network is Sandbox.PREPARED:
        namespaces.append({"type": "network", "path": netns_path})
    return namespaces


def joined_container(mode: str) -> str | None:
    """The container a `container:NAME` mode (pid, ipc or network) names; None for any other mode."""
    if not mode.startswith("container:"):
        return None
    return mode[len("container:"):] or None
