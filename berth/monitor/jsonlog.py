"""Docker's json-file log format: one JSON object per line of output."""
from __future__ import annotations

import json
import os

from berth.timestamps import rfc3339_nano

MAX_LINE = 16 * 1024  # a line longer than this is logged in pieces, as Docker does


def open_log(path: str) -> int:
    """Open (create) a json-file log for appending."""
    return os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)


class JsonLog:
    """Appends output to a json-file log, one entry per line and stream.

    A line is held until its newline arrives; one that grows past MAX_LINE, and what is left when the
    log is closed, become entries of their own.
    """

    def __init__(self, target: str | int) -> None:
        """The log at a path, or on an fd from open_log() (a container monitor's helper opens it)."""
        self.fd = target if isinstance(target, int) else open_log(target)
        self.partial: dict[str, bytes] = {}

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
        data = "".join(
            json.dumps({"log": entry.decode("utf-8", errors="replace"), "stream": stream, "time": time},
                       ensure_ascii=False) + "\n"
            for entry in entries
        ).encode()
        while data:
            data = data[os.write(self.fd, data):]
