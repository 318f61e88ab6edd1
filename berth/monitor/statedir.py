"""The files a monitor keeps in its state directory (written with berth.atomicfile)."""
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
