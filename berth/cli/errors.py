"""What a command can fail with, and the exit code docker would use."""
from __future__ import annotations


class CLIError(Exception):
    """An error to print on stderr (as is) before exiting with `exit_code`."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


class FlagError(CLIError):
    """A flag value docker's flag parser refuses (`invalid argument "x" for "--cpus" flag: ...`):
    shown with the command's usage line, exit 125."""

    def __init__(self, message: str) -> None:
        super().__init__(message, 125)


class DaemonError(CLIError):
    """The daemon answered with an error status and `{"message": ...}`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"Error response from daemon: {message}")
        self.status = status
        self.daemon_message = message


class ConnectError(CLIError):
    """The daemon's socket could not be reached."""

    def __init__(self, host: str) -> None:
        super().__init__(
            f"Cannot connect to the berth daemon at {host}. Is the daemon running?\n"
            "Start it with `berthd`, or `berth daemon` to run it in the foreground with logs on the terminal."
        )


class ExitStatus(Exception):
    """Leave with this exit code and no message (a container's exit code, for instance)."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code
