"""Which daemon to talk to: `-H/--host`, else `BERTH_HOST`, else the default socket."""
from __future__ import annotations

import os

from berth.cli.errors import CLIError
from berth.paths import DEFAULT_HOST

HOST_ENV = "BERTH_HOST"


class Address:
    """Where the daemon listens: a unix socket path, or a TCP host and port."""

    __slots__ = ("url", "path", "tcp")

    def __init__(self, url: str, path: str | None = None, tcp: tuple[str, int] | None = None) -> None:
        self.url = url
        self.path = path
        self.tcp = tcp


def resolve_host(option: str | None, environ: dict[str, str] | None = None) -> str:
    """The host URL the CLI uses, in docker's order of precedence."""
    env = os.environ if environ is None else environ
    return option or env.get(HOST_ENV) or DEFAULT_HOST


def parse_host(url: str) -> Address:
    """Parse `unix:///path` or `tcp://host:port`; anything else is a clear error."""
    if url.startswith("unix://"):
        path = url[len("unix://"):]
        if not path:
            raise CLIError(f"invalid host: {url}: no socket path")
        return Address(url, path=path)
    if url.startswith("tcp://"):
        hostport = url[len("tcp://"):].rstrip("/")
        host, sep, port = hostport.rpartition(":")
        if not sep or not port.isdigit():
            raise CLIError(f"invalid host: {url}: expected tcp://HOST:PORT")
        return Address(url, tcp=(host.strip("[]") or "127.0.0.1", int(port)))
    raise CLIError(f"invalid host: {url}: only unix:// and tcp:// are supported")
