"""`berth cp`: copy files and directories between a container and the local filesystem, with docker's
rules for what a destination means (an existing directory receives the source under its own name,
any other path names the copy) and `-` for a tar on stdin or stdout."""
from __future__ import annotations

import base64
import os
import sys
import tarfile
import tempfile
from typing import Any

import click

from berth.cli import wire
from berth.cli.client import Client
from berth.cli.errors import CLIError, DaemonError
from berth.cli.session import api

_SETTINGS = {"help_option_names": ["--help"]}
_GO_DIR = 1 << 31  # the directory bit of the Go file mode in docker's stat header


@click.command(context_settings=_SETTINGS, short_help="Copy files/folders between a container and the local filesystem")
@click.option("-a", "--archive", is_flag=True, help="Archive mode (copy all uid/gid information)")
@click.option("-L", "--follow-link", is_flag=True, help="Always follow symbol link in SRC_PATH")
@click.argument("source", metavar="SRC_PATH")
@click.argument("destination", metavar="DEST_PATH")
def cp(archive: bool, follow_link: bool, source: str, destination: str) -> None:
    """Copy files/folders between a container and the local filesystem.

    Use '-' as the source to read a tar archive from stdin and extract it to a directory destination
    in a container. Use '-' as the destination to stream a tar archive of a container source to
    stdout.
    """
    source_container, source_path = _split(source)
    destination_container, destination_path = _split(destination)
    if source_container and destination_container:
        raise CLIError("copying between containers is not supported")
    if not source_container and not destination_container:
        raise CLIError("must specify at least one container source")
    client = api()
    if source_container:
        _copy_out(client, source_container, source_path, destination_path, follow_link)
    else:
        _copy_in(client, source_path, destination_container, destination_path, archive)


def _split(argument: str) -> tuple[str, str]:
    """`container:path` -> (container, path); a local path (absolute, or starting with ".") has no container."""
    if argument.startswith(("/", ".")) or ":" not in argument:
        return "", argument
    container, _, path = argument.partition(":")
    return container, path


def _stat(client: Client, container: str, path: str) -> dict[str, Any] | None:
    """The container path's stat (docker's header), or None if nothing is there."""
    try:
        response = client.request("HEAD", f"/containers/{container}/archive", {"path": path})
    except DaemonError as err:
        if err.status == 404 and "No such container" not in err.daemon_message:
            return None  # (a HEAD answer has no body: the message is only the status)
        raise
    response.read()
    return wire.loads(base64.b64decode(response.headers["x-docker-container-path-stat"]))


def _copy_out(client: Client, container: str, path: str, destination: str, follow_link: bool) -> None:
    if follow_link:
        found = _stat(client, container, path)
        if found is None:
            raise CLIError(f"Error response from daemon: Could not find the file {path} in container {container}")
        path = found.get("linkTarget") or path
    response = client.request("GET", f"/containers/{container}/archive", {"path": path})
    if destination == "-":
        from berth.cli.streams import write_all

        for chunk in response.iter_bytes():
            write_all(1, chunk)
        return
    name = os.path.basename(os.path.normpath(path)) or "."
    if os.path.isdir(destination):
        target, rename = destination, None
    else:
        parent = os.path.dirname(os.path.abspath(destination))
        if not os.path.isdir(parent):
            raise CLIError(f"destination directory {parent} must exist")
        target, rename = parent, os.path.basename(destination)
    with tempfile.TemporaryFile() as spool:
        for chunk in response.iter_bytes():
            spool.write(chunk)
        spool.seek(0)
        with tarfile.open(fileobj=spool, mode="r:") as tar:
            _extract(tar, target, name, rename)


def _extract(tar: tarfile.TarFile, target: str, name: str, rename: str | None) -> None:
    """Unpack the container's tar into `target`, its top entry `name` renamed to `rename`; refuse
    names that would leave `target` and entries below a symlink of the same archive."""
    links: set[str] = set()
    for member in tar:
        parts = [part for part in member.name.split("/") if part not in ("", ".")]
        if member.name.startswith("/") or ".." in parts or not parts:
            raise CLIError(f"refusing to extract {member.name!r}: it would leave {target}")
        if rename is not None and parts[0] == name:
            parts[0] = rename
        if any("/".join(parts[:depth]) in links for depth in range(1, len(parts))):
            raise CLIError(f"refusing to extract {member.name!r}: it lies under a symlink of the archive")
        member.name = "/".join(parts)
        if member.issym():
            links.add(member.name)
        tar.extract(member, target, set_attrs=True, numeric_owner=True)


def _copy_in(client: Client, source: str, container: str, destination: str, archive: bool) -> None:
    params = {"path": destination, "noOverwriteDirNonDir": True, "copyUIDGID": archive or None}
    if source == "-":  # a tar on stdin, extracted as it is into a directory
        found = _stat(client, container, destination)
        if found is None or not found.get("mode", 0) & _GO_DIR:
            raise CLIError(f'destination "{container}:{destination}" must be a directory')
        client.request("PUT", f"/containers/{container}/archive", params, data=sys.stdin.buffer).read()
        return
    if not os.path.lexists(source):
        raise CLIError(f"lstat {os.path.abspath(source)}: no such file or directory")
    found = _stat(client, container, destination)
    if found is not None and found.get("mode", 0) & _GO_DIR:
        directory, name = destination, os.path.basename(os.path.normpath(source))
    else:
        directory, name = os.path.dirname(destination.rstrip("/")) or "/", os.path.basename(destination.rstrip("/"))
        if _stat(client, container, directory) is None:
            raise CLIError(f"Error response from daemon: Could not find the file {directory} in container {container}")
    with tempfile.TemporaryFile() as spool:
        with tarfile.open(fileobj=spool, mode="w:", format=tarfile.PAX_FORMAT) as tar:
            tar.add(source, arcname=name, recursive=True)
        spool.seek(0)
        client.request("PUT", f"/containers/{container}/archive", {**params, "path": directory}, data=spool).read()
