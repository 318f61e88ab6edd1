"""Click groups whose commands are imported only when invoked (CLI start-up time)."""
from __future__ import annotations

import click

from berth.cli.options import Command, to_click
from berth.cli.registry import load


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
