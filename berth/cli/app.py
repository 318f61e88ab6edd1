"""The click application: the `berth` group, its management groups, and click's errors in docker's
words. The entry point (berth.cli.main) comes here for whatever the quick path does not run."""
from __future__ import annotations

import sys

import click

from berth import __version__
from berth.cli.hosts import resolve_host
from berth.cli.lazy import LazyGroup
from berth.cli.options import click_option
from berth.cli.registry import (
    CONTAINER_COMMANDS,
    GLOBAL_OPTIONS,
    IMAGE_COMMANDS,
    SYSTEM_COMMANDS,
    TOP_LEVEL,
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
_management_group("system", SYSTEM_COMMANDS, "Manage berth")


def _usage_message(err: click.UsageError) -> str:
    message = err.format_message()
    if isinstance(err, click.NoSuchOption):
        message = f"unknown flag: {err.option_name}"
    ctx = err.ctx
    if ctx is None:
        return message
    usage = ctx.get_usage().replace("Usage: ", "Usage:  ", 1)
    return f"{message}\n\n{usage}\n\nRun '{ctx.command_path} --help' for more information"


def run(args: list[str]) -> int:
    """Run the command line with click; return the exit code (usage errors: 125, as docker)."""
    try:
        code = cli.main(args=args, prog_name="berth", standalone_mode=False)
    except click.UsageError as err:
        print(_usage_message(err), file=sys.stderr)
        return 125
    except click.ClickException as err:
        print(err.format_message(), file=sys.stderr)
        return err.exit_code
    except click.Abort:
        return 1
    return code if isinstance(code, int) else 0
