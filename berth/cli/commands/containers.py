"""Per-container commands (start, stop, restart, kill and rm are in berth.cli.commands.lifecycle)."""
from __future__ import annotations

import sys
from collections.abc import Iterable

import click

from berth.cli.clicktypes import GoBytes, GoCpus
from berth.cli.commands.lifecycle import fail_if, for_each
from berth.cli.errors import CLIError
from berth.cli.session import api

_SETTINGS = {"help_option_names": ["--help"]}


@click.command(context_settings=_SETTINGS, short_help="Pause all processes within one or more containers")
@click.argument("containers", metavar="CONTAINER [CONTAINER...]", nargs=-1, required=True)
def pause(containers: tuple[str, ...]) -> None:
    """Pause all processes within one or more containers."""
    client = api()
    fail_if(for_each(containers, lambda name: client.post(f"/containers/{name}/pause")))


@click.command(context_settings=_SETTINGS, short_help="Unpause all processes within one or more containers")
@click.argument("containers", metavar="CONTAINER [CONTAINER...]", nargs=-1, required=True)
def unpause(containers: tuple[str, ...]) -> None:
    """Unpause all processes within one or more containers."""
    client = api()
    fail_if(for_each(containers, lambda name: client.post(f"/containers/{name}/unpause")))


@click.command(context_settings=_SETTINGS, short_help="Block until one or more containers stop, then print their exit codes")
@click.argument("containers", metavar="CONTAINER [CONTAINER...]", nargs=-1, required=True)
def wait(containers: tuple[str, ...]) -> None:
    """Block until one or more containers stop, then print their exit codes."""
    client = api()

    def wait_one(name: str) -> None:
        result = client.post(f"/containers/{name}/wait") or {}
        click.echo(result.get("StatusCode", 0))
    fail_if(for_each(containers, wait_one, echo=False))


@click.command(context_settings=_SETTINGS, short_help="Update configuration of one or more containers")
@click.option("--cpu-period", type=int, metavar="int", help="Limit CPU CFS (Completely Fair Scheduler) period")
@click.option("--cpu-quota", type=int, metavar="int", help="Limit CPU CFS (Completely Fair Scheduler) quota")
@click.option("-c", "--cpu-shares", type=int, metavar="int", help="CPU shares (relative weight)")
@click.option("--cpus", type=GoCpus(), metavar="decimal", help="Number of CPUs")
@click.option("--cpuset-cpus", metavar="string", help="CPUs in which to allow execution (0-3, 0,1)")
@click.option("--cpuset-mems", metavar="string", help="MEMs in which to allow execution (0-3, 0,1)")
@click.option("-m", "--memory", type=GoBytes(), metavar="bytes", help="Memory limit")
@click.option("--memory-reservation", type=GoBytes(), metavar="bytes", help="Memory soft limit")
@click.option("--memory-swap", type=GoBytes(unlimited=True), metavar="bytes",
              help="Swap limit equal to memory plus swap: -1 to enable unlimited swap")
@click.option("--pids-limit", type=int, metavar="int", help="Tune container pids limit (set -1 for unlimited)")
@click.option("--restart", metavar="string", help="Restart policy to apply when a container exits")
@click.argument("containers", metavar="CONTAINER [CONTAINER...]", nargs=-1, required=True)
def update(cpu_period: int | None, cpu_quota: int | None, cpu_shares: int | None, cpus: int | None,
           cpuset_cpus: str | None, cpuset_mems: str | None, memory: int | None, memory_reservation: int | None,
           memory_swap: int | None, pids_limit: int | None, restart: str | None, containers: tuple[str, ...]) -> None:
    """Update configuration of one or more containers."""
    from berth.cli.runconfig import parse_restart_policy

    body = {
        "CpuPeriod": cpu_period, "CpuQuota": cpu_quota, "CpuShares": cpu_shares,
        "NanoCpus": cpus, "CpusetCpus": cpuset_cpus, "CpusetMems": cpuset_mems,
        "Memory": memory, "MemoryReservation": memory_reservation, "MemorySwap": memory_swap,
        "PidsLimit": pids_limit, "RestartPolicy": parse_restart_policy(restart) if restart else None,
    }
    if all(value is None for value in body.values()):
        raise CLIError("you must provide one or more flags when using this command")
    client = api()
    fail_if(for_each(containers, lambda name: client.post(
        f"/containers/{name}/update", json_body={k: v for k, v in body.items() if v is not None})))


@click.command(context_settings=_SETTINGS, short_help="Rename a container")
@click.argument("container")
@click.argument("new_name")
def rename(container: str, new_name: str) -> None:
    """Rename a container."""
    if not new_name.strip():
        raise CLIError("Error: Neither old nor new names may be empty")
    try:
        api().post(f"/containers/{container}/rename", {"name": new_name})
    except CLIError as err:
        raise CLIError(f"{err.message}\nError: failed to rename container named {container}") from None


@click.command(context_settings={**_SETTINGS, "ignore_unknown_options": True},
               short_help="Display the running processes of a container")
@click.argument("container")
@click.argument("ps_args", nargs=-1, type=click.UNPROCESSED)
def top(container: str, ps_args: tuple[str, ...]) -> None:
    """Display the running processes of a container."""
    from berth.cli.formatter import tabwrite

    result = api().get(f"/containers/{container}/top", {"ps_args": " ".join(ps_args) or None})
    rows = [result.get("Titles") or []] + (result.get("Processes") or [])
    click.echo(tabwrite("".join("\t".join(row) + "\n" for row in rows), minwidth=20), nl=False)


_CHANGE_KINDS = {0: "C", 1: "A", 2: "D"}


@click.command(context_settings=_SETTINGS, short_help="Inspect changes to files or directories on a container's filesystem")
@click.argument("container")
def diff(container: str) -> None:
    """Inspect changes to files or directories on a container's filesystem."""
    for change in api().get(f"/containers/{container}/changes") or []:
        click.echo(f"{_CHANGE_KINDS.get(change.get('Kind'), '?')} {change.get('Path')}")


@click.command(context_settings=_SETTINGS, short_help="Create a new image from a container's changes")
@click.option("-a", "--author", metavar="string", help='Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")')
@click.option("-c", "--change", multiple=True, metavar="list", help="Apply Dockerfile instruction to the created image")
@click.option("-m", "--message", metavar="string", help="Commit message")
@click.option("-p", "--pause/--no-pause", default=True, help="Pause container during commit")
@click.argument("container")
@click.argument("repository", required=False)
def commit(author: str | None, change: tuple[str, ...], message: str | None, pause: bool, container: str,
           repository: str | None) -> None:
    """Create a new image from a container's changes."""
    from berth.cli.references import split_repo_tag

    repo, tag = split_repo_tag(repository)
    result = api().post("/commit", {"container": container, "repo": repo, "tag": tag, "author": author,
                                   "comment": message, "pause": pause, "changes": list(change) or None})
    click.echo(result["Id"])


@click.command(context_settings=_SETTINGS, short_help="Export a container's filesystem as a tar archive")
@click.option("-o", "--output", metavar="string", help="Write to a file, instead of STDOUT")
@click.argument("container")
def export(output: str | None, container: str) -> None:
    """Export a container's filesystem as a tar archive."""
    from berth.cli.streams import refuse_terminal_output

    if not output:
        refuse_terminal_output("export")
    write_stream(api().request("GET", f"/containers/{container}/export").iter_bytes(), output)


def write_stream(chunks: Iterable[bytes], output: str | None) -> None:
    """Write a download to stdout, or atomically to a file (temp file, fsync, rename)."""
    if not output:
        from berth.cli.streams import write_all

        for chunk in chunks:
            write_all(1, chunk)
        return
    import os
    import tempfile

    directory = os.path.dirname(os.path.abspath(output))
    fd, temp = tempfile.mkstemp(dir=directory, prefix=".berth-")
    try:
        with os.fdopen(fd, "wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o644)
        os.replace(temp, output)
    except BaseException:
        os.unlink(temp)
        raise


@click.command(context_settings=_SETTINGS, short_help="List port mappings or a specific mapping for the container")
@click.argument("container")
@click.argument("private_port", required=False)
def port(container: str, private_port: str | None) -> None:
    """List port mappings or a specific mapping for the container."""
    info = api().get(f"/containers/{container}/json")
    ports = (info.get("NetworkSettings") or {}).get("Ports") or {}
    if private_port:
        key = private_port if "/" in private_port else f"{private_port}/tcp"
        bindings = ports.get(key)
        if not bindings:
            raise CLIError(f"Error: No public port '{private_port}' published for {container}")
        for binding in bindings:
            click.echo(f"{binding.get('HostIp') or '0.0.0.0'}:{binding.get('HostPort')}")
        return
    for key in sorted(ports):
        for binding in ports[key] or []:
            click.echo(f"{key} -> {binding.get('HostIp') or '0.0.0.0'}:{binding.get('HostPort')}")


def confirm(message: str) -> bool:
    """docker's `[y/N]` prompt."""
    sys.stdout.write(f"{message}\nAre you sure you want to continue? [y/N] ")
    sys.stdout.flush()
    answer = sys.stdin.readline().strip().lower()
    return answer in ("y", "yes")


def print_reclaimed(space: int) -> None:
    from berth.cli.units import human_size

    click.echo(f"Total reclaimed space: {human_size(space)}")


@click.command(context_settings=_SETTINGS, short_help="Remove all stopped containers")
@click.option("-f", "--force", is_flag=True, help="Do not prompt for confirmation")
@click.option("--filter", "filters", multiple=True, metavar="filter", help='Provide filter values (e.g. "until=<timestamp>")')
def prune(force: bool, filters: tuple[str, ...]) -> None:
    """Remove all stopped containers."""
    from berth.cli.client import encode_filters
    from berth.cli.filters import parse_filters

    if not force and not confirm("WARNING! This will remove all stopped containers."):
        return
    result = api().post("/containers/prune", {"filters": encode_filters(parse_filters(filters))}) or {}
    deleted = result.get("ContainersDeleted") or []
    if deleted:
        click.echo("Deleted Containers:")
        for ident in deleted:
            click.echo(ident)
        click.echo()
    print_reclaimed(result.get("SpaceReclaimed") or 0)


@click.command(context_settings=_SETTINGS, short_help="Display a live stream of container(s) resource usage statistics")
@click.option("-a", "--all", "all_", is_flag=True, help="Show all containers (default shows just running)")
@click.option("--no-stream", is_flag=True, help="Disable streaming stats and only pull the first result")
@click.option("--no-trunc", is_flag=True, help="Do not truncate output")
@click.option("--format", "format_", metavar="string", help="Format output using a custom template")
@click.argument("containers", metavar="[CONTAINER...]", nargs=-1)
def stats(all_: bool, no_stream: bool, no_trunc: bool, format_: str | None, containers: tuple[str, ...]) -> None:
    """Display resource usage statistics (one snapshot: berth always behaves as with --no-stream)."""
    from berth.cli.formatter import render, resolve_format
    from berth.cli.stats import StatsContext

    client = api()
    if not containers:
        containers = tuple(c["Id"] for c in client.get("/containers/json", {"all": all_ or None}) or [])
    rows = []
    for name in containers:
        snapshot = client.get(f"/containers/{name}/stats", {"stream": False, "one-shot": True})
        rows.append(StatsContext(name, snapshot, trunc=not no_trunc))
    fmt = resolve_format(format_, StatsContext.DEFAULT)
    click.echo(render(fmt, rows, StatsContext.TITLES), nl=False)
