"""Docker's json-file log format: one JSON object per line of output."""
from __future__ import annotations

import json
import os

from berth.timestamps import rfc3339_nano

MAX_LINE = 16 * 1024  # a line longer than this is logged in pieces, as Docker does


def open_log(path: str) -> int:
    """Open (create) a json-file log for appending."""
    return os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)


class Rotation:
    """`--log-opt max-size/max-file`: once the log holds `max_size` bytes, it becomes `<path>.1`
    (the older ones move up to `<path>.<max_file - 1>`, the oldest goes) and a new one starts; with
    one file the log is emptied instead."""

    __slots__ = ("max_file", "max_size", "path")

    def __init__(self, path: str, max_size: int, max_file: int) -> None:
        self.path, self.max_size, self.max_file = path, max_size, max_file


class JsonLog:
    """Appends output to a json-file log, one entry per line and stream.

    A line is held until its newline arrives; one that grows past MAX_LINE, and what is left when the
    log is closed, become entries of their own.
    """

    def __init__(self, target: str | int, rotation: Rotation | None = None) -> None:
        """The log at a path, or on an fd from open_log() (a container monitor's helper opens it)."""
        self.fd = target if isinstance(target, int) else open_log(target)
        self.partial: dict[str, bytes] = {}
        self.rotation = rotation
        self.size = os.fstat(self.fd).st_size if rotation else 0

    def write(self, stream: str, chunk: bytes) -> None:
        lines = (self.partial.pop(stream, b"") + chunk).split(b"\n")
        tail = lines.pop()
        entries = [line + b"\n" for line in lines]
        if len(tail) > MAX_LINE:
            entries.append(tail)
        elif tail:
            self.partial[stream] = tail
        self._append(stream, entries)

    def close(self) -> None:
        for stream, tail in self.partial.items():
            self._append(stream, [tail])
        os.close(self.fd)

    def _append(self, stream: str, entries: list[bytes]) -> None:
        if not entries:
            return
        time = rfc3339_nano()
        lines = [json.dumps({"log": entry.decode("utf-8", errors="replace"), "stream": stream, "time": time},
                            ensure_ascii=False).encode() + b"\n" for entry in entries]
        if self.rotation is None:
            self._write(b"".join(lines))
            return
        for line in lines:  # as dockerd: a full log is rotated before the next entry is written
            if self.size >= self.rotation.max_size:
                self._rotate(self.rotation)
            self._write(line)
            self.size += len(line)

    def _write(self, data: bytes) -> None:
        while data:
            data = data[os.write(self.fd, data):]

    def _rotate(self, rotation: Rotation) -> None:
        self.size = 0
        if rotation.max_file < 2:
            os.ftruncate(self.fd, 0)
            return
        for number in range(rotation.max_file - 1, 1, -1):
            try:
                os.replace(f"{rotation.path}.{number - 1}", f"{rotation.path}.{number}")
            except FileNotFoundError:
                pass
        os.replace(rotation.path, f"{rotation.path}.1")
        os.close(self.fd)
        self.fd = open_log(rotation.path)
