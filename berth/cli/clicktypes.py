"""click parameter types that refuse a value in the words of docker's flag parser."""
from __future__ import annotations

from typing import Any

import click

from berth.cli.errors import FlagError


class FlagValueError(click.BadParameter):
    """A refused flag value whose message is complete as it is (berth.cli.app prints it unchanged)."""


class GoInt(click.ParamType):
    """An integer flag: `invalid argument "x" for "-t, --timeout" flag: strconv.ParseInt: ...`."""

    name = "int"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        text = str(value)
        if text == text.strip() and "_" not in text:
            try:
                return int(text, 10)
            except ValueError:
                pass
        flags = _pflag_names(param.opts if param is not None else [])
        raise FlagValueError(f'invalid argument "{text}" for "{flags}" flag: '
                             f'strconv.ParseInt: parsing "{text}": invalid syntax', ctx, param)


class GoBytes(click.ParamType):
    """A size flag (`-m 512m`), refused as docker refuses it; `-1` means unlimited where allowed."""

    name = "bytes"

    def __init__(self, unlimited: bool = False) -> None:
        self.unlimited = unlimited

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int | None:
        if isinstance(value, int):
            return value
        if self.unlimited and value == "-1":
            return -1
        from berth.cli.runconfig import parse_size

        try:
            return parse_size(value, _pflag_names(param.opts if param is not None else []))
        except FlagError as error:
            raise FlagValueError(error.message, ctx, param) from None


class GoCpus(click.ParamType):
    """`--cpus 1.5` -> NanoCpus, refused as docker refuses it."""

    name = "decimal"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        from berth.cli.runconfig import parse_cpus

        try:
            return parse_cpus(value)
        except FlagError as error:
            raise FlagValueError(error.message, ctx, param) from None


def _pflag_names(opts: list[str]) -> str:
    """How docker's flag parser names a flag: its shorthand and its name, "-t, --timeout"."""
    shorthand = [opt for opt in opts if not opt.startswith("--")][:1]
    name = [opt for opt in opts if opt.startswith("--")][:1]
    return ", ".join(shorthand + name)
