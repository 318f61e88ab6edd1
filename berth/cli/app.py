"""The click application: the `berth` group, its management groups, and click's errors in docker's
words. The entry point (berth.cli.main) comes here for whatever the quick path does not run."""
from __future__ import annotations

import sys

import click

from berth import __version__
from berth.cli.clicktypes import FlagValueError
from berth.cli.hosts import resolve_host
from berth.cli.lazy import LazyGroup
from berth.cli.options import click_option
from berth.cli.registry import (
    CONTAINER_COMMANDS,
    GLOBAL_OPTIONS,
    IMAGE_COMMANDS,
    NETWORK_COMMANDS,
    SYSTEM_COMMANDS,
    TOP_LEVEL,
    VOLUME_COMMANDS,
)
from berth.cli.session import Session


@click.group(cls=LazyGroup, lazy=TOP_LEVEL, context_settings={"help_option_names": ["--help"]},
             params=[click_option(spec) for spec in GLOBAL_OPTIONS.options])
@click.version_option(__version__, "-v", "--version", message="Berth version %(version)s")
@click.pass_context
def cli(ctx: click.Context, host: str | None, debug: bool, log_level: str) -> None:
    """A self-sufficient runtime for containers (a docker-compatible client of berthd)."""
    ctx.obj = Session(resolve_host(host))


def _management_group(name: str, lazy: dict[str, str], help_text: str) -> None:
    group = LazyGroup(name=name, lazy=lazy, help=help_text, context_settings={"help_option_names": ["--help"]})
    cli.add_command(group)


_management_group("container", CONTAINER_COMMANDS, "Manage containers")
_management_group("image", IMAGE_COMMANDS, "Manage images")
_management_group("network", NETWORK_COMMANDS, "Manage networks")
_management_group("system", SYSTEM_COMMANDS, "Manage berth")
_management_group("volume", VOLUME_COMMANDS, "Manage volumes")


def _usage_message(err: click.UsageError) -> tuple[str, int]:
    """docker's message and exit code for a command line it would refuse: a wrong number of arguments
    exits 1, anything else (an unknown flag, a bad value) 125."""
    message = err.format_message()
    if isinstance(err, click.NoSuchOption):
        message = f"unknown flag: {err.option_name}"
    elif isinstance(err, FlagValueError):
        message = err.message
    ctx = err.ctx
    if ctx is None:
        return message, 125
    help_hint = "Run"
    code = 125
    counted = _argument_count(err, ctx)
    if counted is not None:
        message, code = f"berth: {counted}", 1
        help_hint = "See" if "at least" in counted else "Run"
    usage = ctx.get_usage().replace("Usage: ", "Usage:  ", 1)
    return f"{message}\n\n{usage}\n\n{help_hint} '{ctx.command_path} --help' for more information", code


def _argument_count(err: click.UsageError, ctx: click.Context) -> str | None:
    """"'berth rm' requires at least 1 argument" and its kin, when too few or too many were given."""
    missing = isinstance(err, click.MissingParameter) and isinstance(err.param, click.Argument)
    extra = err.format_message().startswith("Got unexpected extra argument")
    if not (missing or extra):
        return None
    arguments = [p for p in ctx.command.params if isinstance(p, click.Argument)]
    needed = sum(1 for argument in arguments if argument.required)
    name = f"'{ctx.command_path}'"
    if not arguments:
        return f"{name} accepts no arguments"
    plural = "" if needed == 1 else "s"
    if any(argument.nargs == -1 for argument in arguments):
        return f"{name} requires at least {needed} argument{plural}"
    return f"{name} requires {needed} argument{plural}"


def run(args: list[str]) -> int:
    """Run the command line with click; return the exit code (docker's for usage errors)."""
    try:
        code = cli.main(args=args, prog_name="berth", standalone_mode=False)
    except click.UsageError as err:
        message, code = _usage_message(err)
        print(message, file=sys.stderr)
        return code
    except click.ClickException as err:
        print(err.format_message(), file=sys.stderr)
        return err.exit_code
    except click.Abort:
        return 1
    return code if isinstance(code, int) else 0
