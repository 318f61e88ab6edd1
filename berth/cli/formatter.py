"""Docker-style output: `--format` handling (table / json / Go template) and Go's tabwriter."""
from __future__ import annotations

from berth.cli.errors import CLIError
from berth.cli.gotemplate import Template, TemplateError

TYPE_CHECKING = False  # what typing.TYPE_CHECKING is, without importing typing (start-up time)
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from typing import Any

TABLE_PREFIX = "table"


def tabwrite(text: str, minwidth: int = 10, padding: int = 3) -> str:
    """Align tab-separated cells like Go's text/tabwriter as docker sets it up (10, 1, 3, ' ', 0).

    A cell is text terminated by a tab; the text after a line's last tab is not part of a column.
    Columns are aligned per block of consecutive lines that have a cell in that column.
    """
    lines = [line.split("\t") for line in text.split("\n")]
    trailing_newline = text.endswith("\n")
    if trailing_newline:
        lines.pop()
    out: list[str] = []
    widths: list[int] = []

    def write_lines(start: int, end: int) -> None:
        for cells in lines[start:end]:
            parts = []
            for j, cell in enumerate(cells):
                parts.append(cell.ljust(widths[j]) if j < len(widths) else cell)
            out.append("".join(parts))

    def format_block(line0: int, line1: int) -> int:
        column = len(widths)
        this = line0
        while this < line1:
            if column >= len(lines[this]) - 1:
                this += 1
                continue
            write_lines(line0, this)
            line0 = this
            width = minwidth
            while this < line1 and column < len(lines[this]) - 1:
                width = max(width, len(lines[this][column]) + padding)
                this += 1
            widths.append(width)
            format_block(line0, this)
            widths.pop()
            line0 = this
        write_lines(line0, line1)
        return line1

    format_block(0, len(lines))
    return "\n".join(out) + ("\n" if trailing_newline else "")


def unescape(fmt: str) -> str:
    """What docker does to a format before parsing: drop `table`, trim, turn `\\t` `\\n` into tabs."""
    if fmt.startswith(TABLE_PREFIX):
        fmt = fmt[len(TABLE_PREFIX):]
    return fmt.strip(" ").replace("\\t", "\t").replace("\\n", "\n")


class _Title(str):
    """A column title; callable so that method fields with arguments (`.Label "k"`) work too."""

    def __call__(self, *args: Any) -> str:
        if args:  # `.Label "com.example.some-key"` is titled "some key", as docker does
            return str(args[0]).rsplit(".", 1)[-1].replace("-", " ").replace("_", " ")
        return self


class HeaderContext:
    """Executes a table template on the column titles instead of the rows' values."""

    def __init__(self, titles: Mapping[str, str]) -> None:
        self._titles = titles

    def __getattr__(self, name: str) -> _Title:
        if name.startswith("_"):
            raise AttributeError(name)
        return _Title(self._titles.get(name, ""))


def render(fmt: str, rows: Iterable[Any], titles: Mapping[str, str]) -> str:
    """Render rows with a docker `--format` (already resolved from defaults and `json`)."""
    table = fmt.startswith(TABLE_PREFIX)
    try:
        template = Template(unescape(fmt))
    except TemplateError as err:
        raise CLIError(f"failed to parse template: {err}") from None
    try:
        out = [template.execute(HeaderContext(titles)) + "\n"] if table else []
        out.extend(template.execute(row) + "\n" for row in rows)
    except TemplateError as err:
        raise CLIError(f"failed to execute template: {err}") from None
    text = "".join(out)
    return tabwrite(text) if table else text


def resolve_format(fmt: str | None, default_table: str, quiet_format: str | None = None,
                   quiet: bool = False) -> str:
    """Pick the format docker would: -q, then --format (`json`, `table`, template), then default."""
    if quiet and quiet_format and not fmt:
        return quiet_format
    if not fmt or fmt == TABLE_PREFIX:
        return default_table
    if fmt == "json":
        return "{{json .}}"
    return fmt
