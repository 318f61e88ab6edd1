"""`berth inspect`, `berth container inspect`, `berth image inspect`."""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import click

from berth.cli.client import Client
from berth.cli.errors import CLIError, DaemonError
from berth.cli.session import api

_SETTINGS = {"help_option_names": ["--help"]}


def _container(client: Client, name: str, size: bool) -> Any:
    return client.get(f"/containers/{name}/json", {"size": size or None})


def _image(client: Client, name: str, size: bool) -> Any:
    return client.get(f"/images/{name}/json")


def _any_object(client: Client, name: str, size: bool) -> Any:
    """Containers first, then images (docker's order); a miss in both is 'No such object'."""
    for getter in (_container, _image):
        try:
            return getter(client, name, size)
        except DaemonError as err:
            if err.status != 404:
                raise
    raise CLIError(f"Error: No such object: {name}")


def show(objects: list[Any], format_: str | None) -> None:
    """Indented JSON array by default; with -f, the template once per object."""
    if not format_:
        click.echo(json.dumps(objects, indent=4, ensure_ascii=False))
        return
    from berth.cli.formatter import unescape
    from berth.cli.gotemplate import Template, TemplateError

    try:
        template = Template(unescape(format_))
        output = "".join(template.execute(obj) + "\n" for obj in objects)
    except TemplateError as err:
        raise CLIError(f"template parsing error: {err}") from None
    click.echo(output, nl=False)


def inspect_all(names: tuple[str, ...], getter: Callable[[Client, str, bool], Any], format_: str | None,
                size: bool = False) -> None:
    client = api()
    found: list[Any] = []
    errors: list[str] = []
    for name in names:
        try:
            found.append(getter(client, name, size))
        except CLIError as err:
            errors.append(err.message)
    show(found, format_)
    if errors:
        raise CLIError("\n".join(errors))


_GETTERS = {None: _any_object, "container": _container, "image": _image}


@click.command(context_settings=_SETTINGS, short_help="Return low-level information on berth objects")
@click.option("-f", "--format", "format_", metavar="string", help="Format output using a custom template")
@click.option("-s", "--size", is_flag=True, help="Display total file sizes if the type is container")
@click.option("--type", "type_", type=click.Choice(["container", "image"]), help="Return JSON for specified type")
@click.argument("names", nargs=-1, required=True)
def inspect(format_: str | None, size: bool, type_: str | None, names: tuple[str, ...]) -> None:
    """Return low-level information on berth objects."""
    inspect_all(names, _GETTERS[type_], format_, size)


@click.command("inspect", context_settings=_SETTINGS, short_help="Display detailed information on one or more containers")
@click.option("-f", "--format", "format_", metavar="string", help="Format output using a custom template")
@click.option("-s", "--size", is_flag=True, help="Display total file sizes")
@click.argument("names", nargs=-1, required=True)
def container_inspect(format_: str | None, size: bool, names: tuple[str, ...]) -> None:
    """Display detailed information on one or more containers."""
    inspect_all(names, _container, format_, size)


@click.command("inspect", context_settings=_SETTINGS, short_help="Display detailed information on one or more images")
@click.option("-f", "--format", "format_", metavar="string", help="Format output using a custom template")
@click.argument("names", nargs=-1, required=True)
def image_inspect(format_: str | None, names: tuple[str, ...]) -> None:
    """Display detailed information on one or more images."""
    inspect_all(names, _image, format_)
