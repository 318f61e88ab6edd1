"""Show a stream of docker JSON messages (pull, push, load, import) as docker does.

On a terminal, each layer id keeps its own line, rewritten in place as its progress changes;
otherwise progress bars are left out and every status is printed on its own line.
"""
from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import Any, TextIO

from berth.cli.errors import CLIError
from berth.cli.units import human_size


def progress_bar(detail: dict[str, Any], width: int) -> str:
    """The `[=====>    ]  1.2MB/4.5MB` part of a progress line."""
    current = detail.get("current") or 0
    total = detail.get("total") or 0
    units = detail.get("units") or ""
    if current <= 0 and total <= 0:
        return ""
    if total <= 0:
        return f"{human_size(current):>8}" if not units else f"{current} {units}"
    percentage = min(int(current / total * 100) // 2, 50)
    bar = f"[{'=' * percentage}>{' ' * max(50 - percentage, 0)}] " if width > 110 else ""
    if units:
        numbers = f"{current}/{total} {units}"
    elif current > total:
        numbers = f"{human_size(current):>8}"
    else:
        numbers = f"{human_size(current):>8}/{human_size(total)}"
    return bar + numbers


def _message_text(message: dict[str, Any], terminal: bool, width: int) -> str | None:
    """The text docker prints for one message (without line handling), or None to skip it."""
    detail = message.get("progressDetail") or {}
    progress = progress_bar(detail, width) if detail else ""
    if not progress and message.get("progress"):
        progress = message["progress"]
    if progress and not terminal:
        return None
    text = f"{message['id']}: " if message.get("id") else ""
    if message.get("from"):
        text += f"(from {message['from']}) "
    if progress:
        return text + f"{message.get('status', '')} {progress}"
    if message.get("stream"):
        return text + message["stream"]
    return text + f"{message.get('status', '')}\n"


def display_messages(messages: Iterable[dict[str, Any]], out: TextIO | None = None,
                     terminal: bool | None = None,
                     on_aux: Callable[[dict[str, Any]], None] | None = None) -> None:
    """Print the messages; raise CLIError with the daemon's text when one carries an error."""
    out = out or sys.stdout
    if terminal is None:
        terminal = out.isatty()
    width = _width(out) if terminal else 0
    lines: dict[str, int] = {}
    for message in messages:
        if message.get("error") or message.get("errorDetail"):
            detail = message.get("errorDetail") or {}
            raise CLIError(message.get("error") or detail.get("message") or "unknown error")
        if "aux" in message:
            if on_aux is not None:
                on_aux(message["aux"])
            continue
        text = _message_text(message, terminal, width)
        if text is None:
            continue
        ident = message.get("id")
        if not (terminal and ident):
            if not ident:
                lines.clear()
            out.write(text)
            continue
        if ident not in lines:
            lines[ident] = len(lines)
            out.write("\n")
        up = len(lines) - lines[ident]
        out.write(f"\x1b[{up}A\r\x1b[2K{text.rstrip(chr(10))}\r\x1b[{up}B")
        out.flush()
    out.flush()


def _width(out: TextIO) -> int:
    import os

    try:
        return os.get_terminal_size(out.fileno()).columns
    except (OSError, ValueError):
        return 80
