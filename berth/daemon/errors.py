"""The daemon's own errors, of kinds in berth.errdefs (which the services raise directly otherwise)."""
from berth.errdefs import Conflict, InvalidArgument


class NotRunning(Conflict):
    """The container must be running for this."""


class StartFailed(InvalidArgument):
    """The runtime could not start the process; `exit_code` is Docker's 125, 126 or 127."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code
