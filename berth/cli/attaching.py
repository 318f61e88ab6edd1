"""Being attached to a container or exec: hijack, terminal size, signal proxying, exit codes."""
from __future__ import annotations

from berth.cli.client import Client, Hijacked
from berth.cli.errors import DaemonError
from berth.cli.streams import RawTerminal, pump, terminal_size

TYPE_CHECKING = False  # what typing.TYPE_CHECKING is, without importing typing (start-up time)
if TYPE_CHECKING:
    from typing import Any

# Signals the CLI forwards to the container while attached (docker proxies all catchable ones
# except those about the CLI's own terminal and children).
PROXIED_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGALRM", "SIGCONT")


def attach(client: Client, container: str, *, stdin: bool, stdout: bool = True, stderr: bool = True,
           detach_keys: str | None = None) -> Hijacked:
    """POST /containers/{id}/attach on a connection of its own."""
    params: dict[str, Any] = {"stream": True, "stdin": stdin, "stdout": stdout, "stderr": stderr,
                              "detachKeys": detach_keys}
    return client.clone().hijack(f"/containers/{container}/attach", params)


def resize(client: Client, path: str) -> None:
    """Tell the daemon our terminal size (path: /containers/{id}/resize or /exec/{id}/resize)."""
    size = terminal_size()
    if size is None:
        return
    try:
        client.post(path, {"h": size[0], "w": size[1]})
    except DaemonError:
        pass  # the process may already be gone; docker ignores this too


class ProxySignals:
    """While attached (a `with`), forward the signals we receive to the container. A class, not a
    @contextmanager: contextlib costs the CLI start-up time."""

    def __init__(self, client: Client, container: str, enabled: bool = True) -> None:
        self.client = client
        self.container = container
        self.enabled = enabled
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> None:
        if self.enabled:
            import signal  # only here: it imports enum (some 4 ms), which other commands need not pay for

            for name in PROXIED_SIGNALS:
                self._previous[signal.Signals[name]] = signal.signal(signal.Signals[name], self._forward)

    def __exit__(self, *exc_info: object) -> None:
        if self._previous:
            import signal

            while self._previous:
                signum, handler = self._previous.popitem()
                signal.signal(signum, handler)

    def _forward(self, signum: int, _frame: Any) -> None:
        import signal  # imported already, by __enter__

        try:
            self.client.clone().post(f"/containers/{self.container}/kill", {"signal": signal.Signals(signum).name})
        except DaemonError:
            pass


def stream_attached(client: Client, conn: Hijacked, *, tty: bool, stdin: bool, detach_keys: bytes,
                    resize_path: str | None) -> bool:
    """Copy I/O until the stream ends, with the terminal raw and sized when `tty`.

    Returns True when the user detached."""
    with RawTerminal(tty and stdin):
        on_resize = None
        if tty and resize_path:
            resize(client, resize_path)
            on_resize = lambda: resize(client, resize_path)  # noqa: E731
        try:
            return pump(conn, tty=tty, stdin=stdin, detach_keys=detach_keys, on_resize=on_resize)
        finally:
            conn.close()


def start_error_exit_code(message: str) -> int:
    """docker's exit code when a container cannot start: 127 not found, 126 not executable, else 125."""
    if any(text in message for text in ("executable file not found", "no such file or directory",
                                        "system cannot find the file specified")):
        return 127
    if "permission denied" in message or "is a directory" in message:
        return 126
    return 125
