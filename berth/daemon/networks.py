"""The daemon's networks: records in the network store (berth.network.store), each answered for by its
driver (berth.network.drivers). Today the drivers are `null` and `host`, whose one network each
(`none` and `host`) the daemon makes at its first start, as dockerd does; their IDs and creation
times stay the same across restarts.
"""
from __future__ import annotations

import json
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from berth.daemon.namespaces import joined_container
from berth.errdefs import Conflict, InvalidArgument, NotFound, Unimplemented
from berth.network.drivers import HostDriver, NetworkDriver, NetworkSpec, NullDriver, Sandbox
from berth.network.store import LocalStore, NetworkStore, Record
from berth.timestamps import rfc3339_nano

BUILTIN = {"none": "null", "host": "host"}  # name -> driver, in dockerd's order
NETWORKS = "networks"  # the store's kind for network records, keyed by name
_FILTERS = ("name", "id", "driver", "type", "scope")


class NetworkService:
    def __init__(self, data_root: Path, store: NetworkStore | None = None,
                 drivers: Iterable[NetworkDriver] = (NullDriver(), HostDriver())) -> None:
        self.store = store or LocalStore(data_root / "network")
        self.drivers = {driver.name: driver for driver in drivers}
        self._make_builtin(data_root / "network" / "builtin.json")

    def _make_builtin(self, older_record: Path) -> None:
        """The built-in networks, made once; IDs kept by an older berth in builtin.json are kept."""
        try:
            kept = json.loads(older_record.read_text())
        except FileNotFoundError:
            kept = {}
        for name, driver in BUILTIN.items():
            if self.store.get(NETWORKS, name) is None:
                made = kept.get(name) or {"Id": secrets.token_hex(32), "Created": rfc3339_nano()}
                self.store.put(NETWORKS, name, {"Name": name, "Id": made["Id"], "Created": made["Created"],
                                                "Driver": driver, "Options": {}}, 0)
        older_record.unlink(missing_ok=True)

    def _records(self) -> list[Record]:
        """Every network, the built-in ones first in dockerd's order."""
        records = self.store.list(NETWORKS)
        order = list(BUILTIN)
        return sorted(records.values(), key=lambda r: (order.index(r["Name"]) if r["Name"] in order else len(order),
                                                       r["Name"]))

    def list_networks(self, filters: dict[str, list[str]]) -> list[dict[str, Any]]:
        """GET /networks: every network that passes the name, id, driver, type and scope filters."""
        for key in filters:
            if key not in _FILTERS:
                raise InvalidArgument(f"Invalid filter '{key}'")
        return [self._summary(record) for record in self._records() if self._passes(record, filters)]

    def inspect(self, ref: str, containers: list[dict[str, str]]) -> dict[str, Any]:
        """GET /networks/{id}: the network and the containers attached to it (id -> endpoint)."""
        record = self._record(self.resolve(ref))
        return {**self._summary(record), "Containers": {
            entry["Id"]: {"Name": entry["Name"], "EndpointID": "", "MacAddress": "", "IPv4Address": "",
                          "IPv6Address": ""} for entry in containers}}

    def resolve(self, ref: str) -> str:
        """The name of the network `ref` names: a name, an ID or an unambiguous ID prefix."""
        records = self._records()
        if any(record["Name"] == ref for record in records):
            return ref
        found = [record["Name"] for record in records if ref and record["Id"].startswith(ref)]
        if len(found) != 1:
            raise NotFound(f"network {ref} not found")
        return found[0]

    def id_of(self, name: str) -> str:
        """The ID of the network named `name` (a container's NetworkMode); "" if there is none."""
        found = self.store.get(NETWORKS, name)
        return found[0]["Id"] if found else ""

    def sandbox(self, mode: str) -> Sandbox:
        """The network namespace a container with NetworkMode `mode` runs in: another container's
        for `container:NAME`, else what the driver of network `mode` says."""
        if joined_container(mode):
            return Sandbox.JOINED
        record = self._record(mode)
        return self._driver(record["Driver"]).sandbox(_spec(record))

    def create(self, body: dict[str, Any]) -> dict[str, str]:
        """POST /networks/create, through the driver it names (bridge by default)."""
        name, driver_name = body.get("Name") or "", body.get("Driver") or "bridge"
        if not name:
            raise InvalidArgument("network name is required")
        if self.store.get(NETWORKS, name) is not None:
            raise Conflict(f"network with name {name} already exists")
        spec = NetworkSpec(secrets.token_hex(32), name, driver_name, body.get("Options") or {})
        self._driver(driver_name).create_network(spec)
        self.store.put(NETWORKS, name, {"Name": name, "Id": spec.id, "Created": rfc3339_nano(),
                                        "Driver": driver_name, "Options": spec.options}, 0)
        return {"Id": spec.id, "Warning": ""}

    def remove(self, ref: str) -> None:
        record = self._record(self.resolve(ref))
        self._driver(record["Driver"]).delete_network(_spec(record))
        self.store.delete(NETWORKS, record["Name"])

    def _driver(self, name: str) -> NetworkDriver:
        if name == "bridge":
            raise Unimplemented("creating networks is not in this berth yet: containers join none or host")
        try:
            return self.drivers[name]
        except KeyError:
            raise NotFound(f'plugin "{name}" not found') from None

    def _record(self, name: str) -> Record:
        found = self.store.get(NETWORKS, name)
        if found is None:
            raise NotFound(f"network {name} not found")
        return found[0]

    def _summary(self, record: Record) -> dict[str, Any]:
        return {
            "Name": record["Name"], "Id": record["Id"], "Created": record["Created"], "Scope": "local",
            "Driver": record["Driver"], "EnableIPv6": False, "IPAM": {"Driver": "default", "Options": None, "Config": []},
            "Internal": False, "Attachable": False, "Ingress": False, "ConfigFrom": {"Network": ""},
            "ConfigOnly": False, "Containers": {}, "Options": record.get("Options") or {}, "Labels": {},
        }

    @staticmethod
    def _passes(record: Record, filters: dict[str, list[str]]) -> bool:
        checks = {
            "name": lambda value: value in record["Name"],
            "id": lambda value: record["Id"].startswith(value),
            "driver": lambda value: value == record["Driver"],
            "type": lambda value: value == ("builtin" if record["Name"] in BUILTIN else "custom"),
            "scope": lambda value: value == "local",
        }
        return all(any(checks[key](value) for value in values) for key, values in filters.items())


def _spec(record: Record) -> NetworkSpec:
    return NetworkSpec(record["Id"], record["Name"], record["Driver"], record.get("Options") or {})
