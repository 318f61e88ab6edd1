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


def _rotated(path: Path) -> list[Path]:
    """The log's rotated files (`<log>.1` is the newest of them), oldest first."""
    numbered = [(int(p.name.rsplit(".", 1)[1]), p) for p in path.parent.glob(f"{path.name}.*")
                if p.name.rsplit(".", 1)[1].isdigit()]
    return [p for _, p in sorted(numbered, reverse=True)]


def _read_all(path: Path) -> tuple[list[LogEntry], int, int]:
    """Every entry, rotated files first; the offset reached in the log and the log's inode."""
    entries = [entry for older in _rotated(path) for entry in _read_entries(older, 0)[0]]
    inode = _inode(path)
    current, offset = _read_entries(path, 0)
    return entries + current, offset, inode


def _read_new(path: Path, offset: int, inode: int) -> tuple[list[LogEntry], int, int]:
    """What was written since `offset`. If the log was rotated meanwhile (its inode changed): the
    rest of the file we were reading (now `<log>.N`), the files rotated after it, then the new log."""
    now = _inode(path)
    if now == inode or not now:
        if now and path.stat().st_size < offset:  # emptied in place (max-file=1): start over
            offset = 0
        entries, offset = _read_entries(path, offset)
        return entries, offset, inode
    rotated = _rotated(path)
    inodes = [_inode(older) for older in rotated]
    newer = rotated[inodes.index(inode) + 1:] if inode in inodes else rotated
    rest = _read_entries(rotated[inodes.index(inode)], offset)[0] if inode in inodes else []
    rest += [entry for older in newer for entry in _read_entries(older, 0)[0]]
    entries, offset = _read_entries(path, 0)
    return rest + entries, offset, now


def _inode(path: Path) -> int:
    try:
        return path.stat().st_ino
    except FileNotFoundError:
        return 0


async def read_logs(path: Path, query: LogQuery, follow: bool,
                    running: Callable[[], bool]) -> AsyncIterator[LogEntry]:
    entries, offset, inode = await asyncio.to_thread(_read_all, path)
    selected = [e for e in entries if query.wants(e, parse_seconds(e.time))]
    if query.tail is not None:
        selected = list(deque(selected, maxlen=query.tail)) if query.tail > 0 else []
    for entry in selected:
        yield entry
    while follow:
        still_running = running()
        entries, offset, inode = await asyncio.to_thread(_read_new, path, offset, inode)
        for entry in entries:
            stamp = parse_seconds(entry.time)
            if query.until and stamp > query.until:
                return
            if query.wants(entry, stamp):
                yield entry
        if not still_running:
            return
        await asyncio.sleep(FOLLOW_POLL_SECONDS)
