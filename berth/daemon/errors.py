"""Errors the daemon's services raise; the API layer maps each kind to its HTTP status."""


class DaemonError(Exception):
    """Base: the message is what the user reads, worded as Docker words it."""


class NotFound(DaemonError):
    pass


class Conflict(DaemonError):
    pass


class InvalidArgument(DaemonError):
    pass


class NotModified(DaemonError):
    pass


class NotRunning(Conflict):
    pass


class StartFailed(DaemonError):
    """The runtime could not start the process; `exit_code` is Docker's 125, 126 or 127."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code
