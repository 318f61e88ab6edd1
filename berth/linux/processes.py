"""Whether a process is there, asked the kernel's way (signal 0)."""
from __future__ import annotations

import os


def exists(pid: int) -> bool:
    """True while `pid` names a process (a zombie too), also one this process may not signal."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
