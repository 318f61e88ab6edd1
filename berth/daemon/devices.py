"""`--device`: host device nodes made in the container's /dev and allowed by its device cgroup."""
from __future__ import annotations

import os
import stat
from typing import Any

from berth.daemon.errors import InvalidArgument


def check_devices(host_config: dict[str, Any]) -> None:
    """Refuse a device that is not there or is asked for with a bad path or mode, in dockerd's words."""
    for device in host_config.get("Devices") or []:
        host_path = device.get("PathOnHost") or ""
        in_container = device.get("PathInContainer") or host_path
        permissions = device.get("CgroupPermissions") or "rwm"
        if not in_container.startswith("/"):
            raise InvalidArgument(f"{in_container} is not an absolute path")
        if not permissions or set(permissions) - set("rwm"):
            raise InvalidArgument(f"bad mode specified: {permissions}")
        if not _nodes(host_path):
            raise InvalidArgument(f'error gathering device information while adding custom device "{host_path}": '
                                  "not a device node")


def spec_devices(host_config: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(linux.devices, linux.resources.devices rules) for HostConfig.Devices; a directory brings
    every device under it."""
    devices: list[dict[str, Any]] = []
    rules: list[dict[str, Any]] = []
    for device in host_config.get("Devices") or []:
        host_path = device["PathOnHost"]
        in_container = device.get("PathInContainer") or host_path
        for path, info in _nodes(host_path):
            target = os.path.join(in_container, os.path.relpath(path, host_path)) if path != host_path else in_container
            kind = "b" if stat.S_ISBLK(info.st_mode) else "c"
            major, minor = os.major(info.st_rdev), os.minor(info.st_rdev)
            devices.append({"path": os.path.normpath(target), "type": kind, "major": major, "minor": minor,
                            "fileMode": stat.S_IMODE(info.st_mode), "uid": info.st_uid, "gid": info.st_gid})
            rules.append({"allow": True, "type": kind, "major": major, "minor": minor,
                          "access": device.get("CgroupPermissions") or "rwm"})
    return devices, rules


def _nodes(host_path: str) -> list[tuple[str, os.stat_result]]:
    """The device nodes at `host_path`: itself, or those under it if it is a directory."""
    try:
        info = os.stat(host_path)
    except OSError as error:
        raise InvalidArgument(f'error gathering device information while adding custom device "{host_path}": '
                              f"{(error.strerror or str(error)).lower()}") from None
    if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode):
        return [(host_path, info)]
    if not stat.S_ISDIR(info.st_mode):
        return []
    found = []
    for directory, _, files in os.walk(host_path):
        for name in files:
            path = os.path.join(directory, name)
            node = os.stat(path)
            if stat.S_ISCHR(node.st_mode) or stat.S_ISBLK(node.st_mode):
                found.append((path, node))
    return found
