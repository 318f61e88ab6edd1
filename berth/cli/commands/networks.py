"""Network commands: ls, create, inspect, rm, prune, connect, disconnect."""
from __future__ import annotations

from typing import Any

import click

from berth.cli.commands.containers import confirm
from berth.cli.commands.lifecycle import fail_if
from berth.cli.contexts import FormatContext, short_id
from berth.cli.errors import CLIError, DaemonError
from berth.cli.session import api

_SETTINGS = {"help_option_names": ["--help"]}
DEFAULT_FORMAT = "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}"


class NetworkContext(FormatContext):
    """One row of `network ls`."""

    FIELDS = ("CreatedAt", "Driver", "ID", "IPv6", "Internal", "Labels", "Name", "Scope")
    TITLES = {"ID": "NETWORK ID", "Name": "NAME", "Driver": "DRIVER", "Scope": "SCOPE", "IPv6": "IPV6",
              "Internal": "INTERNAL", "Labels": "LABELS", "CreatedAt": "CREATED AT"}

    def __init__(self, network: dict[str, Any], trunc: bool) -> None:
        self.network = network
        self.trunc = trunc

    def ID(self) -> str:
        return short_id(self.network["Id"]) if self.trunc else self.network["Id"]

    def Name(self) -> str:
        return self.network["Name"]

    def Driver(self) -> str:
        return self.network["Driver"]

    def Scope(self) -> str:
        return self.network["Scope"]

    def IPv6(self) -> str:
        return str(bool(self.network.get("EnableIPv6"))).lower()

    def Internal(self) -> str:
        return str(bool(self.network.get("Internal"))).lower()

    def Labels(self) -> str:
        return ",".join(f"{key}={value}" for key, value in (self.network.get("Labels") or {}).items())

    def CreatedAt(self) -> str:
        from berth.cli.units import go_time
        from berth.timestamps import parse_seconds

        return go_time(parse_seconds(self.network["Created"]))


@click.command("ls", context_settings=_SETTINGS, short_help="List networks")
@click.option("-f", "--filter", "filters", multiple=True, metavar="filter", help="Provide filter values (e.g. 'driver=bridge')")
@click.option("--format", "format_", metavar="string", help="Pretty-print networks using a Go template")
@click.option("--no-trunc", is_flag=True, help="Do not truncate the output")
@click.option("-q", "--quiet", is_flag=True, help="Only display network IDs")
def ls(filters: tuple[str, ...], format_: str | None, no_trunc: bool, quiet: bool) -> None:
    """List networks."""
    from berth.cli.client import encode_filters
    from berth.cli.filters import parse_filters
    from berth.cli.formatter import render, resolve_format

    found = api().get("/networks", {"filters": encode_filters(parse_filters(filters))}) or []
    rows = [NetworkContext(network, trunc=not no_trunc) for network in sorted(found, key=lambda n: n["Name"])]
    fmt = resolve_format(format_, DEFAULT_FORMAT, "{{.ID}}", quiet)
    click.echo(render(fmt, rows, NetworkContext.TITLES), nl=False)


def _key_values(values: tuple[str, ...], what: str) -> dict[str, str]:
    pairs = {}
    for value in values:
        key, sep, item = value.partition("=")
        if not sep:
            raise CLIError(f'invalid argument "{value}" for "{what}" flag: {what} must be in the form KEY=VALUE')
        pairs[key] = item
    return pairs


@click.command(context_settings=_SETTINGS, short_help="Create a network")
@click.option("--attachable", is_flag=True, help="Enable manual container attachment")
@click.option("--aux-address", multiple=True, metavar="map", help="Auxiliary IPv4 or IPv6 addresses used by Network driver")
@click.option("-d", "--driver", default="bridge", metavar="string", help='Driver to manage the Network (default "bridge")')
@click.option("--gateway", multiple=True, metavar="strings", help="IPv4 or IPv6 Gateway for the master subnet")
@click.option("--internal", is_flag=True, help="Restrict external access to the network")
@click.option("--ip-range", multiple=True, metavar="strings", help="Allocate container ip from a sub-range")
@click.option("--ipam-driver", default="default", metavar="string", help='IP Address Management Driver (default "default")')
@click.option("--ipam-opt", multiple=True, metavar="map", help="Set IPAM driver specific options")
@click.option("--ipv6", is_flag=True, help="Enable IPv6 networking")
@click.option("--label", multiple=True, metavar="list", help="Set metadata on a network")
@click.option("-o", "--opt", multiple=True, metavar="map", help="Set driver specific options")
@click.option("--subnet", multiple=True, metavar="strings", help="Subnet in CIDR format that represents a network segment")
@click.argument("name")
def create(attachable: bool, aux_address: tuple[str, ...], driver: str, gateway: tuple[str, ...], internal: bool,
           ip_range: tuple[str, ...], ipam_driver: str, ipam_opt: tuple[str, ...], ipv6: bool,
           label: tuple[str, ...], opt: tuple[str, ...], subnet: tuple[str, ...], name: str) -> None:
    """Create a network."""
    configs = _ipam_configs(subnet, gateway, ip_range, _key_values(aux_address, "aux-address"))
    from berth.cli.runconfig import parse_labels

    labels = parse_labels(label)
    body = {"Name": name, "CheckDuplicate": True, "Driver": driver, "Internal": internal,
            "Attachable": attachable, "EnableIPv6": ipv6, "Options": _key_values(opt, "opt"), "Labels": labels,
            "IPAM": {"Driver": ipam_driver, "Config": configs, "Options": _key_values(ipam_opt, "ipam-opt")}}
    click.echo(api().post("/networks/create", json_body=body)["Id"])


@click.command(context_settings=_SETTINGS, short_help="Display detailed information on one or more networks")
@click.option("-f", "--format", "format_", metavar="string", help="Format the output using the given Go template")
@click.option("-v", "--verbose", is_flag=True, help="Verbose output for diagnostics")
@click.argument("networks", metavar="NETWORK [NETWORK...]", nargs=-1, required=True)
def inspect(format_: str | None, verbose: bool, networks: tuple[str, ...]) -> None:
    """Display detailed information on one or more networks."""
    from berth.cli.commands.inspect import inspect_all

    def network(client: Any, name: str, _size: bool) -> Any:
        try:
            return client.get(f"/networks/{name}")
        except DaemonError as err:
            raise _no_such(err, name) from None

    inspect_all(api(), networks, network, format_)


def _ipam_configs(subnets: tuple[str, ...], gateways: tuple[str, ...], ranges: tuple[str, ...],
                  aux_addresses: dict[str, str]) -> list[dict[str, Any]]:
    """IPAM.Config as the docker CLI makes it: each gateway, ip-range and auxiliary address goes with
    the subnet that holds it (so IPv4 and IPv6 ones may come in any order)."""
    import ipaddress

    if len(gateways) > len(subnets) or len(ranges) > len(subnets):
        raise CLIError("every ip-range or gateway must have a corresponding subnet")

    def holding(value: str, what: str) -> dict[str, Any]:
        try:
            found = ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise CLIError(f"invalid {what}: {value}") from None
        for config, network in zip(configs, networks, strict=True):
            if network.version == found.version and found.subnet_of(network):  # type: ignore[arg-type]
                return config
        raise CLIError(f"no matching subnet for {what} {value}")

    try:
        networks = [ipaddress.ip_network(value, strict=False) for value in subnets]
    except ValueError as error:
        raise CLIError(f"invalid subnet: {error}") from None
    configs: list[dict[str, Any]] = [{"Subnet": value} for value in subnets]
    for values, key, what, plural in ((gateways, "Gateway", "gateway", "gateways"), (ranges, "IPRange", "range", "ranges")):
        for value in values:
            config = holding(value, what)
            if key in config:
                on = "for the same" if key == "Gateway" else "on the same"
                raise CLIError(f"cannot configure multiple {plural} ({value}, {config[key]}) {on} subnet "
                               f"({config['Subnet']})")
            config[key] = value
    for key, value in aux_addresses.items():
        holding(value, "aux-address").setdefault("AuxiliaryAddresses", {})[key] = value
    return configs


def _no_such(err: DaemonError, name: str) -> CLIError:
    """The docker CLI's words for a network the daemon does not know."""
    return CLIError(f"Error: No such network: {name}") if err.status == 404 else err


@click.command(context_settings=_SETTINGS, short_help="Remove one or more networks")
@click.argument("networks", metavar="NETWORK [NETWORK...]", nargs=-1, required=True)
def rm(networks: tuple[str, ...]) -> None:
    """Remove one or more networks."""
    client = api()
    errors: list[str] = []
    for network in networks:
        try:
            client.delete(f"/networks/{network}")
        except DaemonError as err:
            errors.append(_no_such(err, network).message)
            continue
        click.echo(network)
    fail_if(errors)


@click.command(context_settings=_SETTINGS, short_help="Remove all unused networks")
@click.option("--filter", "filters", multiple=True, metavar="filter", help='Provide filter values (e.g. "until=<timestamp>")')
@click.option("-f", "--force", is_flag=True, help="Do not prompt for confirmation")
def prune(filters: tuple[str, ...], force: bool) -> None:
    """Remove all unused networks."""
    from berth.cli.client import encode_filters
    from berth.cli.filters import parse_filters

    if not force and not confirm("WARNING! This will remove all custom networks not used by at least one container."):
        return
    deleted = api().post("/networks/prune", {"filters": encode_filters(parse_filters(filters))})["NetworksDeleted"]
    if deleted:
        click.echo("Deleted Networks:\n" + "".join(f"{name}\n" for name in deleted), nl=False)


@click.command(context_settings=_SETTINGS, short_help="Connect a container to a network")
@click.option("--alias", multiple=True, metavar="strings", help="Add network-scoped alias for the container")
@click.option("--ip", metavar="string", help="IPv4 address (e.g., 172.30.100.104)")
@click.option("--ip6", metavar="string", help="IPv6 address (e.g., 2001:db8::33)")
@click.option("--link", multiple=True, metavar="list", help="Add link to another container")
@click.option("--link-local-ip", multiple=True, metavar="strings", help="Add a link-local address for the container")
@click.option("--driver-opt", multiple=True, metavar="strings", help="driver options for the network")
@click.argument("network")
@click.argument("container")
def connect(alias: tuple[str, ...], ip: str | None, ip6: str | None, link: tuple[str, ...],
            link_local_ip: tuple[str, ...], driver_opt: tuple[str, ...], network: str, container: str) -> None:
    """Connect a container to a network."""
    addresses = {key: value for key, value in (("IPv4Address", ip), ("IPv6Address", ip6)) if value}
    if link_local_ip:
        addresses["LinkLocalIPs"] = list(link_local_ip)  # type: ignore[assignment]
    endpoint = {"IPAMConfig": addresses or None, "Aliases": list(alias) or None, "Links": list(link) or None,
                "DriverOpts": _key_values(driver_opt, "driver-opt") or None}
    api().post(f"/networks/{network}/connect", json_body={"Container": container, "EndpointConfig": endpoint})


@click.command(context_settings=_SETTINGS, short_help="Disconnect a container from a network")
@click.option("-f", "--force", is_flag=True, help="Force the container to disconnect from a network")
@click.argument("network")
@click.argument("container")
def disconnect(force: bool, network: str, container: str) -> None:
    """Disconnect a container from a network."""
    api().post(f"/networks/{network}/disconnect", json_body={"Container": container, "Force": force})


@click.command(context_settings=_SETTINGS, short_help="Show how a container is wired to its networks")
@click.option("--format", "format_", type=click.Choice(["tree", "json"]), default="tree",
              help="tree (default) or json")
@click.argument("container")
def explain(format_: str, container: str) -> None:
    """Show a running container's network namespace, each interface with its veth peer and bridge,
    addresses, routes, DNS servers and the firewall rules that apply to it."""
    explained = api().get(f"/containers/{container}/network/explain")
    if format_ == "json":
        from berth.cli.wire import dumps

        click.echo(dumps(explained, indent=4))
        return
    from rich.console import Console

    Console(highlight=False).print(_tree(explained))


def _tree(explained: dict[str, Any]) -> Any:
    from rich.markup import escape
    from rich.tree import Tree

    tree = Tree(f"[bold]{escape(explained['Container'])}[/] ({explained['Id'][:12]}), "
                f"network mode {escape(explained['NetworkMode'] or 'default')}")
    namespace = tree.add(f"network namespace: {escape(explained['Namespace'])}"
                         + (f" (shared with {explained['SharedWith'][:12]})" if explained.get("SharedWith") else ""))
    for interface in explained["Interfaces"]:
        node = namespace.add(f"[bold]{escape(interface['name'])}[/] {interface['kind']}"
                             + (f" on network [cyan]{escape(interface['network'])}[/]" if interface.get("network") else "")
                             + f", mac {interface['mac']}, mtu {interface['mtu']}, {interface['state'].lower()}")
        for address in interface["addresses"]:
            node.add(f"address {address}")
        if interface.get("peer"):
            node.add(f"veth peer on the host: [bold]{escape(interface['peer'])}[/], on bridge "
                     f"[bold]{escape(interface['bridge'] or '(none)')}[/]"
                     + (f" ({', '.join(interface['gateway'])})" if interface.get("gateway") else ""))
    routes = tree.add("routes")
    for route in explained["Routes"]:
        routes.add(f"{route['destination']}" + (f" via {route['gateway']}" if route["gateway"] else "")
                   + (f" dev {route['device']}" if route["device"] else ""))
    dns = explained["DNS"]
    resolver = tree.add("DNS: " + (", ".join(dns["nameservers"]) or "no nameserver"))
    for key in ("search", "options"):
        if dns[key]:
            resolver.add(f"{key} {' '.join(dns[key])}")
    rules = tree.add("firewall rules for its addresses" if explained["Rules"] else "firewall rules: none apply")
    for rule in explained["Rules"]:
        rules.add(escape(rule))
    return tree
