"""Shaping a create request: the container's Config (image defaults merged in), its HostConfig
(validated, defaults filled), and its bind mounts. Pure functions, as Docker's rules have them."""
from __future__ import annotations

import os
from typing import Any

from berth.daemon.errors import Conflict, InvalidArgument, NotFound
from berth.daemon.spec import merged_env

RESTART_POLICIES = {"", "no", "always", "unless-stopped", "on-failure"}


def merge_config(body: dict[str, Any], image: dict[str, Any], container_id: str) -> dict[str, Any]:
    """The container's Config: what the client asked for, image defaults filling the gaps."""
    entrypoint = body.get("Entrypoint")
    cmd = body.get("Cmd")
    if isinstance(entrypoint, str):
        entrypoint = [entrypoint]
    if isinstance(cmd, str):
        cmd = [cmd]
    if entrypoint is None:
        entrypoint = image.get("Entrypoint")
        if not cmd:
            cmd = image.get("Cmd")
    elif entrypoint == [""]:
        entrypoint = None
        cmd = cmd or None
    labels = dict(image.get("Labels") or {})
    labels.update(body.get("Labels") or {})
    return {
        "Hostname": body.get("Hostname") or container_id[:12],
        "Domainname": body.get("Domainname") or "",
        "User": body.get("User") or image.get("User") or "",
        "AttachStdin": bool(body.get("AttachStdin")),
        "AttachStdout": bool(body.get("AttachStdout")),
        "AttachStderr": bool(body.get("AttachStderr")),
        "ExposedPorts": {**(image.get("ExposedPorts") or {}), **(body.get("ExposedPorts") or {})} or None,
        "Tty": bool(body.get("Tty")),
        "OpenStdin": bool(body.get("OpenStdin")),
        "StdinOnce": bool(body.get("StdinOnce")),
        "Env": merged_env(image.get("Env") or [], body.get("Env") or []),
        "Cmd": cmd or None,
        "Image": body.get("Image"),
        "Volumes": {**(image.get("Volumes") or {}), **(body.get("Volumes") or {})} or None,
        "WorkingDir": body.get("WorkingDir") or image.get("WorkingDir") or "",
        "Entrypoint": entrypoint or None,
        "OnBuild": image.get("OnBuild"),
        "Labels": labels,
        "StopSignal": body.get("StopSignal") or image.get("StopSignal") or None,
        "StopTimeout": body.get("StopTimeout"),
    }

def normalize_host_config(host_config: dict[str, Any]) -> dict[str, Any]:
    host_config = dict(host_config)
    policy = dict(host_config.get("RestartPolicy") or {})
    policy.setdefault("Name", "no")
    policy.setdefault("MaximumRetryCount", 0)
    if policy["Name"] not in RESTART_POLICIES:
        raise InvalidArgument(f"invalid restart policy '{policy['Name']}'")
    if policy["MaximumRetryCount"] and policy["Name"] != "on-failure":
        raise InvalidArgument(f"maximum retry count cannot be used with restart policy '{policy['Name']}'")
    if policy["MaximumRetryCount"] < 0:
        raise InvalidArgument("maximum retry count cannot be negative")
    if host_config.get("AutoRemove") and policy["Name"] not in ("", "no"):
        raise Conflict("conflicting options: AutoRemove and restart policy")
    host_config["RestartPolicy"] = policy
    mode = host_config.get("NetworkMode") or "default"
    if mode not in ("default", "none", "host", "bridge"):
        raise NotFound(f"network {mode} not found")
    # Until bridge networking lands, the default network is an isolated one with only loopback.
    host_config["NetworkMode"] = "host" if mode == "host" else "none"
    if host_config.get("PortBindings") and mode != "host":
        raise InvalidArgument("port publishing needs a bridge network, which berth does not have yet")
    host_config.setdefault("LogConfig", {"Type": "json-file", "Config": {}})
    host_config.setdefault("Binds", None)
    return host_config

def bind_mounts(host_config: dict[str, Any]) -> list[dict[str, Any]]:
    mounts = []
    for bind in host_config.get("Binds") or []:
        parts = bind.split(":")
        if len(parts) not in (2, 3):
            raise InvalidArgument(f"invalid volume specification: '{bind}'")
        source, destination = parts[0], parts[1]
        mode = parts[2] if len(parts) == 3 else ""
        if not source.startswith("/"):
            raise InvalidArgument(f"invalid volume specification: '{bind}': named volumes are not supported yet")
        if not destination.startswith("/"):
            raise InvalidArgument(f"invalid volume specification: '{bind}': "
                                  f"invalid mount config: destination must be an absolute path")
        if any(option not in ("ro", "rw", "z", "Z", "rprivate", "private") for option in filter(None, mode.split(","))):
            raise InvalidArgument(f"invalid mode: {mode}")
        os.makedirs(source, exist_ok=True)
        mounts.append({"Type": "bind", "Source": source, "Destination": destination, "Mode": mode,
                       "RW": "ro" not in mode.split(","), "Propagation": "rprivate"})
    return mounts
