"""Unix socket paths that may be longer than sockaddr_un allows (108 bytes)."""
from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

_SUN_PATH_ROOM = 100


@contextmanager
def short_socket_path(path: str) -> Iterator[str]:
    """Yield a name that reaches `path` for bind/connect, going through an O_PATH fd if it is long."""
    if len(os.fsencode(path)) < _SUN_PATH_ROOM:
        yield path
        return
    directory, name = os.path.split(path)
    fd = os.open(directory or ".", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        yield f"/proc/self/fd/{fd}/{name}"
    finally:
        os.close(fd)
