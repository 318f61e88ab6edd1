"""Where each command lives: {name: "module:attribute"}, imported only when the command runs.

The attribute is a click command, or a berth.cli.options.Command (which the quick path can run
without importing click).
"""
from __future__ import annotations

import sys

from berth.cli.options import Syntax

# `berth [OPTIONS] COMMAND [ARG...]` (berth.cli.app adds -v/--version and --help for click)
GLOBAL_OPTIONS = Syntax([
    (("-H", "--host"), {"metavar": "HOST", "help": "Daemon socket to connect to (default $BERTH_HOST)."}),
    (("-D", "--debug"), {"is_flag": True, "help": "Enable debug mode."}),
    (("-l", "--log-level"), {"default": "info", "metavar": "LEVEL",
                             "help": "Logging level (accepted for docker compatibility)."}),
], [("command", {}), ("args", {"nargs": -1})], interspersed=False)

_C = "berth.cli.commands."

CONTAINER_COMMANDS = {
    "attach": _C + "io:attach",
    "commit": _C + "containers:commit",
    "cp": _C + "copy:cp",
    "create": _C + "run:create",
    "diff": _C + "containers:diff",
    "exec": _C + "io:exec_",
    "export": _C + "containers:export",
    "inspect": _C + "inspect:container_inspect",
    "kill": _C + "lifecycle:kill",
    "logs": _C + "io:logs",
    "ls": _C + "ps:ps",
    "list": _C + "ps:ps",
    "ps": _C + "ps:ps",
    "pause": _C + "containers:pause",
    "port": _C + "containers:port",
    "prune": _C + "containers:prune",
    "rename": _C + "containers:rename",
    "restart": _C + "lifecycle:restart",
    "rm": _C + "lifecycle:rm",
    "remove": _C + "lifecycle:rm",
    "run": _C + "run:run",
    "start": _C + "lifecycle:start",
    "stats": _C + "containers:stats",
    "stop": _C + "lifecycle:stop",
    "top": _C + "containers:top",
    "unpause": _C + "containers:unpause",
    "update": _C + "containers:update",
    "wait": _C + "containers:wait",
}

IMAGE_COMMANDS = {
    "build": _C + "build:build",
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

NETWORK_COMMANDS = {
    name: _C + f"networks:{name}"
    for name in ("connect", "create", "disconnect", "explain", "inspect", "ls", "prune", "rm")
} | {"list": _C + "networks:ls", "remove": _C + "networks:rm"}

VOLUME_COMMANDS = {
    name: _C + f"volumes:{name}" for name in ("create", "inspect", "ls", "prune", "rm")
} | {"list": _C + "volumes:ls", "remove": _C + "volumes:rm"}

SYSTEM_COMMANDS = {
    "check": _C + "system:check",
    "df": _C + "system:df",
    "events": _C + "system:events",
    "info": _C + "system:info",
    "prune": _C + "system:prune",
}

TOP_LEVEL = {
    **{name: CONTAINER_COMMANDS[name] for name in (
        "attach", "commit", "cp", "create", "diff", "exec", "export", "kill", "logs", "pause", "port",
        "ps", "rename", "restart", "rm", "run", "start", "stats", "stop", "top", "unpause", "update", "wait")},
    "images": IMAGE_COMMANDS["ls"],
    "rmi": IMAGE_COMMANDS["rm"],
    **{name: IMAGE_COMMANDS[name] for name in ("build", "history", "import", "load", "pull", "push", "save", "tag")},
    "inspect": _C + "inspect:inspect",
    "events": SYSTEM_COMMANDS["events"],
    "info": SYSTEM_COMMANDS["info"],
    "version": _C + "system:version",
    "daemon": _C + "system:daemon",
    "registry": _C + "system:registry",
    "login": _C + "registries:login",
    "logout": _C + "registries:logout",
}


def load(target: str) -> object:
    """The command a "module:attribute" target names, its module imported now (with __import__:
    importlib costs the CLI start-up time)."""
    module_name, _, attribute = target.partition(":")
    __import__(module_name)
    return getattr(sys.modules[module_name], attribute)
