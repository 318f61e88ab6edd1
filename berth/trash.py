"""Deleting big trees off the caller's path (a leaf module): the tree is renamed aside at once, so its
name is free and no reader finds half of it, and coreutils' `rm -rf` deletes it in a background
thread, outside the GIL (shutil.rmtree spends tens of microseconds of Python on every file)."""
from __future__ import annotations

import subprocess
import threading
import uuid
from pathlib import Path

PREFIX = ".removed-"  # what is left of a tree being deleted when the process died


def discard(tree: Path) -> None:
    """Rename `tree` aside and delete it in the background; a tree that cannot be renamed is deleted now."""
    aside = tree.with_name(f"{PREFIX}{tree.name}-{uuid.uuid4().hex[:8]}")
    try:
        tree.rename(aside)
    except OSError:
        aside = tree
    thread = threading.Thread(target=_delete, args=(aside,), name="discard", daemon=True)
    thread.start()
    if aside is tree:
        thread.join()


def sweep(directory: Path) -> None:
    """Delete, in the background, what a crash left of trees discarded under `directory`."""
    for leftover in directory.glob(f"{PREFIX}*"):
        threading.Thread(target=_delete, args=(leftover,), name="discard", daemon=True).start()


def _delete(tree: Path) -> None:
    subprocess.run(["rm", "-rf", "--one-file-system", "--", str(tree)], capture_output=True)
