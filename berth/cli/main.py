"""The `berth` command: a docker-shaped client of the Engine API.

Commands live in berth.cli.commands.* and are imported only when invoked, so every command
pays just for what it uses.
"""
from __future__ import annotations

import os
import sys

import click

from berth import __version__
from berth.cli.errors import CLIError, ExitStatus
from berth.cli.hosts import resolve_host
from berth.cli.lazy import LazyGroup
from berth.cli.session import Session

_C = "berth.cli.commands."

CONTAINER_COMMANDS = {
    "attach": _C + "io:attach",
    "commit": _C + "containers:commit",
    "create": _C + "run:create",
    "diff": _C + "containers:diff",
    "exec": _C + "io:exec_",
    "export": _C + "containers:export",
    "inspect": _C + "inspect:container_inspect",
    "kill": _C + "containers:kill",
    "logs": _C + "io:logs",
    "ls": _C + "ps:ps",
    "list": _C + "ps:ps",
    "ps": _C + "ps:ps",
    "pause": _C + "containers:pause",
    "port": _C + "containers:port",
    "prune": _C + "containers:prune",
    "rename": _C + "containers:rename",
    "restart": _C + "containers:restart",
    "rm": _C + "containers:rm",
    "remove": _C + "containers:rm",
    "run": _C + "run:run",
    "start": _C + "containers:start",
    "stats": _C + "containers:stats",
    "stop": _C + "containers:stop",
    "top": _C + "containers:top",
    "unpause": _C + "containers:unpause",
    "wait": _C + "containers:wait",
}

IMAGE_COMMANDS = {
    "history": _C + "images:history",
    "import": _C + "images:import_",
    "inspect": _C + "inspect:image_inspect",
    "load": _C + "images:load",
    "ls": _C + "images:images",
    "list": _C + "images:images",
    "prune": _C + "images:prune",
    "pull": _C + "images:pull",
    "push": _C + "images:push",
    "rm": _C + "images:rmi",
    "remove": _C + "images:rmi",
    "save": _C + "images:save",
    "tag": _C + "images:tag",
}

SYSTEM_COMMANDS = {
    "check": _C + "system:check",
    "df": _C + "system:df",
    "events": _C + "system:events",
    "info": _C + "system:info",
    "prune": _C + "system:prune",
}

TOP_LEVEL = {
    **{name: CONTAINER_COMMANDS[name] for name in (
        "attach", "commit", "create", "diff", "exec", "export", "kill", "logs", "pause", "port",
        "ps", "rename", "restart", "rm", "run", "start", "stats", "stop", "top", "unpause", "wait")},
    "images": IMAGE_COMMANDS["ls"],
    "rmi": IMAGE_COMMANDS["rm"],
    **{name: IMAGE_COMMANDS[name] for name in ("history", "import", "load", "pull", "push", "save", "tag")},
    "inspect": _C + "inspect:inspect",
    "events": SYSTEM_COMMANDS["events"],
    "info": SYSTEM_COMMANDS["info"],
    "version": _C + "system:version",
    "daemon": _C + "system:daemon",
}


@click.group(cls=LazyGroup, lazy=TOP_LEVEL, context_settings={"help_option_names": ["--help"]})
@click.option("-H", "--host", "host", metavar="HOST", help="Daemon socket to connect to (default $BERTH_HOST).")
@click.option("-D", "--debug", is_flag=True, help="Enable debug mode.")
@click.option("-l", "--log-level", default="info", metavar="LEVEL", help="Logging level (accepted for docker compatibility).")
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


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the command and turn its outcome into docker's output and exit code."""
    try:
        code = cli.main(args=argv, prog_name="berth", standalone_mode=False)
    except ExitStatus as status:
        code = status.code
    except CLIError as err:
        sys.stdout.flush()
        print(err.message, file=sys.stderr)
        code = err.exit_code
    except click.UsageError as err:
        print(_usage_message(err), file=sys.stderr)
        code = 125
    except click.ClickException as err:
        print(err.format_message(), file=sys.stderr)
        code = err.exit_code
    except click.Abort:
        code = 1
    except KeyboardInterrupt:
        code = 130
    except BrokenPipeError:  # stdout closed early (`berth ps | head`): not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
        code = 0
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
