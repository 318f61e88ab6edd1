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

import ipaddress
import json
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from berth.daemon.config import DefaultBridge
from berth.daemon.namespaces import joined_container
from berth.errdefs import Conflict, Forbidden, InvalidArgument, NotFound
from berth.image.filters import check_keys, labels_match, parse_until
from berth.network import netns
from berth.network.bridge import ICC_OPTION, MASQUERADE_OPTION, MTU_OPTION, NAME_OPTION, BridgeSettings
from berth.network.dns import NameTable
from berth.network.drivers import EndpointSpec, HostDriver, NetworkDriver, NetworkSpec, NullDriver, Sandbox
from berth.network.firewall import BridgeRules, Firewall, PortRule, enable_forwarding
from berth.network.ipam import DEFAULT_POOLS, AddressPool, LocalIpam, Network, Pool, request_free_pool
from berth.network.portmapper import PortMapper, PortRequest
from berth.network.store import LocalStore, NetworkStore, Record
from berth.timestamps import parse_seconds, rfc3339_nano

BUILTIN = {"none": "null", "host": "host"}  # name -> driver, in dockerd's order
PREDEFINED = ("none", "host", "bridge")  # names no user network may take (dockerd's, bridge included)
NETWORKS = "networks"  # the store's kind for network records, keyed by name
SANDBOXES = "sandboxes"  # a running container's network namespace and its endpoints, keyed by container ID
ENDPOINTS = "endpoints"  # a container's place on one network, keyed by endpoint ID
_FILTERS = ("name", "id", "driver", "type", "scope", "label")
DEFAULT_NETWORK = "bridge"  # what NetworkMode "default" means


EndpointRequest = Mapping[str, Any]  # a network's entry of NetworkingConfig.EndpointsConfig (IPAMConfig, Aliases...)


class NetworkService:
    def __init__(self, data_root: Path, store: NetworkStore | None = None,
                 drivers: Iterable[NetworkDriver] = (NullDriver(), HostDriver()),
                 sandboxes_dir: Path | None = None, default_bridge: DefaultBridge | None = None,
                 routed_subnets: Callable[[], Sequence[Network]] = tuple, firewall: Firewall | None = None,
                 ip_forward: bool = False, address_pools: Sequence[AddressPool] = DEFAULT_POOLS) -> None:
        """`sandboxes_dir`: where the namespace files of containers on wired networks (bridge) are kept;
        `default_bridge`: the `bridge` network to have (when the bridge driver is among `drivers`);
        `routed_subnets`: the host's routes, which networks made without a subnet keep clear of;
        `firewall`: berth's rules for bridge networks and published ports (None: daemon.json
        `iptables: false`, no NAT and no publishing); `ip_forward`: turn on the host's forwarding;
        `address_pools`: where networks made without a subnet take theirs."""
        # a running container's sandbox and endpoints die with it: written without fsync
        self.store = store or LocalStore(data_root / "network", volatile=frozenset({SANDBOXES, ENDPOINTS}))
        self.drivers = {driver.name: driver for driver in drivers}
        self.ipam = LocalIpam(self.store)
        self.sandboxes_dir = sandboxes_dir or data_root / "netns"
        self.routed_subnets = routed_subnets
        self.address_pools = address_pools
        self.firewall = firewall
        self.ports = PortMapper(firewall) if firewall else None
        self.ip_forward = ip_forward
        self.names = NameTable()  # for the embedded DNS of user-defined networks
        for endpoint in self.endpoints():
            self._name(endpoint)
        self.default_bridge = default_bridge
        self._make_builtin(data_root / "network" / "builtin.json")

    def setup(self) -> None:
        """At the daemon's start: the default bridge network (when the bridge driver is there), its
        bridge made again if the host lost it. Blocking (netlink): not on the event loop's thread."""
        if self.default_bridge is not None and "bridge" in self.drivers:
            self._make_default_bridge(self.default_bridge)
        for record in self._records():  # the host may have lost them (a reboot): made again, as they were
            if record["Name"] != DEFAULT_NETWORK and record.get("PoolId"):
                self._driver(record["Driver"]).create_network(_spec(record))
        if self.ip_forward:
            enable_forwarding(ipv6=any(record.get("EnableIPv6") for record in self._records()))
        if self.firewall is not None:  # what the records say, whatever a daemon killed left
            self.firewall.reconcile([rules for record in self._records() if (rules := _bridge_rules(record))], [])

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

    def _make_default_bridge(self, settings: DefaultBridge) -> None:
        """The `bridge` network: made at the first start, its bridge made again at each (a reboot
        removes it), or made anew when daemon.json asks for another address."""
        found = self.store.get(NETWORKS, DEFAULT_NETWORK)
        if found is not None:
            record = found[0]
            wanted_gateway = str(ipaddress.ip_interface(settings.bip).ip) if settings.bip else record["Gateway"]
            if wanted_gateway == record["Gateway"] and record["Options"].get(NAME_OPTION) == settings.interface:
                self._driver("bridge").create_network(_spec(record))
                return
            self._unmake(record)
        options = {"com.docker.network.bridge.default_bridge": "true", ICC_OPTION: _flag(settings.icc),
                   MASQUERADE_OPTION: _flag(settings.masquerade),
                   "com.docker.network.bridge.host_binding_ipv4": "0.0.0.0",
                   NAME_OPTION: settings.interface, MTU_OPTION: str(settings.mtu)}
        subnet = str(ipaddress.ip_interface(settings.bip).network) if settings.bip else ""
        gateway = str(ipaddress.ip_interface(settings.bip).ip) if settings.bip else ""
        ipam_config = {"Subnet": subnet, "Gateway": gateway, "IPRange": settings.fixed_cidr} if subnet else {}
        self._make(DEFAULT_NETWORK, "bridge", options, {4: ipam_config}, ipv6=False, labels={}, internal=False,
                   attachable=False)

    # --- networks ---------------------------------------------------------------------------
    def _records(self) -> list[Record]:
        """Every network, the built-in ones first in dockerd's order."""
        records = self.store.list(NETWORKS)
        order = [*BUILTIN, DEFAULT_NETWORK]
        return sorted(records.values(), key=lambda r: (order.index(r["Name"]) if r["Name"] in order else len(order),
                                                       r["Name"]))

    def list_networks(self, filters: dict[str, list[str]]) -> list[dict[str, Any]]:
        """GET /networks: every network that passes the name, id, driver, type, scope and label filters."""
        for key in filters:
            if key not in _FILTERS:
                raise InvalidArgument(f"Invalid filter '{key}'")
        return [self._summary(record) for record in self._records() if self._passes(record, filters)]

    def inspect(self, ref: str, containers: Iterable[Mapping[str, str]] = ()) -> dict[str, Any]:
        """GET /networks/{id}: the network and the containers on it (id -> endpoint): those with an
        endpoint in the store, and any of `containers` (running ones whose NetworkMode names a network
        without endpoints: none, host) that has none."""
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
        if ref and self.store.get(NETWORKS, ref) is not None:  # a name: one read, no listing
            return [ref]
        found = [record["Name"] for record in self._records() if ref and record["Id"].startswith(ref)]
        if not found:
            raise NotFound(f"network {ref} not found")
        return found

    def gateway_of(self, name: str) -> str:
        """The gateway address of network `name` ("" if it has none): `host-gateway` in --add-host
        names the default bridge's, as dockerd's host-gateway-ip does by default."""
        found = self.store.get(NETWORKS, name)
        return (found[0].get("Gateway") or "") if found else ""

    def id_of(self, name: str) -> str:
        """The ID of the network named `name` (a container's NetworkMode); "" if there is none."""
        found = self.store.get(NETWORKS, name)
        return found[0]["Id"] if found else ""

    def sandbox(self, mode: str) -> Sandbox:
        """The network namespace a container with NetworkMode `mode` runs in: another container's
        for `container:NAME`, else what the driver of network `mode` says."""
        if joined_container(mode):
            return Sandbox.JOINED
        record = self._record(self.resolve(DEFAULT_NETWORK if mode == "default" else mode))
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
        ipam = body.get("IPAM") or {}
        configs: dict[int, Mapping[str, Any]] = {}
        for config in ipam.get("Config") or []:
            version = 6 if ":" in (config.get("Subnet") or config.get("Gateway") or "") else 4
            if version in configs:
                raise InvalidArgument(f"berth gives a network one IPv{version} subnet")
            configs[version] = config
        record = self._make(name, driver_name, body.get("Options") or {}, configs, ipv6=bool(body.get("EnableIPv6")),
                            labels=body.get("Labels") or {}, internal=bool(body.get("Internal")),
                            attachable=bool(body.get("Attachable")), ipam_options=ipam.get("Options"))
        if record["EnableIPv6"] and self.ip_forward:
            enable_forwarding(ipv6=True)
        return {"Id": record["Id"], "Warning": ""}

    def _make(self, name: str, driver_name: str, options: dict[str, Any], ipam_configs: Mapping[int, Mapping[str, Any]],
              *, ipv6: bool, labels: dict[str, str], internal: bool, attachable: bool,
              ipam_options: dict[str, str] | None = None) -> Record:
        """A network: its address pools (a wired driver's: IPv4's, and IPv6's when `ipv6` or a subnet
        of it is asked for; `ipam_configs` by IP version), what its driver makes, then its record;
        undone in that order's reverse when a step fails. The IPv4 pool's fields are the record's
        own, the IPv6 one's are under "IPv6"."""
        driver = self._driver(driver_name)
        record: Record = {"Name": name, "Id": secrets.token_hex(32), "Created": rfc3339_nano(), "Driver": driver_name,
                          "Options": options, "Labels": labels, "Internal": internal, "Attachable": attachable,
                          "IPAMOptions": ipam_options, "EnableIPv6": ipv6, **_pool_fields(None, False), "IPv6": None}
        if driver.sandbox(_spec(record)) is Sandbox.PREPARED:
            record.update(_pool_fields(self._pool_for(ipam_configs.get(4) or {}, 4), bool(ipam_configs.get(4))))
            if ipv6 or 6 in ipam_configs:
                try:
                    record["IPv6"] = _pool_fields(self._pool_for(ipam_configs.get(6) or {}, 6), 6 in ipam_configs)
                except BaseException:
                    self.ipam.release_pool(record["PoolId"])
                    raise
        try:
            driver.create_network(_spec(record))
            try:
                self.store.put(NETWORKS, name, record, 0)
            except Conflict:  # made by another caller in the meantime
                driver.delete_network(_spec(record))
                raise Conflict(f"network with name {name} already exists") from None
            if self.firewall is not None and (rules := _bridge_rules(record)):
                self.firewall.add_bridge(rules)
        except BaseException:
            for pool_id in _pool_ids(record):
                self.ipam.release_pool(pool_id)
            raise
        return record

    def _pool_for(self, config: Mapping[str, Any], version: int) -> Pool:
        if not config.get("Subnet"):
            if config.get("IPRange") or config.get("Gateway"):
                raise InvalidArgument("an ip-range or a gateway needs a subnet")
            return request_free_pool(self.ipam, self.address_pools, self.routed_subnets(), version)
        return self.ipam.request_pool(config["Subnet"], config.get("IPRange") or "", config.get("Gateway") or "",
                                      dict(config.get("AuxiliaryAddresses") or {}))

    def remove(self, ref: str) -> None:
        """DELETE /networks/{id}: refused for a built-in network and while a container is on it."""
        found = self._matches(ref)
        if len(found) > 1:  # dockerd words it otherwise than for inspect
            raise InvalidArgument(f"network {ref} is ambiguous ({len(found)} matches found based on ID prefix)")
        record = self._record(found[0])
        if record["Name"] in PREDEFINED:
            raise Forbidden(f"{record['Name']} is a pre-defined network and cannot be removed")
        if self.endpoints(record["Name"]):
            raise Forbidden(f"error while removing network: network {record['Name']} id {record['Id']} "
                            "has active endpoints")
        self._unmake(record)

    def _unmake(self, record: Record) -> None:
        if self.firewall is not None and (rules := _bridge_rules(record)):
            self.firewall.remove_bridge(rules.bridge)
        self._driver(record["Driver"]).delete_network(_spec(record))
        self.store.delete(NETWORKS, record["Name"])
        for pool_id in _pool_ids(record):
            self.ipam.release_pool(pool_id)

    def prune(self, filters: dict[str, list[str]]) -> list[str]:
        """POST /networks/prune: the user networks no container is on go, those made before `until`
        and with (`label`) or without (`label!`) the labels given; their names."""
        check_keys(filters, ("until", "label", "label!"))
        until = min((parse_until(value) for value in filters.get("until", [])), default=None)
        gone = []
        for record in self._records():
            if record["Name"] in PREDEFINED or self.endpoints(record["Name"]):
                continue
            if until is not None and parse_seconds(record["Created"]) > until:
                continue
            labels = record.get("Labels")
            if not (labels_match(filters.get("label", []), labels)
                    and labels_match(filters.get("label!", []), labels, negate=True)):
                continue
            self._unmake(record)
            gone.append(record["Name"])
        return gone

    # --- containers on networks -------------------------------------------------------------
    def attach(self, container_id: str, name: str, networks: Mapping[str, EndpointRequest]) -> tuple[str, dict[str, Record]]:
        """A container on wired networks is starting: make its network namespace (a file the runtime
        joins) and an endpoint in it on each of `networks` (name -> what was asked: address, aliases);
        (the namespace's path, its endpoints by network name). Nothing is left when a step fails."""
        path = self.sandboxes_dir / container_id
        self.leave(container_id)  # what a daemon killed before the container's exit was seen left
        netns.remove(path)
        netns.create(path)
        try:
            return str(path), self.join(container_id, list(networks), str(path), name, networks)
        except BaseException:
            netns.remove(path)
            raise

    def join(self, container_id: str, networks: Sequence[str], sandbox: int | str, name: str = "",
             requests: Mapping[str, EndpointRequest] | None = None) -> dict[str, Record]:
        """Record a container's sandbox (the network namespace at path `sandbox`, or of process
        `sandbox`) and join it to `networks` (names, in order: the first gives the default route),
        through each network's driver; its endpoints by network name. `name` is the container's name
        as `network inspect` shows it. A sandbox left from a run that never left (a daemon killed)
        is left first."""
        key = sandbox if isinstance(sandbox, str) else f"/proc/{sandbox}/ns/net"
        if self.store.get(SANDBOXES, container_id) is not None:
            self.leave(container_id)
        endpoints: dict[str, Record] = {}
        try:
            for index, network in enumerate(networks):
                request = (requests or {}).get(network) or {}
                endpoint = self._add_endpoint(self._record(network), container_id, name, key, request,
                                              EndpointSpec(secrets.token_hex(32), ifname=f"eth{index}",
                                                           default_route=index == 0))
                endpoints[network] = endpoint
            self.store.put(SANDBOXES, container_id, {
                "Container": container_id, "Name": name, "Key": key, "Id": secrets.token_hex(32),
                "Endpoints": [endpoint["Id"] for endpoint in endpoints.values()]}, 0)
        except BaseException:
            for endpoint in endpoints.values():
                self._drop_endpoint(endpoint["Id"])
            raise
        return endpoints

    def leave(self, container_id: str) -> None:
        """A container exited: its endpoints leave their networks (each through its driver), its
        sandbox record goes, and the namespace file `attach` made. Nothing to do for a container
        that has none."""
        found = self.store.get(SANDBOXES, container_id)
        if found is None:
            return
        ending = Path(found[0]["Key"]).parent == self.sandboxes_dir
        if ending:  # first: with no process left in it, the namespace ends, its interfaces with it
            netns.remove(Path(found[0]["Key"]))
        for endpoint_id in found[0]["Endpoints"]:
            self._drop_endpoint(endpoint_id, sandbox_ending=ending)
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
        if self.sandboxes_dir.is_dir():
            for path in self.sandboxes_dir.iterdir():
                if path.name not in live:
                    netns.remove(path)

    def connect(self, container_id: str, network: str, request: EndpointRequest) -> Record:
        """A running container joins one more network (`network connect`): an endpoint in its sandbox,
        on the first interface name free (eth1...); its default route stays."""
        found = self.store.get(SANDBOXES, container_id)
        if found is None:
            raise Conflict(f"container {container_id} has no network namespace of its own to connect")
        sandbox, version = found
        held = [self.store.get(ENDPOINTS, endpoint_id) for endpoint_id in sandbox["Endpoints"]]
        if any(entry and entry[0]["Network"] == network for entry in held):
            raise Forbidden(f"endpoint with name {sandbox['Name']} already exists in network {network}")
        names = {entry[0].get("Interface") for entry in held if entry}
        ifname = next(f"eth{n}" for n in range(len(names) + 1) if f"eth{n}" not in names)
        endpoint = self._add_endpoint(self._record(network), container_id, sandbox["Name"], sandbox["Key"], request,
                                      EndpointSpec(secrets.token_hex(32), ifname=ifname, default_route=not names))
        try:
            self.store.put(SANDBOXES, container_id,
                           {**sandbox, "Endpoints": [*sandbox["Endpoints"], endpoint["Id"]]}, version)
        except BaseException:
            self._drop_endpoint(endpoint["Id"])
            raise
        return endpoint

    def disconnect(self, container_id: str, network: str) -> None:
        """A running container leaves one network (`network disconnect`); nothing if it is not on it."""
        found = self.store.get(SANDBOXES, container_id)
        if found is None:
            return
        sandbox, version = found
        for endpoint in self.endpoints(network):
            if endpoint["Container"] == container_id:
                self.store.put(SANDBOXES, container_id,
                               {**sandbox, "Endpoints": [e for e in sandbox["Endpoints"] if e != endpoint["Id"]]},
                               version)
                self._drop_endpoint(endpoint["Id"])

    # --- published ports ------------------------------------------------------------------------
    def publish(self, container_id: str, requests: Sequence[PortRequest]) -> list[PortRule]:
        """Publish a running container's ports on the address of its first network's endpoint."""
        if not requests:
            return []
        if self.ports is None:
            raise InvalidArgument("port publishing needs berth's firewall (daemon.json has \"iptables\": false)")
        sandbox = self.sandbox_of(container_id)
        found = self.store.get(ENDPOINTS, sandbox["Endpoints"][0]) if sandbox and sandbox["Endpoints"] else None
        if found is None:
            raise InvalidArgument("port publishing needs a bridge network")
        endpoint = found[0]
        bridge = _bridge_rules(self._record(endpoint["Network"]))
        if bridge is None:
            raise InvalidArgument(f"network {endpoint['Network']} does not publish ports")
        return self.ports.map(requests, endpoint["IPv4Address"].split("/")[0], bridge.bridge,
                              f"{endpoint['Name']} ({endpoint['Id']})")

    def unpublish(self, rules: Sequence[PortRule]) -> None:
        if self.ports is not None and rules:
            self.ports.unmap(rules)

    def restore_published(self, rules: Sequence[PortRule]) -> list[PortRule]:
        """After a restart: the running containers' ports held and forwarded again; those lost."""
        return self.ports.restore(rules) if self.ports is not None and rules else []

    def endpoints(self, network: str | None = None) -> list[Record]:
        """The endpoints in the store, of network `network` (a name) or of all."""
        return [endpoint for endpoint in self.store.list(ENDPOINTS).values()
                if network is None or endpoint["Network"] == network]

    def sandbox_of(self, container_id: str) -> Record | None:
        """A running container's sandbox record: its namespace ("Key"), ID and endpoint IDs."""
        found = self.store.get(SANDBOXES, container_id)
        return found[0] if found else None

    def _add_endpoint(self, network: Record, container_id: str, name: str, netns_path: str,
                      request: EndpointRequest, endpoint: EndpointSpec) -> Record:
        spec = _spec(network)
        driver = self._driver(network["Driver"])
        wanted = request.get("IPAMConfig") or {}
        pools = {4: network if network.get("PoolId") else None, 6: network.get("IPv6")}
        for version, pool in pools.items():
            if wanted.get(f"IPv{version}Address") and not (pool and pool.get("Configured", True)):  # (older records: chosen)
                raise InvalidArgument("user specified IP address is supported only when connecting to networks "
                                      "with user configured subnets")
        # as dockerd: an IPv6 subnet gives no addresses until the network has IPv6 on, --ip6 or not
        pools[6] = pools[6] if network.get("EnableIPv6") else None
        held: list[tuple[str, str]] = []  # (pool, address) handed out here, given back if the join fails
        try:
            for version, pool in pools.items():
                if pool:
                    address = self.ipam.request_address(pool["PoolId"], wanted.get(f"IPv{version}Address") or "")
                    held.append((pool["PoolId"], address))
                    with_prefix = f"{address}/{ipaddress.ip_network(pool['Subnet']).prefixlen}"
                    if version == 4:
                        endpoint.address, endpoint.gateway = with_prefix, pool["Gateway"]
                    else:
                        endpoint.address6, endpoint.gateway6 = with_prefix, pool["Gateway"]
            endpoint.mac = request.get("MacAddress") or ""
            wired = driver.join(spec, endpoint, netns_path)
            record = {"Id": endpoint.id, "Network": network["Name"], "NetworkID": network["Id"],
                      "Container": container_id, "Name": name, "SandboxKey": netns_path,
                      "MacAddress": "", "IPv4Address": "", "IPv6Address": "", "Gateway": endpoint.gateway,
                      "IPv6Gateway": endpoint.gateway6, "Aliases": list(request.get("Aliases") or []), "Links": list(request.get("Links") or []),
                      "Interface": endpoint.ifname, **wired}
            try:
                self.store.put(ENDPOINTS, endpoint.id, record, 0)
            except BaseException:
                driver.leave(spec, endpoint.id)
                raise
            self._name(record)
        except BaseException:
            for pool_id, address in held:
                self.ipam.release_address(pool_id, address)
            raise
        return record

    def _drop_endpoint(self, endpoint_id: str, sandbox_ending: bool = False) -> None:
        found = self.store.get(ENDPOINTS, endpoint_id)
        if found is None:
            return
        endpoint = found[0]
        network = self.store.get(NETWORKS, endpoint["Network"])
        if network is not None and network[0]["Id"] == endpoint["NetworkID"]:
            self._driver(network[0]["Driver"]).leave(_spec(network[0]), endpoint_id, sandbox_ending)
            for pool, key in ((network[0], "IPv4Address"), (network[0].get("IPv6"), "IPv6Address")):
                if pool and pool.get("PoolId") and endpoint.get(key):
                    self.ipam.release_address(pool["PoolId"], endpoint[key].split("/")[0])
        self.store.delete(ENDPOINTS, endpoint_id)
        self.names.remove(endpoint["Network"], endpoint_id)

    def _name(self, endpoint: Record) -> None:
        """Make an endpoint's names known to the embedded DNS (on user-defined networks: dockerd's
        default bridge resolves no names)."""
        addresses = [endpoint[key].split("/")[0] for key in ("IPv4Address", "IPv6Address") if endpoint.get(key)]
        if endpoint["Network"] not in PREDEFINED and addresses:
            self.names.add(endpoint["Network"], endpoint["Id"], endpoint["Container"],
                           [endpoint["Name"], *endpoint.get("Aliases", [])], addresses, endpoint.get("Links", []))

    def _driver(self, name: str) -> NetworkDriver:
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
        config = [{key: value for key in ("Subnet", "IPRange", "Gateway", "AuxiliaryAddresses") if (value := pool.get(key))}
                  for pool in (record, record.get("IPv6")) if pool and pool.get("Subnet")]
        builtin = record["Name"] in (*BUILTIN, DEFAULT_NETWORK)
        return {
            "Name": record["Name"], "Id": record["Id"], "Created": record["Created"], "Scope": "local",
            "Driver": record["Driver"], "EnableIPv6": bool(record.get("EnableIPv6")),
            "IPAM": {"Driver": "default", "Options": None if builtin else record.get("IPAMOptions"),
                     "Config": config},
            "Internal": bool(record.get("Internal")), "Attachable": bool(record.get("Attachable")), "Ingress": False,
            "ConfigFrom": {"Network": ""}, "ConfigOnly": False, "Containers": {},
            "Options": record.get("Options") or {}, "Labels": record.get("Labels") or {},
        }

    @staticmethod
    def _passes(record: Record, filters: dict[str, list[str]]) -> bool:
        labels = record.get("Labels") or {}
        checks = {
            "name": lambda value: value in record["Name"],
            "id": lambda value: record["Id"].startswith(value),
            "driver": lambda value: value == record["Driver"],
            "type": lambda value: value == ("builtin" if record["Name"] in PREDEFINED else "custom"),
            "scope": lambda value: value == "local",
            "label": lambda value: (labels.get(value.split("=", 1)[0]) == value.split("=", 1)[1]) if "=" in value
            else value in labels,
        }
        return all(any(checks[key](value) for value in values) for key, values in filters.items())


def _spec(record: Record) -> NetworkSpec:
    return NetworkSpec(record["Id"], record["Name"], record["Driver"], record.get("Options") or {},
                       subnet=record.get("Subnet") or "", gateway=_gateway(record), internal=bool(record.get("Internal")),
                       gateway6=_gateway(record.get("IPv6")) if record.get("EnableIPv6") else "")


def _gateway(pool: Record | None) -> str:
    """A pool's gateway with its subnet's prefix ("" for none)."""
    if not pool or not pool.get("Subnet"):
        return ""
    return f"{pool['Gateway']}/{ipaddress.ip_network(pool['Subnet']).prefixlen}"


def _pool_fields(pool: Pool | None, configured: bool) -> Record:
    """What a network's record keeps of one of its address pools; `configured`: the user chose its subnet."""
    return {"PoolId": pool.id if pool else "", "Subnet": pool.subnet if pool else "",
            "Gateway": pool.gateway if pool else "", "IPRange": pool.ip_range if pool else "",
            "AuxiliaryAddresses": pool.aux_addresses if pool else {}, "Configured": configured}


def _pool_ids(record: Record) -> list[str]:
    return [pool["PoolId"] for pool in (record, record.get("IPv6")) if pool and pool.get("PoolId")]


def _bridge_rules(record: Record) -> BridgeRules | None:
    """What the firewall does for a bridge network (None for a network of another driver)."""
    if record["Driver"] != "bridge" or not record.get("Subnet"):
        return None
    settings = BridgeSettings.of(_spec(record))
    subnet6 = (record.get("IPv6") or {}).get("Subnet", "") if record.get("EnableIPv6") else ""
    return BridgeRules(settings.name, record["Subnet"], internal=bool(record.get("Internal")),
                       masquerade=settings.masquerade, subnet6=subnet6)


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _attachment(name: str, endpoint: Mapping[str, Any]) -> dict[str, str]:
    """A container on a network as `network inspect` shows it."""
    return {"Name": name, "EndpointID": endpoint.get("Id", ""), "MacAddress": endpoint.get("MacAddress", ""),
            "IPv4Address": endpoint.get("IPv4Address", ""), "IPv6Address": endpoint.get("IPv6Address", "")}
