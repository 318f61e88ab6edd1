"""Click groups whose commands are imported only when invoked (CLI start-up time)."""
from __future__ import annotations

import click

from berth.cli.clicktypes import FlagValueError
from berth.cli.options import Command, to_click
from berth.cli.registry import load
from berth.strconv import parse_bool


class LazyGroup(click.Group):
    """A group built from {name: "module:attribute"}; listing the commands imports them all."""

    def __init__(self, *args: object, lazy: dict[str, str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            command = load(self.lazy[cmd_name])
            return to_click(command) if isinstance(command, Command) else command  # type: ignore[return-value]
        return super().get_command(ctx, cmd_name)

    def resolve_command(self, ctx: click.Context, args: list[str]) -> tuple[str | None, click.Command | None, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        return name, command, spell_out_switches(command, rest) if command is not None else rest


def spell_out_switches(command: click.Command, args: list[str]) -> list[str]:
    """docker's `--rm=false`, `-t=true`, `--sig-proxy=1` (a switch given a Go boolean), as click takes them: the
    switch itself, or its opposite (`--no-sig-proxy`), or nothing for a switch off that has none. Only
    the command's own options are read: not a value (`--name --rm=x`), nor what follows `--` or, for a
    command whose options end at its first argument (`run IMAGE CMD...`), that argument."""
    switches: dict[str, tuple[click.Option, bool]] = {}
    takes_value: set[str] = set()
    for param in command.params:
        if isinstance(param, click.Option) and param.is_flag and not param.count:
            switches.update({flag: (param, True) for flag in param.opts})  # sets it
            switches.update({flag: (param, False) for flag in param.secondary_opts})
        elif isinstance(param, click.Option) and not param.is_flag and not param.count:
            takes_value.update(param.opts)
    interspersed = command.context_settings.get("allow_interspersed_args", command.allow_interspersed_args)
    spelled: list[str] = []
    rest = list(args)
    while rest:
        arg = rest.pop(0)
        flag, equals, value = arg.partition("=")
        if equals and flag in switches:
            option, primary = switches[flag]
            try:
                on = parse_bool(value) == primary
            except ValueError as error:
                raise FlagValueError(f'invalid argument "{value}" for "{flag}" flag: {error}', None, option) from None
            spelled += [flag if primary else next(f for f in option.opts if f.startswith("--"))] if on \
                else option.secondary_opts[:1]
            continue
        spelled.append(arg)
        if arg == "--" or ((arg == "-" or arg[:1] != "-") and not interspersed):  # "-" is an argument
            return spelled + rest
        if rest and _wants_next(arg, takes_value):
            spelled.append(rest.pop(0))
    return spelled


def _wants_next(arg: str, takes_value: set[str]) -> bool:
    """Whether the option word `arg` takes the next word as its value (`--name web`, `-e A=1`, `-ie X`)."""
    if arg.startswith("--"):
        return "=" not in arg and arg in takes_value
    if arg[:1] != "-":
        return False
    for index, letter in enumerate(arg[1:], 2):
        if f"-{letter}" in takes_value:
            return index == len(arg)  # `-eFOO` holds its value
    return False
