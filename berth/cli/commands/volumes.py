"""Volume commands: create, ls, inspect, rm, prune."""
from __future__ import annotations

from typing import Any

import click

from berth.cli.commands.containers import confirm, print_reclaimed
from berth.cli.commands.lifecycle import fail_if
from berth.cli.contexts import FormatContext
from berth.cli.errors import CLIError, DaemonError
from berth.cli.session import api

_SETTINGS = {"help_option_names": ["--help"]}
DEFAULT_FORMAT = "table {{.Driver}}\t{{.Name}}"


class VolumeContext(FormatContext):
    """One row of `volume ls`."""

    FIELDS = ("Driver", "Labels", "Links", "Mountpoint", "Name", "Scope", "Size")
    TITLES = {"Driver": "DRIVER", "Name": "VOLUME NAME", "Labels": "LABELS", "Mountpoint": "MOUNTPOINT",
              "Scope": "SCOPE", "Links": "LINKS", "Size": "SIZE"}

    def __init__(self, volume: dict[str, Any]) -> None:
        self.volume = volume

    def Driver(self) -> str:
        return self.volume["Driver"]

    def Name(self) -> str:
        return self.volume["Name"]

    def Mountpoint(self) -> str:
        return self.volume["Mountpoint"]

    def Scope(self) -> str:
        return self.volume.get("Scope") or "local"

    def Labels(self) -> str:
        return ",".join(f"{key}={value}" for key, value in (self.volume.get("Labels") or {}).items())

    def Links(self) -> str:
        return "N/A"

    def Size(self) -> str:
        return "N/A"


def _key_values(values: tuple[str, ...], what: str) -> dict[str, str]:
    pairs = {}
    for value in values:
        key, sep, item = value.partition("=")
        if not sep and what == "opt":
            raise CLIError(f'invalid argument "{value}" for "-o, --opt" flag: opt must be in the form KEY=VALUE')
        pairs[key] = item
    return pairs


@click.command(context_settings=_SETTINGS, short_help="Create a volume")
@click.option("-d", "--driver", default="local", metavar="string", help="Specify volume driver name")
@click.option("--label", multiple=True, metavar="list", help="Set metadata for a volume")
@click.option("-o", "--opt", multiple=True, metavar="map", help="Set driver specific options")
@click.argument("name", required=False)
def create(driver: str, label: tuple[str, ...], opt: tuple[str, ...], name: str | None) -> None:
    """Create a volume."""
    body = {"Name": name or "", "Driver": driver, "DriverOpts": _key_values(opt, "opt"),
            "Labels": _key_values(label, "label")}
    click.echo(api().post("/volumes/create", json_body=body)["Name"])


@click.command("ls", context_settings=_SETTINGS, short_help="List volumes")
@click.option("-f", "--filter", "filters", multiple=True, metavar="filter", help="Provide filter values (e.g. 'dangling=true')")
@click.option("--format", "format_", metavar="string", help="Pretty-print volumes using a Go template")
@click.option("-q", "--quiet", is_flag=True, help="Only display volume names")
def ls(filters: tuple[str, ...], format_: str | None, quiet: bool) -> None:
    """List volumes."""
    from berth.cli.client import encode_filters
    from berth.cli.filters import parse_filters
    from berth.cli.formatter import render, resolve_format

    found = api().get("/volumes", {"filters": encode_filters(parse_filters(filters))}).get("Volumes") or []
    rows = [VolumeContext(volume) for volume in sorted(found, key=lambda v: v["Name"])]
    fmt = resolve_format(format_, DEFAULT_FORMAT, "{{.Name}}", quiet)
    click.echo(render(fmt, rows, VolumeContext.TITLES), nl=False)


@click.command(context_settings=_SETTINGS, short_help="Display detailed information on one or more volumes")
@click.option("-f", "--format", "format_", metavar="string", help="Format the output using the given Go template")
@click.argument("volumes", metavar="VOLUME [VOLUME...]", nargs=-1, required=True)
def inspect(format_: str | None, volumes: tuple[str, ...]) -> None:
    """Display detailed information on one or more volumes."""
    from berth.cli.commands.inspect import inspect_all

    def volume(client: Any, name: str, _size: bool) -> Any:
        try:
            return client.get(f"/volumes/{name}")
        except DaemonError as err:
            raise CLIError(f"Error: No such volume: {name}") if err.status == 404 else err from None

    inspect_all(api(), volumes, volume, format_)


@click.command(context_settings=_SETTINGS, short_help="Remove one or more volumes")
@click.option("-f", "--force", is_flag=True, help="Force the removal of one or more volumes")
@click.argument("volumes", metavar="VOLUME [VOLUME...]", nargs=-1, required=True)
def rm(force: bool, volumes: tuple[str, ...]) -> None:
    """Remove one or more volumes. You cannot remove a volume that is in use by a container."""
    client = api()
    errors: list[str] = []
    for volume in volumes:
        try:
            client.delete(f"/volumes/{volume}", {"force": force or None})
        except DaemonError as err:
            errors.append(f"Error: No such volume: {volume}" if err.status == 404 else err.message)
            continue
        click.echo(volume)
    fail_if(errors)


@click.command(context_settings=_SETTINGS, short_help="Remove all unused local volumes")
@click.option("-a", "--all", "all_", is_flag=True, help="Remove all unused volumes, not just anonymous ones")
@click.option("--filter", "filters", multiple=True, metavar="filter", help='Provide filter values (e.g. "label=<label>")')
@click.option("-f", "--force", is_flag=True, help="Do not prompt for confirmation")
def prune(all_: bool, filters: tuple[str, ...], force: bool) -> None:
    """Remove all unused local volumes."""
    from berth.cli.client import encode_filters
    from berth.cli.filters import parse_filters

    if not force and not confirm("WARNING! This will remove all local volumes not used by at least one container."):
        return
    answer = api().post("/volumes/prune", {"filters": encode_filters(parse_filters(filters))})
    deleted = answer.get("VolumesDeleted") or []
    if deleted:
        click.echo("Deleted Volumes:\n" + "".join(f"{name}\n" for name in deleted))
    print_reclaimed(answer.get("SpaceReclaimed") or 0)
