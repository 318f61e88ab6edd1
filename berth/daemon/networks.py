"""The daemon's networks: records in the network store (berth.network.store), each answered for by its
driver (berth.network.drivers). Today the drivers are `null` and `host`, whose one network each
(`none` and `host`) the daemon makes at its first start, as dockerd does; their IDs and creation
times stay the same across restarts.

A running container has a sandbox (its network namespace) and, in it, one endpoint per network it
is on; both are records in the store, written by `join` at its start and removed by `leave` at its
exit, so `network inspect` lists what the store holds. `--network container:NAME` is a sandbox
shared with another container and no network: it has a sandbox record and no endpoint, and no
network lists it (as with dockerd).
"""
from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from berth.daemon.namespaces import joined_container
from berth.errdefs import Conflict, Forbidden, InvalidArgument, NotFound, Unimplemented
from berth.network.drivers import HostDriver, NetworkDriver, NetworkSpec, NullDriver, Sandbox
from berth.network.store import LocalStore, NetworkStore, Record
from berth.timestamps import rfc3339_nano

BUILTIN = {"none": "null", "host": "host"}  # name -> driver, in dockerd's order
PREDEFINED = ("none", "host", "bridge")  # names no user network may take (dockerd's, bridge included)
NETWORKS = "networks"  # the store's kind for network records, keyed by name
SANDBOXES = "sandboxes"  # a running container's network namespace and its endpoints, keyed by container ID
ENDPOINTS = "endpoints"  # a container's place on one network, keyed by endpoint ID
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

    def inspect(self, ref: str, containers: Iterable[Mapping[str, str]] = ()) -> dict[str, Any]:
        """GET /networks/{id}: the network and the containers on it (id -> endpoint): those with an
        endpoint in the store, and any of `containers` (running ones whose NetworkMode names it, from
        the container service) that has none, as one started before the container service joined
        containers to networks."""
        record = self._record(self.resolve(ref))
        attached = {endpoint["Container"]: _attachment(endpoint["Name"], endpoint)
                    for endpoint in self.endpoints(record["Name"])}
        for entry in containers:
            attached.setdefault(entry["Id"], _attachment(entry["Name"], {}))
        return {**self._summary(record), "Containers": attached}

    def resolve(self, ref: str) -> str:
        """The name of the network `ref` names: a name, an ID or an unambiguous ID prefix."""
        found = self._matches(ref)
        if len(found) > 1:
            raise InvalidArgument(f"{len(found)} matches found based on ID prefix: network {ref} is ambiguous")
        return found[0]

    def _matches(self, ref: str) -> list[str]:
        """The names of the networks `ref` may name (NotFound if none)."""
        records = self._records()
        if any(record["Name"] == ref for record in records):
            return [ref]
        found = [record["Name"] for record in records if ref and record["Id"].startswith(ref)]
        if not found:
            raise NotFound(f"network {ref} not found")
        return found

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
            raise InvalidArgument("invalid name: ")
        if name in PREDEFINED:
            raise Forbidden(f"operation is not permitted on predefined {name} network ")
        if self.store.get(NETWORKS, name) is not None:
            raise Conflict(f"network with name {name} already exists")
        spec = NetworkSpec(secrets.token_hex(32), name, driver_name, body.get("Options") or {})
        driver = self._driver(driver_name)
        driver.create_network(spec)
        try:
            self.store.put(NETWORKS, name, {"Name": name, "Id": spec.id, "Created": rfc3339_nano(),
                                            "Driver": driver_name, "Options": spec.options}, 0)
        except Conflict:  # made by another caller in the meantime
            driver.delete_network(spec)
            raise Conflict(f"network with name {name} already exists") from None
        return {"Id": spec.id, "Warning": ""}

    def remove(self, ref: str) -> None:
        """DELETE /networks/{id}: refused for a built-in network and while a container is on it."""
        found = self._matches(ref)
        if len(found) > 1:  # dockerd words it otherwise than for inspect
            raise InvalidArgument(f"network {ref} is ambiguous ({len(found)} matches found based on ID prefix)")
        record = self._record(found[0])
        if record["Name"] in BUILTIN:
            raise Forbidden(f"{record['Name']} is a pre-defined network and cannot be removed")
        if self.endpoints(record["Name"]):
            raise Forbidden(f"error while removing network: network {record['Name']} id {record['Id']} "
                            "has active endpoints")
        self._driver(record["Driver"]).delete_network(_spec(record))
        self.store.delete(NETWORKS, record["Name"])

    # --- containers on networks -------------------------------------------------------------
    def join(self, container_id: str, network_mode: str, sandbox: int | str, name: str = "") -> dict[str, Record]:
        """A container started: record its sandbox (the network namespace at path `sandbox`, or of
        process `sandbox`) and join it to the network `network_mode` names, through that network's
        driver; its endpoints by network name (none for `container:NAME`). `name` is the container's
        name as `network inspect` shows it. A sandbox left from a run that never left (a daemon
        killed) is left first."""
        key = sandbox if isinstance(sandbox, str) else f"/proc/{sandbox}/ns/net"
        if self.store.get(SANDBOXES, container_id) is not None:
            self.leave(container_id)
        endpoints: dict[str, Record] = {}
        try:
            if not joined_container(network_mode):
                endpoint = self._add_endpoint(self._record(network_mode), container_id, name, key)
                endpoints[endpoint["Network"]] = endpoint
            self.store.put(SANDBOXES, container_id, {
                "Container": container_id, "Name": name, "Mode": network_mode, "Key": key,
                "Endpoints": [endpoint["Id"] for endpoint in endpoints.values()]}, 0)
        except BaseException:
            for endpoint in endpoints.values():
                self._drop_endpoint(endpoint["Id"])
            raise
        return endpoints

    def leave(self, container_id: str) -> None:
        """A container exited: its endpoints leave their networks (each through its driver), and its
        sandbox record goes. Nothing to do for a container that has none."""
        found = self.store.get(SANDBOXES, container_id)
        if found is None:
            return
        for endpoint_id in found[0]["Endpoints"]:
            self._drop_endpoint(endpoint_id)
        self.store.delete(SANDBOXES, container_id)

    def reconcile(self, running: Iterable[str]) -> None:
        """After a restart, before any start: every container not in `running` leaves, and endpoints
        that no sandbox holds (a join cut short) are dropped."""
        live = set(running)
        for container_id in self.store.list(SANDBOXES):
            if container_id not in live:
                self.leave(container_id)
        held = {endpoint_id for sandbox in self.store.list(SANDBOXES).values() for endpoint_id in sandbox["Endpoints"]}
        for endpoint_id in self.store.list(ENDPOINTS):
            if endpoint_id not in held:
                self._drop_endpoint(endpoint_id)

    def endpoints(self, network: str | None = None) -> list[Record]:
        """The endpoints in the store, of network `network` (a name) or of all."""
        return [endpoint for endpoint in self.store.list(ENDPOINTS).values()
                if network is None or endpoint["Network"] == network]

    def sandbox_of(self, container_id: str) -> Record | None:
        """A running container's sandbox record: its namespace ("Key"), mode and endpoint IDs."""
        found = self.store.get(SANDBOXES, container_id)
        return found[0] if found else None

    def _add_endpoint(self, network: Record, container_id: str, name: str, netns: str) -> Record:
        spec = _spec(network)
        driver = self._driver(network["Driver"])
        endpoint_id = secrets.token_hex(32)
        wired = driver.join(spec, endpoint_id, netns)
        endpoint = {"Id": endpoint_id, "Network": network["Name"], "NetworkID": network["Id"],
                    "Container": container_id, "Name": name, "SandboxKey": netns,
                    "MacAddress": "", "IPv4Address": "", "IPv6Address": "", **wired}
        try:
            self.store.put(ENDPOINTS, endpoint_id, endpoint, 0)
        except BaseException:
            driver.leave(spec, endpoint_id)
            raise
        return endpoint

    def _drop_endpoint(self, endpoint_id: str) -> None:
        found = self.store.get(ENDPOINTS, endpoint_id)
        if found is None:
            return
        network = self.store.get(NETWORKS, found[0]["Network"])
        if network is not None and network[0]["Id"] == found[0]["NetworkID"]:
            self._driver(network[0]["Driver"]).leave(_spec(network[0]), endpoint_id)
        self.store.delete(ENDPOINTS, endpoint_id)

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


def _attachment(name: str, endpoint: Mapping[str, Any]) -> dict[str, str]:
    """A container on a network as `network inspect` shows it."""
    return {"Name": name, "EndpointID": endpoint.get("Id", ""), "MacAddress": endpoint.get("MacAddress", ""),
            "IPv4Address": endpoint.get("IPv4Address", ""), "IPv6Address": endpoint.get("IPv6Address", "")}
