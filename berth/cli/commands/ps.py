"""`berth ps` / `berth container ls`."""
from __future__ import annotations

from berth.cli.options import Command

TYPE_CHECKING = False  # what typing.TYPE_CHECKING is, without importing typing (start-up time)
if TYPE_CHECKING:
    from berth.cli.session import Session

DEFAULT_FORMAT = "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"


def _ps(session: Session, all_: bool, filters: tuple[str, ...], format_: str | None, last: int, latest: bool,
        no_trunc: bool, quiet: bool, size: bool) -> None:
    """List containers."""
    from berth.cli.client import encode_filters
    from berth.cli.contexts import ContainerContext
    from berth.cli.filters import parse_filters
    from berth.cli.formatter import render, resolve_format

    limit = 1 if latest else last
    default = DEFAULT_FORMAT + ("\t{{.Size}}" if size else "")
    fmt = resolve_format(format_, default, "{{.ID}}", quiet)
    want_size = size or (".Size" in fmt or fmt == "{{json .}}") and not quiet
    params = {"all": all_ or limit > 0 or None, "limit": limit if limit > 0 else None, "size": want_size or None,
              "filters": encode_filters(parse_filters(filters))}
    containers = session.client.get("/containers/json", params) or []
    rows = [ContainerContext(item, trunc=not no_trunc) for item in containers]
    print(render(fmt, rows, ContainerContext.TITLES), end="", flush=True)  # a closed pipe: main handles it


ps = Command("ps", _ps, [
    (("-a", "--all", "all_"), {"is_flag": True, "help": "Show all containers (default shows just running)"}),
    (("-f", "--filter", "filters"), {"multiple": True, "metavar": "filter",
                                     "help": "Filter output based on conditions provided"}),
    (("--format", "format_"), {"metavar": "string", "help": "Format output using a custom template"}),
    (("-n", "--last"), {"type": int, "default": -1, "help": "Show n last created containers (includes all states)"}),
    (("-l", "--latest"), {"is_flag": True, "help": "Show the latest created container (includes all states)"}),
    (("--no-trunc",), {"is_flag": True, "help": "Don't truncate output"}),
    (("-q", "--quiet"), {"is_flag": True, "help": "Only display container IDs"}),
    (("-s", "--size"), {"is_flag": True, "help": "Display total file sizes"}),
], [], short_help="List containers")
