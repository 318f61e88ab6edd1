"""`berth inspect`, `berth container inspect`, `berth image inspect`."""
from __future__ import annotations

from berth.cli.errors import CLIError, DaemonError
from berth.cli.options import Command

TYPE_CHECKING = False  # what typing.TYPE_CHECKING is, without importing typing (start-up time)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from berth.cli.client import Client
    from berth.cli.options import ArgumentSpec, Spec
    from berth.cli.session import Session


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
    if not format_ or format_ == "json":  # `json`: the same array on one line, as docker 28 prints it
        from berth.cli.wire import dumps

        indent = None if format_ else 4
        print(dumps(objects, indent=indent, ensure_ascii=False, separators=(",", ":") if format_ else None),
              flush=True)
        return
    from berth.cli.formatter import unescape
    from berth.cli.gotemplate import Template, TemplateError

    try:
        template = Template(unescape(format_), missing_key_error=True)
        output = "".join(template.execute(obj) + "\n" for obj in objects)
    except TemplateError as err:
        raise CLIError(f"template parsing error: {err}") from None
    print(output, end="", flush=True)


def inspect_all(client: Client, names: tuple[str, ...], getter: Callable[[Client, str, bool], Any],
                format_: str | None, size: bool = False) -> None:
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


def _inspect(session: Session, format_: str | None, size: bool, type_: str | None, names: tuple[str, ...]) -> None:
    """Return low-level information on berth objects."""
    inspect_all(session.client, names, _GETTERS[type_], format_, size)


def _container_inspect(session: Session, format_: str | None, size: bool, names: tuple[str, ...]) -> None:
    """Display detailed information on one or more containers."""
    inspect_all(session.client, names, _container, format_, size)


def _image_inspect(session: Session, format_: str | None, names: tuple[str, ...]) -> None:
    """Display detailed information on one or more images."""
    inspect_all(session.client, names, _image, format_)


_FORMAT: Spec = (("-f", "--format", "format_"), {"metavar": "string", "help": "Format output using a custom template"})
_NAMES: list[ArgumentSpec] = [("names", {"nargs": -1, "required": True, "metavar": "NAME|ID [NAME|ID...]"})]

inspect = Command("inspect", _inspect, [
    _FORMAT,
    (("-s", "--size"), {"is_flag": True, "help": "Display total file sizes if the type is container"}),
    (("--type", "type_"), {"choices": ["container", "image"], "help": "Return JSON for specified type"}),
], _NAMES, short_help="Return low-level information on berth objects")
container_inspect = Command("inspect", _container_inspect, [
    _FORMAT, (("-s", "--size"), {"is_flag": True, "help": "Display total file sizes"}),
], _NAMES, short_help="Display detailed information on one or more containers")
image_inspect = Command("inspect", _image_inspect, [_FORMAT], _NAMES,
                        short_help="Display detailed information on one or more images")
