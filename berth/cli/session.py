"""Per-invocation state shared by commands: the daemon host and one client for it."""
from __future__ import annotations

TYPE_CHECKING = False  # what typing.TYPE_CHECKING is, without importing typing (start-up time)
if TYPE_CHECKING:
    from berth.cli.client import Client


class Session:
    """Created by the root command; the client connects on first use."""

    def __init__(self, host: str) -> None:
        self.host = host
        self._client: Client | None = None

    @property
    def client(self) -> Client:
        if self._client is None:
            from berth.cli.client import Client

            self._client = Client(self.host)
        return self._client


def api() -> Client:
    """The client of the click command being run."""
    import click

    return click.get_current_context().find_object(Session).client  # type: ignore[union-attr]
