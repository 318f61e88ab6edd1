"""System commands: version, info, df, events, check, prune, and `berth daemon`."""
from __future__ import annotations

import os
import platform
import sys
from typing import Any

import click

from berth import API_VERSION, __version__
from berth.cli.contexts import FormatContext
from berth.cli.errors import CLIError
from berth.cli.session import api

_SETTINGS = {"help_option_names": ["--help"]}


def _client_version() -> dict[str, Any]:
    return {"Platform": {"Name": "berth"}, "Version": __version__, "ApiVersion": API_VERSION,
            "DefaultAPIVersion": API_VERSION, "PythonVersion": platform.python_version(),
            "Os": sys.platform, "Arch": platform.machine(), "Context": "default"}


def _print_fields(fields: list[tuple[str, Any]], indent: str) -> None:
    width = max(len(name) for name, _ in fields) + 2
    for name, value in fields:
        click.echo(f"{indent}{(name + ':').ljust(width)}{value}")


@click.command(context_settings=_SETTINGS, short_help="Show the berth version information")
@click.option("-f", "--format", "format_", metavar="string", help="Format output using a custom template")
def version(format_: str | None) -> None:
    """Show the berth version information."""
    client_info = _client_version()
    server_error: CLIError | None = None
    try:
        server = api().get("/version")
    except CLIError as err:
        server, server_error = None, err
    if format_ == "json":
        from berth.cli.wire import dumps

        click.echo(dumps({"Client": client_info, "Server": server}, ensure_ascii=False, separators=(",", ":")))
    elif format_:
        from berth.cli.commands.inspect import show

        show([{"Client": client_info, "Server": server}], format_)
    else:
        click.echo("Client:")
        _print_fields([("Version", client_info["Version"]), ("API version", client_info["ApiVersion"]),
                       ("Python version", client_info["PythonVersion"]),
                       ("OS/Arch", f"{client_info['Os']}/{client_info['Arch']}"),
                       ("Context", client_info["Context"])], " ")
        if server is not None:
            _print_server_version(server)
    if server_error is not None:
        raise server_error


def _print_server_version(server: dict[str, Any]) -> None:
    click.echo()
    click.echo(f"Server: {(server.get('Platform') or {}).get('Name', '')}".rstrip())
    components = server.get("Components") or [{"Name": "Engine", "Version": server.get("Version"), "Details": {}}]
    for component in components:
        click.echo(f" {component.get('Name')}:")
        fields: list[tuple[str, Any]] = [("Version", component.get("Version"))]
        if component.get("Name") == "Engine":
            fields += [("API version", f"{server.get('ApiVersion')} (minimum version {server.get('MinAPIVersion')})"),
                       ("Git commit", server.get("GitCommit", "")), ("Built", server.get("BuildTime", "")),
                       ("OS/Arch", f"{server.get('Os')}/{server.get('Arch')}"),
                       ("Experimental", str(bool(server.get("Experimental"))).lower())]
        else:
            fields += [(key, value) for key, value in (component.get("Details") or {}).items()]
        _print_fields(fields, "  ")


@click.command(context_settings=_SETTINGS, short_help="Display system-wide information")
@click.option("-f", "--format", "format_", metavar="string", help="Format output using a custom template")
def info(format_: str | None) -> None:
    """Display system-wide information."""
    data = api().get("/info") or {}
    if format_:
        from berth.cli.commands.inspect import show

        show([{**data, "ClientInfo": _client_version()}], format_)
        return
    from berth.cli.units import bytes_size

    click.echo("Client:")
    _print_fields([("Version", __version__), ("Context", "default"), ("Debug Mode", "false")], " ")
    click.echo()
    click.echo("Server:")
    lines = [
        f" Containers: {data.get('Containers', 0)}",
        f"  Running: {data.get('ContainersRunning', 0)}",
        f"  Paused: {data.get('ContainersPaused', 0)}",
        f"  Stopped: {data.get('ContainersStopped', 0)}",
        f" Images: {data.get('Images', 0)}",
        f" Server Version: {data.get('ServerVersion', '')}",
        f" Storage Driver: {data.get('Driver', '')}",
    ]
    lines += [f"  {name}: {value}" for name, value in data.get("DriverStatus") or []]
    lines += [
        f" Logging Driver: {data.get('LoggingDriver', '')}",
        f" Cgroup Driver: {data.get('CgroupDriver', '')}",
        f" Cgroup Version: {data.get('CgroupVersion', '')}",
        f" Default Runtime: {data.get('DefaultRuntime', '')}",
        " Security Options:",
        *[line for option in data.get("SecurityOptions") or [] for line in _security_option_lines(option)],
        f" Kernel Version: {data.get('KernelVersion', '')}",
        f" Operating System: {data.get('OperatingSystem', '')}",
        f" OSType: {data.get('OSType', '')}",
        f" Architecture: {data.get('Architecture', '')}",
        f" CPUs: {data.get('NCPU', 0)}",
        f" Total Memory: {bytes_size(data.get('MemTotal', 0))}",
        f" Name: {data.get('Name', '')}",
        f" ID: {data.get('ID', '')}",
        f" Docker Root Dir: {data.get('DockerRootDir', '')}",
        f" Debug Mode: {str(bool(data.get('Debug'))).lower()}",
    ]
    if data.get("Labels"):
        lines += [" Labels:", *[f"  {label}" for label in data["Labels"]]]
    registries = data.get("RegistryConfig") or {}
    insecure = [name for name, index in (registries.get("IndexConfigs") or {}).items() if not index.get("Secure")]
    insecure += registries.get("InsecureRegistryCIDRs") or []
    if insecure:
        lines += [" Insecure Registries:", *[f"  {entry}" for entry in insecure]]
    if registries.get("Mirrors"):
        lines += [" Registry Mirrors:", *[f"  {mirror}" for mirror in registries["Mirrors"]]]
    lines.append(f" Live Restore Enabled: {str(bool(data.get('LiveRestoreEnabled'))).lower()}")
    click.echo("\n".join(lines))
    for warning in data.get("Warnings") or []:
        click.echo(warning, err=True)


def _percent_of(part: int, total: int) -> str:
    from berth.cli.units import human_size

    return f"{human_size(part, 4)} ({part * 100 // total}%)" if total > 0 else human_size(part, 4)


def disk_usage_rows(usage: dict[str, Any]) -> list[list[str]]:
    """TYPE, TOTAL, ACTIVE, SIZE, RECLAIMABLE rows of `system df` (docker's arithmetic)."""
    from berth.cli.units import human_size

    images = usage.get("Images") or []
    layers_size = usage.get("LayersSize") or 0
    used = sum(i.get("Size", 0) - i.get("SharedSize", 0) for i in images
               if i.get("Containers", 0) > 0 and i.get("SharedSize", -1) != -1)
    containers = usage.get("Containers") or []
    containers_size = sum(c.get("SizeRw") or 0 for c in containers)
    idle_size = sum(c.get("SizeRw") or 0 for c in containers if c.get("State") != "running")
    volumes = usage.get("Volumes") or []
    volume_size = sum(max((v.get("UsageData") or {}).get("Size", 0), 0) for v in volumes)
    unused_volumes = sum(max((v.get("UsageData") or {}).get("Size", 0), 0) for v in volumes
                         if (v.get("UsageData") or {}).get("RefCount", 0) == 0)
    cache = usage.get("BuildCache") or []
    cache_size = sum(b.get("Size", 0) for b in cache)
    cache_idle = sum(b.get("Size", 0) for b in cache if not b.get("InUse") and not b.get("Shared"))
    return [
        ["Images", str(len(images)), str(sum(1 for i in images if i.get("Containers", 0) > 0)),
         human_size(layers_size, 4), _percent_of(layers_size - used, layers_size)],
        ["Containers", str(len(containers)), str(sum(1 for c in containers if c.get("State") == "running")),
         human_size(containers_size, 4), _percent_of(idle_size, containers_size)],
        ["Local Volumes", str(len(volumes)),
         str(sum(1 for v in volumes if (v.get("UsageData") or {}).get("RefCount", 0) > 0)),
         human_size(volume_size, 4), _percent_of(unused_volumes, volume_size)],
        ["Build Cache", str(len(cache)), str(sum(1 for b in cache if b.get("InUse"))),
         human_size(cache_size, 4), human_size(cache_idle, 4)],
    ]


DF_IMAGES = ("table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}"
             "\t{{.UniqueSize}}\t{{.Containers}}")
DF_CONTAINERS = ("table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}"
                 "\t{{.Status}}\t{{.Names}}")


DF_SUMMARY = "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}"


class DiskUsageContext(FormatContext):
    """One row of `system df`: a kind of object and the space it takes."""

    FIELDS = ("Active", "Reclaimable", "Size", "TotalCount", "Type")
    TITLES = {"Type": "TYPE", "TotalCount": "TOTAL", "Active": "ACTIVE", "Size": "SIZE", "Reclaimable": "RECLAIMABLE"}

    def __init__(self, row: list[str]) -> None:
        self.row = row

    def Type(self) -> str:
        return self.row[0]

    def TotalCount(self) -> str:
        return self.row[1]

    def Active(self) -> str:
        return self.row[2]

    def Size(self) -> str:
        return self.row[3]

    def Reclaimable(self) -> str:
        return self.row[4]


@click.command(context_settings=_SETTINGS, short_help="Show berth disk usage")
@click.option("--format", "format_", metavar="string", help="Format output using a custom template: 'table', "
              "'table TEMPLATE', 'json' or 'TEMPLATE' (a Go template)")
@click.option("-v", "--verbose", is_flag=True, help="Show detailed information on space usage")
def df(format_: str | None, verbose: bool) -> None:
    """Show berth disk usage."""
    from berth.cli.formatter import render, resolve_format, tabwrite

    if verbose and format_:
        raise CLIError("berth: --format together with --verbose is not supported yet")
    usage = api().get("/system/df") or {}
    if not verbose:
        rows = [DiskUsageContext(row) for row in disk_usage_rows(usage)]
        click.echo(render(resolve_format(format_, DF_SUMMARY), rows, DiskUsageContext.TITLES), nl=False)
        return
    from berth.cli.contexts import ContainerContext, ImageContext, image_rows

    class LayerSizeContext(ContainerContext):
        def Size(self) -> str:  # the writable layer alone, as docker's `df -v` shows it
            return human_size(self.item.get("SizeRw") or 0)

    from berth.cli.units import human_size

    images = image_rows(usage.get("Images") or [], digests=False, trunc=True)
    containers = [LayerSizeContext(item) for item in usage.get("Containers") or []]
    click.echo("Images space usage:\n")
    click.echo(render(DF_IMAGES, images, ImageContext.TITLES))
    click.echo("Containers space usage:\n")
    click.echo(render(DF_CONTAINERS, containers, ContainerContext.TITLES))
    click.echo("Local Volumes space usage:\n")
    volume_rows = "".join(f"{volume['Name']}\t{(volume.get('UsageData') or {}).get('RefCount', 0)}\t"
                          f"{human_size(max((volume.get('UsageData') or {}).get('Size', 0), 0))}\n"
                          for volume in sorted(usage.get("Volumes") or [], key=lambda v: v["Name"]))
    click.echo(tabwrite("VOLUME NAME\tLINKS\tSIZE\n" + volume_rows))
    cache = sum(entry.get("Size", 0) for entry in usage.get("BuildCache") or [])
    click.echo(f"Build cache usage: {human_size(cache)}\n")
    click.echo(tabwrite("CACHE ID\tCACHE TYPE\tSIZE\tCREATED\tLAST USED\tUSAGE\tSHARED\n"), nl=False)


def event_line(event: dict[str, Any]) -> str:
    """docker's default event line: time, type, action, actor id, (attributes)."""
    from datetime import datetime

    nanos = event.get("timeNano") or int(event.get("time", 0)) * 1_000_000_000
    moment = datetime.fromtimestamp(nanos // 1_000_000_000).astimezone()
    offset = moment.strftime("%z")
    zone = "Z" if offset == "+0000" else f"{offset[:3]}:{offset[3:]}"
    stamp = f"{moment.strftime('%Y-%m-%dT%H:%M:%S')}.{nanos % 1_000_000_000:09d}{zone}"
    actor = event.get("Actor") or {}
    line = f"{stamp} {event.get('Type', '')} {event.get('Action', '')} {actor.get('ID', '')}"
    attributes = actor.get("Attributes") or {}
    if attributes:
        line += " (" + ", ".join(f"{k}={v}" for k, v in sorted(attributes.items())) + ")"
    return line


@click.command(context_settings=_SETTINGS, short_help="Get real time events from the server")
@click.option("-f", "--filter", "filters", multiple=True, metavar="filter", help="Filter output based on conditions provided")
@click.option("--format", "format_", metavar="string", help="Format output using a custom template")
@click.option("--since", metavar="string", help="Show all events created since timestamp")
@click.option("--until", metavar="string", help="Stream events until this timestamp")
def events(filters: tuple[str, ...], format_: str | None, since: str | None, until: str | None) -> None:
    """Get real time events from the server."""
    from berth.cli.client import encode_filters
    from berth.cli.filters import parse_filters
    from berth.cli.units import api_timestamp

    try:
        params = {"since": api_timestamp(since) if since else None, "until": api_timestamp(until) if until else None,
                  "filters": encode_filters(parse_filters(filters))}
    except ValueError as err:
        raise CLIError(str(err)) from None
    template = None
    if format_:
        from berth.cli.formatter import resolve_format, unescape
        from berth.cli.gotemplate import Template

        template = Template(unescape(resolve_format(format_, "")))
    for event in api().request("GET", "/events", params).iter_json():
        click.echo(template.execute(event) if template else event_line(event))
        sys.stdout.flush()


@click.command(context_settings=_SETTINGS, short_help="Check the daemon's store for problems")
def check() -> None:
    """Check the daemon's store for problems (berth's own API extension)."""
    result = api().get("/berth/system/check")
    problems = result.get("Problems") if isinstance(result, dict) else result
    if not problems:
        click.echo("store OK")
        return
    for problem in problems:
        click.echo(problem if isinstance(problem, str) else " ".join(f"{k}={v}" for k, v in problem.items()))
    raise CLIError(f"{len(problems)} problem(s) found")


@click.command(context_settings=_SETTINGS, short_help="Remove unused data")
@click.option("-a", "--all", "all_", is_flag=True, help="Remove all unused images not just dangling ones")
@click.option("-f", "--force", is_flag=True, help="Do not prompt for confirmation")
def prune(all_: bool, force: bool) -> None:
    """Remove stopped containers and unused images."""
    from berth.cli.commands.containers import confirm, print_reclaimed

    images = "all images without at least one container associated to them" if all_ else "all dangling images"
    warning = ("WARNING! This will remove:\n  - all stopped containers\n  - all networks not used by at least "
               f"one container\n  - {images}\n  - unused build cache\n")
    if not force and not confirm(warning):
        return
    client = api()
    from berth.cli.client import encode_filters

    containers = client.post("/containers/prune") or {}
    images_result = client.post("/images/prune", {"filters": encode_filters({"dangling": ["false" if all_ else "true"]})}) or {}
    for title, ids in (("Deleted Containers:", containers.get("ContainersDeleted")),
                       ("Deleted Images:", [next(iter(i.values())) for i in images_result.get("ImagesDeleted") or []])):
        if ids:
            click.echo(title)
            click.echo("\n".join(ids) + "\n")
    print_reclaimed((containers.get("SpaceReclaimed") or 0) + (images_result.get("SpaceReclaimed") or 0))


@click.command(context_settings={**_SETTINGS, "ignore_unknown_options": True, "allow_extra_args": True,
                                 "help_option_names": []},
               short_help="Run berthd in the foreground (arguments are passed on)")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def daemon(args: tuple[str, ...]) -> None:
    """Run berthd in the foreground, logging to the terminal (arguments are passed on)."""
    try:
        os.execvp("berthd", ["berthd", *args])
    except OSError as err:
        raise CLIError(f"cannot run berthd: {err.strerror}") from None


@click.command(context_settings={**_SETTINGS, "ignore_unknown_options": True, "allow_extra_args": True,
                                 "help_option_names": []},
               short_help="Run berth's registry server: serve, garbage-collect (arguments are passed on)")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def registry(args: tuple[str, ...]) -> None:
    """Run berth's registry server, a program of its own (`python -m berth.registry`): `berth registry serve
    [OPTIONS]`, `berth registry garbage-collect [OPTIONS]`; the CLI imports none of its code."""
    try:
        os.execv(sys.executable, [sys.executable, "-m", "berth.registry", *args])
    except OSError as err:
        raise CLIError(f"cannot run the registry: {err.strerror}") from None


def _security_option_lines(option: str) -> list[str]:
    """`name=seccomp,profile=default` as docker info shows it: the name, then each setting below it."""
    lines = []
    for field in option.split(","):
        key, _, value = field.partition("=")
        lines.append(f"  {value}" if key == "name" else f"   {key.title()}: {value}")
    return lines
