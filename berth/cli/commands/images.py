"""Image commands: ls, rm, tag, history, import, load, save, pull, push, prune."""
from __future__ import annotations

import sys
from typing import Any, BinaryIO

import click

from berth.cli import credentials
from berth.cli.commands.containers import confirm, print_reclaimed, write_stream
from berth.cli.commands.lifecycle import fail_if
from berth.cli.errors import CLIError
from berth.cli.references import split_repo_tag, with_default_tag
from berth.cli.session import api

_SETTINGS = {"help_option_names": ["--help"]}

DEFAULT_FORMAT = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
DIGESTS_FORMAT = "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
HISTORY_FORMAT = "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}"


@click.command(context_settings=_SETTINGS, short_help="List images")
@click.option("-a", "--all", "all_", is_flag=True, help="Show all images (default hides intermediate images)")
@click.option("--digests", is_flag=True, help="Show digests")
@click.option("-f", "--filter", "filters", multiple=True, metavar="filter", help="Filter output based on conditions provided")
@click.option("--format", "format_", metavar="string", help="Format output using a custom template")
@click.option("--no-trunc", is_flag=True, help="Don't truncate output")
@click.option("-q", "--quiet", is_flag=True, help="Only show image IDs")
@click.argument("repository", required=False)
def images(all_: bool, digests: bool, filters: tuple[str, ...], format_: str | None, no_trunc: bool,
           quiet: bool, repository: str | None) -> None:
    """List images."""
    from berth.cli.client import encode_filters
    from berth.cli.contexts import ImageContext, image_rows
    from berth.cli.filters import parse_filters
    from berth.cli.formatter import render, resolve_format

    parsed = parse_filters(filters)
    if repository:
        parsed.setdefault("reference", []).append(repository)
    result = api().get("/images/json", {"all": all_ or None, "filters": encode_filters(parsed),
                                        "digests": True}) or []
    fmt = resolve_format(format_, DIGESTS_FORMAT if digests else DEFAULT_FORMAT, "{{.ID}}", quiet)
    rows = image_rows(result, digests=digests or "{{.Digest}}" in fmt, trunc=not no_trunc)
    click.echo(render(fmt, rows, ImageContext.TITLES), nl=False)


@click.command(context_settings=_SETTINGS, short_help="Remove one or more images")
@click.option("-f", "--force", is_flag=True, help="Force removal of the image")
@click.option("--no-prune", is_flag=True, help="Do not delete untagged parents")
@click.argument("images_", metavar="IMAGE [IMAGE...]", nargs=-1, required=True)
def rmi(force: bool, no_prune: bool, images_: tuple[str, ...]) -> None:
    """Remove one or more images."""
    client = api()
    errors: list[str] = []
    for image in images_:
        try:
            deleted = client.delete(f"/images/{image}", {"force": force or None, "noprune": no_prune or None})
        except CLIError as err:
            errors.append(err.message)
            continue
        for item in deleted or []:
            if item.get("Untagged"):
                click.echo(f"Untagged: {item['Untagged']}")
            if item.get("Deleted"):
                click.echo(f"Deleted: {item['Deleted']}")
    fail_if(errors)


@click.command(context_settings=_SETTINGS, short_help="Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE")
@click.argument("source")
@click.argument("target")
def tag(source: str, target: str) -> None:
    """Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE."""
    repo, tag_ = split_repo_tag(target)
    api().post(f"/images/{source}/tag", {"repo": repo, "tag": tag_ or "latest"})


class HistoryContext:
    """One row of `history`."""

    FIELDS = ("Comment", "CreatedAt", "CreatedBy", "CreatedSince", "ID", "Size")
    TITLES = {"ID": "IMAGE", "CreatedSince": "CREATED", "CreatedAt": "CREATED AT", "CreatedBy": "CREATED BY",
              "Size": "SIZE", "Comment": "COMMENT"}

    def __init__(self, entry: dict[str, Any], trunc: bool, human: bool) -> None:
        self.entry = entry
        self.trunc = trunc
        self.human = human

    def ID(self) -> str:
        from berth.cli.contexts import short_id

        ident = self.entry.get("Id") or "<missing>"
        return short_id(ident) if self.trunc and ident != "<missing>" else ident

    def CreatedAt(self) -> str:
        from berth.cli.units import rfc3339

        return rfc3339(self.entry.get("Created", 0))

    def CreatedSince(self) -> str:
        from berth.cli.units import since

        return since(self.entry.get("Created", 0)) if self.human else self.CreatedAt()

    def CreatedBy(self) -> str:
        from berth.cli.contexts import ellipsis

        created_by = " ".join((self.entry.get("CreatedBy") or "").replace("\t", " ").split(" "))
        return ellipsis(created_by, 45) if self.trunc else created_by

    def Size(self) -> str:
        from berth.cli.units import human_size

        size = self.entry.get("Size") or 0
        return human_size(size) if self.human else str(size)

    def Comment(self) -> str:
        return self.entry.get("Comment") or ""

    def to_json(self) -> dict[str, str]:
        return {name: getattr(self, name)() for name in self.FIELDS}


@click.command(context_settings=_SETTINGS, short_help="Show the history of an image")
@click.option("--format", "format_", metavar="string", help="Format output using a custom template")
@click.option("-H", "--human/--no-human", default=True, help="Print sizes and dates in human readable format")
@click.option("--no-trunc", is_flag=True, help="Don't truncate output")
@click.option("-q", "--quiet", is_flag=True, help="Only show image IDs")
@click.argument("image")
def history(format_: str | None, human: bool, no_trunc: bool, quiet: bool, image: str) -> None:
    """Show the history of an image."""
    from berth.cli.formatter import render, resolve_format

    entries = api().get(f"/images/{image}/history") or []
    default = HISTORY_FORMAT if human else HISTORY_FORMAT.replace("{{.CreatedSince}}", "{{.CreatedAt}}")
    fmt = resolve_format(format_, default, "{{.ID}}", quiet)
    rows = [HistoryContext(entry, trunc=not no_trunc, human=human) for entry in entries]
    click.echo(render(fmt, rows, HistoryContext.TITLES), nl=False)


def _show_stream(response: Any, out: Any = None) -> None:
    from berth.cli.progress import display_messages

    display_messages(response.iter_json(), out=out)


def _open_input(path: str) -> BinaryIO:
    """A file to upload, or stdin for "-"."""
    if path == "-":
        return sys.stdin.buffer
    try:
        return open(path, "rb")
    except OSError as err:
        raise CLIError(f"open {path}: {(err.strerror or str(err)).lower()}") from None


@click.command("import", context_settings=_SETTINGS, short_help="Import the contents from a tarball to create a filesystem image")
@click.option("-c", "--change", multiple=True, metavar="list", help="Apply Dockerfile instruction to the created image")
@click.option("-m", "--message", metavar="string", help="Set commit message for imported image")
@click.option("--platform", metavar="string", help="Set platform if server is multi-platform capable")
@click.argument("source")
@click.argument("reference", required=False)
def import_(change: tuple[str, ...], message: str | None, platform: str | None, source: str,
            reference: str | None) -> None:
    """Import the contents from a tarball (file, URL or - for stdin) to create a filesystem image."""
    repo, tag_ = split_repo_tag(reference)
    params = {"repo": repo, "tag": tag_, "message": message, "changes": list(change) or None, "platform": platform}
    client = api()
    if "://" in source:
        _show_stream(client.request("POST", "/images/create", {**params, "fromSrc": source}))
        return
    with _open_input(source) as upload:
        _show_stream(client.request("POST", "/images/create", {**params, "fromSrc": "-"}, data=upload))


@click.command(context_settings=_SETTINGS, short_help="Load an image from a tar archive or STDIN")
@click.option("-i", "--input", "input_", default="-", metavar="string", help="Read from tar archive file, instead of STDIN")
@click.option("-q", "--quiet", is_flag=True, help="Suppress the load output")
def load(input_: str, quiet: bool) -> None:
    """Load an image from a tar archive or STDIN."""
    if input_ == "-" and sys.stdin.isatty():
        raise CLIError("requested load from stdin, but stdin is empty")
    with _open_input(input_) as upload:
        _show_stream(api().request("POST", "/images/load", {"quiet": quiet or None}, data=upload))


@click.command(context_settings=_SETTINGS, short_help="Save one or more images to a tar archive (streamed to STDOUT by default)")
@click.option("-o", "--output", metavar="string", help="Write to a file, instead of STDOUT")
@click.argument("images_", metavar="IMAGE [IMAGE...]", nargs=-1, required=True)
def save(output: str | None, images_: tuple[str, ...]) -> None:
    """Save one or more images to a tar archive (streamed to STDOUT by default)."""
    from berth.cli.streams import refuse_terminal_output

    if not output:
        refuse_terminal_output("save")
    response = api().request("GET", "/images/get", {"names": list(images_)})
    write_stream(response.iter_bytes(), output)


@click.command(context_settings=_SETTINGS, short_help="Download an image from a registry")
@click.option("-a", "--all-tags", is_flag=True, help="Download all tagged images in the repository")
@click.option("--platform", metavar="string", help="Set platform if server is multi-platform capable")
@click.option("-q", "--quiet", is_flag=True, help="Suppress verbose output")
@click.argument("name")
def pull(all_tags: bool, platform: str | None, quiet: bool, name: str) -> None:
    """Download an image from a registry."""
    import io

    from berth.cli.progress import display_messages

    reference = name if all_tags else with_default_tag(name)
    repo, tag_ = split_repo_tag(reference)
    params = {"fromImage": reference if "@" in reference else repo, "tag": tag_, "platform": platform}
    if reference != name:
        click.echo("Using default tag: latest")
    response = api().request("POST", "/images/create", params, headers=credentials.header_for(name))
    display_messages(response.iter_json(), out=io.StringIO() if quiet else None)
    if quiet:
        click.echo(reference)


@click.command(context_settings=_SETTINGS, short_help="Upload an image to a registry")
@click.option("-a", "--all-tags", is_flag=True, help="Push all tags of an image to the repository")
@click.option("-q", "--quiet", is_flag=True, help="Suppress verbose output")
@click.argument("name")
def push(all_tags: bool, quiet: bool, name: str) -> None:
    """Upload an image to a registry."""
    import io

    from berth.cli.progress import display_messages

    repo, tag_ = split_repo_tag(name)
    if not tag_ and not all_tags:
        click.echo("Using default tag: latest")
        tag_ = "latest"
    response = api().request("POST", f"/images/{repo}/push", {"tag": tag_}, headers=credentials.header_for(name))
    display_messages(response.iter_json(), out=io.StringIO() if quiet else None)
    if quiet:
        click.echo(name)


@click.command(context_settings=_SETTINGS, short_help="Remove unused images")
@click.option("-a", "--all", "all_", is_flag=True, help="Remove all unused images, not just dangling ones")
@click.option("-f", "--force", is_flag=True, help="Do not prompt for confirmation")
@click.option("--filter", "filters", multiple=True, metavar="filter", help='Provide filter values (e.g. "until=<timestamp>")')
def prune(all_: bool, force: bool, filters: tuple[str, ...]) -> None:
    """Remove unused images."""
    from berth.cli.client import encode_filters
    from berth.cli.filters import parse_filters

    warning = ("WARNING! This will remove all images without at least one container associated to them."
               if all_ else "WARNING! This will remove all dangling images.")
    if not force and not confirm(warning):
        return
    parsed = parse_filters(filters)
    parsed["dangling"] = ["false" if all_ else "true"]
    result = api().post("/images/prune", {"filters": encode_filters(parsed)}) or {}
    deleted = result.get("ImagesDeleted") or []
    if deleted:
        click.echo("Deleted Images:")
        for item in deleted:
            for key in ("Untagged", "Deleted"):
                if item.get(key):
                    click.echo(f"{key.lower()}: {item[key]}")
        click.echo()
    print_reclaimed(result.get("SpaceReclaimed") or 0)
