"""`berth build`: a context (a directory, or a tar or a Dockerfile on stdin) sent to the daemon's
builder, and its messages shown as they come."""
from __future__ import annotations

import os
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import click

from berth.cli import credentials
from berth.cli.errors import CLIError
from berth.cli.session import api
from berth.dockerignore import excluded, read_patterns

_SETTINGS = {"help_option_names": ["--help"]}


@click.command(context_settings=_SETTINGS, short_help="Build an image from a Dockerfile")
@click.option("--add-host", multiple=True, metavar="list", help="Add a custom host-to-IP mapping (host:ip)")
@click.option("--build-arg", multiple=True, metavar="list", help="Set build-time variables")
@click.option("--cache-from", multiple=True, metavar="strings", help="Images to consider as cache sources")
@click.option("-f", "--file", "file_", metavar="string", help="Name of the Dockerfile (Default is 'PATH/Dockerfile')")
@click.option("--force-rm", is_flag=True, help="Always remove intermediate containers")
@click.option("--iidfile", metavar="string", help="Write the image ID to the file")
@click.option("--label", multiple=True, metavar="list", help="Set metadata for an image")
@click.option("--network", default="default", metavar="string", help="Set the networking mode for the RUN instructions during build")
@click.option("--no-cache", is_flag=True, help="Do not use cache when building the image")
@click.option("--platform", metavar="string", help="Set platform if server is multi-platform capable")
@click.option("--progress", default="auto", metavar="string", help="Set type of progress output (auto, plain, tty)")
@click.option("--pull", is_flag=True, help="Always attempt to pull a newer version of the image")
@click.option("-q", "--quiet", is_flag=True, help="Suppress the build output and print image ID on success")
@click.option("--rm/--no-rm", default=True, help="Remove intermediate containers after a successful build")
@click.option("-t", "--tag", multiple=True, metavar="list", help="Name and optionally a tag in the 'name:tag' format")
@click.option("--target", metavar="string", help="Set the target build stage to build.")
@click.argument("context", metavar="PATH | URL | -")
def build(add_host: tuple[str, ...], build_arg: tuple[str, ...], cache_from: tuple[str, ...], file_: str | None,
          force_rm: bool,
          iidfile: str | None, label: tuple[str, ...], network: str, no_cache: bool, platform: str | None,
          progress: str, pull: bool, quiet: bool, rm: bool, tag: tuple[str, ...], target: str | None,
          context: str) -> None:
    """Build an image from a Dockerfile."""
    import json

    from berth.cli.runconfig import parse_labels

    build_args = _build_args(build_arg)
    if "SOURCE_DATE_EPOCH" in os.environ:  # a reproducible build, asked for by the environment
        build_args.setdefault("SOURCE_DATE_EPOCH", os.environ["SOURCE_DATE_EPOCH"])
    params: dict[str, Any] = {
        "t": list(tag) or None, "buildargs": json.dumps(build_args) if build_args else None,
        "labels": json.dumps(parse_labels(label)) if label else None, "nocache": no_cache or None,
        "rm": "1" if rm else "0", "forcerm": force_rm or None, "networkmode": network, "target": target,
        "q": quiet or None, "extrahosts": ",".join(add_host) or None, "pull": pull or None, "platform": platform,
        "cachefrom": json.dumps(list(cache_from)) if cache_from else None,
    }
    registries = credentials.registry_config_header()
    if context.startswith(("http://", "https://", "git://", "git@", "github.com/")):  # the daemon fetches it
        response = api().request("POST", "/build", {**params, "remote": context, "dockerfile": file_},
                                 headers=registries)
        image_id = _show(response.iter_json(), quiet)
    else:
        with tempfile.TemporaryFile(prefix="berth-context-") as upload:
            params["dockerfile"] = _write_context(context, file_, upload)
            upload.seek(0)
            response = api().request("POST", "/build", params, data=upload,
                                     headers={"Content-Type": "application/x-tar", **registries})
            image_id = _show(response.iter_json(), quiet)
    if iidfile:
        Path(iidfile).write_text(image_id)


def _build_args(values: tuple[str, ...]) -> dict[str, str | None]:
    """`--build-arg KEY=VALUE`, or `--build-arg KEY` for the value in the environment (unset if none)."""
    found: dict[str, str | None] = {}
    for value in values:
        key, has_value, text = value.partition("=")
        found[key] = text if has_value else os.environ.get(key)
    return found


def _write_context(context: str, dockerfile: str | None, out: BinaryIO) -> str:
    """Write the context's tar to `out`; the Dockerfile's name in it (the daemon's `dockerfile`)."""
    if context == "-":
        data = sys.stdin.buffer.read()
        if _is_tar(data):
            out.write(data)
            return dockerfile or "Dockerfile"
        with tarfile.open(fileobj=out, mode="w") as tar:  # a Dockerfile alone, no context
            _add_bytes(tar, "Dockerfile", data)
        return "Dockerfile"
    root = Path(context)
    if not root.is_dir():
        raise CLIError(f'unable to prepare context: path "{context}" not found')
    source = Path(dockerfile) if dockerfile else root / "Dockerfile"
    if dockerfile == "-":
        content = sys.stdin.buffer.read()
        name = ".dockerfile.stdin"
    else:
        try:
            content = source.read_bytes()
        except OSError:
            raise CLIError(f"unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat "
                           f"{source.absolute()}: no such file or directory") from None
        inside = _relative_to(source.absolute(), root.absolute())
        name = inside if inside is not None else ".dockerfile.outside"
    ignore_file = root / ".dockerignore"
    patterns = read_patterns(ignore_file.read_text()) if ignore_file.is_file() else []
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path, relative in _walk(root):
            if relative in (name, ".dockerignore") or not excluded(relative, patterns):
                tar.add(path, arcname=relative, recursive=False)
        if _relative_to(source.absolute(), root.absolute()) is None or dockerfile == "-":
            _add_bytes(tar, name, content)
    return name


def _walk(root: Path) -> Iterator[tuple[Path, str]]:
    for current, dirs, files in os.walk(root):
        dirs.sort()
        for entry in [*dirs, *sorted(files)]:
            path = Path(current) / entry
            yield path, str(path.relative_to(root))


def _relative_to(path: Path, root: Path) -> str | None:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return None


def _is_tar(data: bytes) -> bool:
    import io

    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
            return archive.next() is not None
    except (tarfile.TarError, EOFError):
        return False


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    import io
    import time

    entry = tarfile.TarInfo(name)
    entry.size, entry.mode, entry.mtime = len(data), 0o644, int(time.time())
    tar.addfile(entry, io.BytesIO(data))


def _show(messages: Iterator[dict[str, Any]], quiet: bool) -> str:
    """Print the build's messages; its image ID. A failed build exits with its RUN's code, as docker's."""
    from berth.cli.progress import display_messages

    found: dict[str, Any] = {}

    def watched() -> Iterator[dict[str, Any]]:
        for message in messages:
            if message.get("errorDetail"):
                found["code"] = message["errorDetail"].get("code") or 1
            if quiet and "stream" in message and not message["stream"].startswith("sha256:"):
                continue
            yield message

    try:
        display_messages(watched(), on_aux=lambda aux: found.update(image=aux.get("ID", "")))
    except CLIError as error:
        raise CLIError(error.message, found.get("code", 1)) from None
    return str(found.get("image", ""))
