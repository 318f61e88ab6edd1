"""What a container changed: its overlayfs upper directory compared with the layers below it."""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from berth.layer.tarwriter import is_whiteout

MODIFIED, ADDED, DELETED = 0, 1, 2


@dataclass(frozen=True, order=True)
class Change:
    path: str
    kind: int  # MODIFIED, ADDED or DELETED, as the Engine API's /containers/{id}/changes


def changes(upper: Path, lowers: list[Path]) -> list[Change]:
    """Changes recorded in `upper`, sorted by path.

    `lowers` (top first) tell an added path from a changed one; a whiteout in a lower layer hides
    what the layers beneath it hold.
    """
    found: list[Change] = []

    def in_lower(relative: str) -> bool:
        for lower in lowers:
            try:
                st = os.lstat(os.path.join(lower, relative))
            except (FileNotFoundError, NotADirectoryError):
                continue
            return not is_whiteout(st)
        return False

    def walk(directory: str, relative: str) -> None:
        with os.scandir(directory) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                child = f"{relative}/{entry.name}"
                st = entry.stat(follow_symlinks=False)
                if is_whiteout(st):
                    found.append(Change(child, DELETED))
                    continue
                found.append(Change(child, MODIFIED if in_lower(child.lstrip("/")) else ADDED))
                if stat.S_ISDIR(st.st_mode):
                    walk(entry.path, child)

    walk(os.fspath(upper), "")
    return sorted(found)
