"""The networks a container can join: today the two built in, `none` (its own network namespace with
only loopback) and `host` (the host's). Their IDs and creation times are made once and kept under the
data root (`network/builtin.json`), as dockerd keeps its own, so they stay the same across restarts.
"""
from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

from berth.atomicfile import write_atomic
from berth.errdefs import Conflict, InvalidArgument, NotFound
from berth.timestamps import rfc3339_nano

BUILTIN = {"none": "null", "host": "host"}  # name -> driver, in dockerd's order
_FILTERS = ("name", "id", "driver", "type", "scope")


class NetworkService:
    def __init__(self, data_root: Path) -> None:
        self.records = _load_or_make(data_root / "network" / "builtin.json")

    def list(self, filters: dict[str, list[str]]) -> list[dict[str, Any]]:
        """GET /networks: every network that passes the name, id, driver, type and scope filters."""
        for key in filters:
            if key not in _FILTERS:
                raise InvalidArgument(f"Invalid filter '{key}'")
        return [self._summary(name) for name in BUILTIN if self._passes(name, filters)]

    def inspect(self, ref: str, containers: list[dict[str, str]]) -> dict[str, Any]:
        """GET /networks/{id}: the network and the containers attached to it (id -> endpoint)."""
        name = self.resolve(ref)
        return {**self._summary(name), "Containers": {
            entry["Id"]: {"Name": entry["Name"], "EndpointID": "", "MacAddress": "", "IPv4Address": "",
                          "IPv6Address": ""} for entry in containers}}

    def resolve(self, ref: str) -> str:
        """The name of the network `ref` names: a name, an ID or an unambiguous ID prefix."""
        if ref in BUILTIN:
            return ref
        found = [name for name, record in self.records.items() if ref and record["Id"].startswith(ref)]
        if len(found) != 1:
            raise NotFound(f"network {ref} not found")
        return found[0]

    def id_of(self, name: str) -> str:
        """The ID of the network named `name` (a container's NetworkMode)."""
        return self.records[name]["Id"] if name in self.records else ""

    def remove(self, ref: str) -> None:
        raise Conflict(f"{self.resolve(ref)} is a pre-defined network and cannot be removed")

    def _summary(self, name: str) -> dict[str, Any]:
        record = self.records[name]
        return {
            "Name": name, "Id": record["Id"], "Created": record["Created"], "Scope": "local",
            "Driver": BUILTIN[name], "EnableIPv6": False, "IPAM": {"Driver": "default", "Options": None, "Config": []},
            "Internal": False, "Attachable": False, "Ingress": False, "ConfigFrom": {"Network": ""},
            "ConfigOnly": False, "Containers": {}, "Options": {}, "Labels": {},
        }

    def _passes(self, name: str, filters: dict[str, list[str]]) -> bool:
        record = self.records[name]
        checks = {
            "name": lambda value: value in name,
            "id": lambda value: record["Id"].startswith(value),
            "driver": lambda value: value == BUILTIN[name],
            "type": lambda value: value == "builtin",
            "scope": lambda value: value == "local",
        }
        for key, values in filters.items():
            if not any(checks[key](value) for value in values):
                return False
        return True


def _load_or_make(path: Path) -> dict[str, dict[str, str]]:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        pass
    records = {name: {"Id": secrets.token_hex(32), "Created": rfc3339_nano()} for name in BUILTIN}
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps(records).encode())
    return records
