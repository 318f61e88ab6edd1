"""The `berth` command: a docker-shaped client of the Engine API.

Commands live in berth.cli.commands.* and are imported only when invoked, so every command pays just
for what it uses. Commands declared as berth.cli.options.Command run without click when their
command line is a common one (the quick path); click parses everything else.
"""
from __future__ import annotations

import os
import sys

from berth.cli.errors import CLIError, ExitStatus
from berth.cli.options import Command, NotQuick
from berth.cli.registry import GLOBAL_OPTIONS, TOP_LEVEL, load


def run_quick(args: list[str]) -> int:
    """Run a common command line of a command declared as data; NotQuick for the rest."""
    from berth.cli.hosts import resolve_host
    from berth.cli.session import Session

    top = GLOBAL_OPTIONS.parse(args)
    target = TOP_LEVEL.get(top["command"])
    if target is None:
        raise NotQuick
    try:
        command = load(target)
    except ModuleNotFoundError:  # a click command's module, started without site-packages (see below)
        raise NotQuick from None
    if not isinstance(command, Command):
        raise NotQuick
    params = command.parse(list(top["args"]))
    command.run(Session(resolve_host(top["host"])), **params)
    return 0


def _with_site_packages() -> None:
    """berth's launcher starts Python without `site` (start-up time); click and the other installed
    packages need it."""
    if sys.flags.no_site:
        import site

        site.main()


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the command and turn its outcome into docker's output and exit code."""
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        try:
            code = run_quick(args)
        except NotQuick:
            _with_site_packages()
            from berth.cli import app

            code = app.run(args)
    except ExitStatus as status:
        code = status.code
    except CLIError as err:
        sys.stdout.flush()
        print(err.message, file=sys.stderr)
        code = err.exit_code
    except KeyboardInterrupt:
        code = 130
    except BrokenPipeError:  # stdout closed early (`berth ps | head`): not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
        code = 0
    except ConnectionError as err:  # the daemon went away in the middle of a request
        sys.stdout.flush()
        print(f"berth: the connection to the daemon broke: {err or type(err).__name__}", file=sys.stderr)
        code = 1
    sys.exit(code)


if __name__ == "__main__":
    main()
