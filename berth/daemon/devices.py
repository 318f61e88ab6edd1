"""`--device` and `--device-cgroup-rule`: host device nodes made in the container's /dev, and what
its device cgroup allows."""
from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping
from typing import Any

from berth.errdefs import InvalidArgument

_CGROUP_RULE = re.compile(r"^([acb]) ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3})$")


def check_devices(host_config: Mapping[str, Any]) -> None:
    """Refuse a device that is not there or is asked for with a bad path or mode, and a cgroup rule
    that is not one, in dockerd's words."""
    for rule in host_config.get("DeviceCgroupRules") or []:
        if not _CGROUP_RULE.match(rule):
            raise InvalidArgument(f"invalid device cgroup format '{rule}'")
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


# HostConfig's block I/O throttles, and their fields in the spec's linux.resources.blockIO
BLOCK_IO_THROTTLES = {
    "BlkioDeviceReadBps": "throttleReadBpsDevice", "BlkioDeviceWriteBps": "throttleWriteBpsDevice",
    "BlkioDeviceReadIOps": "throttleReadIOPSDevice", "BlkioDeviceWriteIOps": "throttleWriteIOPSDevice",
}


def check_block_io(host_config: Mapping[str, Any]) -> None:
    """The devices that `--device-read-bps` and the like throttle exist, as dockerd checks."""
    for field in BLOCK_IO_THROTTLES:
        for limit in host_config.get(field) or []:
            device_numbers(limit.get("Path") or "")


def device_numbers(path: str) -> dict[str, int]:
    """{"major", "minor"} of the device node at `path`."""
    try:
        rdev = os.stat(path).st_rdev
    except OSError as error:
        raise InvalidArgument(f"stat {path}: {(error.strerror or str(error)).lower()}") from None
    return {"major": os.major(rdev), "minor": os.minor(rdev)}


def spec_devices(host_config: Mapping[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
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
    for rule in host_config.get("DeviceCgroupRules") or []:
        kind, major_text, minor_text, access = _CGROUP_RULE.match(rule).groups()  # type: ignore[union-attr]
        rules.append({"allow": True, "type": kind, "major": None if major_text == "*" else int(major_text),
                      "minor": None if minor_text == "*" else int(minor_text), "access": access})
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
