"""The files a monitor keeps in its state directory, written atomically."""
from __future__ import annotations

import json
import os
from pathlib import Path

MONITOR_PID = "monitor.pid"      # the monitor's pid, while it runs
ATTACH_SOCKET = "attach.sock"    # where clients (re)connect, while the process runs
EXIT_FILE = "exit.json"          # the exit record, once the process has ended
CONSOLE_SOCKET = "console.sock"  # where an OCI runtime hands over a pty master (briefly)
RUNTIME_LOG = "runtime.log"      # an OCI runtime's JSON log (its error messages)
EXEC_PID = "exec.pid"            # pid file an OCI runtime writes for the launched process
EXEC_PROCESS = "process.json"    # the OCI process an OCI runtime execs


def write_atomic(path: str | Path, data: bytes) -> None:
    """Replace `path` with `data` so readers see either the old or the new content."""
    path = os.fspath(path)
    temp = f"{path}.tmp{os.getpid()}"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.rename(temp, path)


def remove(path: str) -> None:
    """Unlink `path` if it exists."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def read_exit(state_dir: str | Path) -> dict | None:
    """The exit record of the process a monitor watched, or None if it has not ended (or never ran)."""
    try:
        return json.loads(Path(state_dir, EXIT_FILE).read_bytes())
    except FileNotFoundError:
        return None
