"""Reading a container's json-file log (written by its monitor): tail, since/until, follow."""
from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

from berth.daemon.streams import STDERR, STDOUT
from berth.timestamps import parse_seconds

FOLLOW_POLL_SECONDS = 0.05


@dataclass
class LogEntry:
    stream: int
    data: bytes
    time: str


@dataclass
class LogQuery:
    stdout: bool = True
    stderr: bool = True
    since: float = 0.0
    until: float = 0.0
    tail: int | None = None  # None: all

    def wants(self, entry: LogEntry, stamp: float) -> bool:
        if entry.stream == STDOUT and not self.stdout or entry.stream == STDERR and not self.stderr:
            return False
        if self.since and stamp < self.since:
            return False
        return not (self.until and stamp > self.until)


def parse_time_arg(value: str | None) -> float:
    """`--since`/`--until` as the API passes them: Unix seconds (with fraction) or RFC 3339."""
    if not value:
        return 0.0
    try:
        return float(value)
    except ValueError:
        return parse_seconds(value)


def _parse(line: bytes) -> LogEntry | None:
    try:
        record = json.loads(line)
    except ValueError:
        return None  # a torn last line while the monitor writes it
    stream = STDERR if record.get("stream") == "stderr" else STDOUT
    return LogEntry(stream, record.get("log", "").encode(), record.get("time", ""))


def _read_entries(path: Path, offset: int) -> tuple[list[LogEntry], int]:
    """Complete lines from `offset` on, and the offset after the last complete line."""
    try:
        with open(path, "rb") as log:
            log.seek(offset)
            data = log.read()
    except FileNotFoundError:
        return [], offset
    end = data.rfind(b"\n") + 1
    entries = [entry for line in data[:end].splitlines() if (entry := _parse(line)) is not None]
    return entries, offset + end


async def read_logs(path: Path, query: LogQuery, follow: bool,
                    running: Callable[[], bool]) -> AsyncIterator[LogEntry]:
    entries, offset = await asyncio.to_thread(_read_entries, path, 0)
    selected = [e for e in entries if query.wants(e, parse_seconds(e.time))]
    if query.tail is not None:
        selected = list(deque(selected, maxlen=query.tail)) if query.tail > 0 else []
    for entry in selected:
        yield entry
    while follow:
        still_running = running()
        entries, offset = await asyncio.to_thread(_read_entries, path, offset)
        for entry in entries:
            stamp = parse_seconds(entry.time)
            if query.until and stamp > query.until:
                return
            if query.wants(entry, stamp):
                yield entry
        if not still_running:
            return
        await asyncio.sleep(FOLLOW_POLL_SECONDS)
