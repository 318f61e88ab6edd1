"""dockerd's pull and push messages: a status line, or a status for one layer (`id`) with its progress."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

Emit = Callable[[dict[str, Any]], None]
INTERVAL = 0.1  # seconds between two progress messages of one layer


def short(digest: str) -> str:
    """The 12 hex digits a layer is shown by."""
    return digest.removeprefix("sha256:")[:12]


class Progress:
    """Sends messages through `emit`, which may be called from several threads (one at a time)."""

    def __init__(self, emit: Emit) -> None:
        self._emit = emit
        self._lock = threading.Lock()

    def send(self, message: dict[str, Any]) -> None:
        with self._lock:
            self._emit(message)

    def status(self, text: str, id: str | None = None) -> None:
        self.send({"status": text, **({"id": id} if id else {})})

    def layer(self, id: str, status: str, current: int | None = None, total: int | None = None) -> None:
        detail = {} if current is None else {"current": current, **({"total": total} if total else {})}
        self.send({"status": status, "progressDetail": detail, "id": id})

    def counted(self, chunks: Iterable[bytes], id: str, status: str, total: int | None) -> Iterator[bytes]:
        """Pass `chunks` through, telling how many bytes went by (at most every INTERVAL seconds)."""
        done, last = 0, 0.0
        for chunk in chunks:
            done += len(chunk)
            now = time.monotonic()
            if now - last >= INTERVAL:
                self.layer(id, status, done, total)
                last = now
            yield chunk
        self.layer(id, status, done, total)
