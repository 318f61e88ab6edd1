"""`berth registry serve`: the registry on an address, over TLS when given a certificate."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from berth.registry.app import API_VERSION_HEADER, Registry
from berth.registry.auth import BasicAuth, Htpasswd
from berth.registry.http import HttpServer
from berth.registry.storage import Storage

DEFAULT_ROOT = "/var/lib/berth-registry"
DEFAULT_ADDRESS = ":5000"
IDLE_UPLOAD = 300.0  # an upload's writer is closed after this long without a request (its data stays)

log = logging.getLogger("berth.registry")


@dataclass
class Config:
    root: Path
    address: str = DEFAULT_ADDRESS
    tls_cert: Path | None = None
    tls_key: Path | None = None
    htpasswd: Path | None = None
    delete_enabled: bool = False
    read_only: bool = False


def split_address(address: str) -> tuple[str, int]:
    """`host:port`, `:port` (every address) or `[v6]:port` → (host, port)."""
    host, colon, port = address.rpartition(":")
    if not colon or not port.isdigit():
        raise ValueError(f"invalid address {address!r}: expected HOST:PORT or :PORT")
    return host.strip("[]"), int(port)


def tls_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def registry(config: Config) -> Registry:
    auth = BasicAuth(Htpasswd(config.htpasswd)) if config.htpasswd else None
    return Registry(Storage(config.root), auth, config.delete_enabled, config.read_only)


async def start(config: Config) -> tuple[asyncio.Server, Registry]:
    """The registry, listening; the server's sockets tell the address it got (port 0: any free port)."""
    if (config.tls_cert is None) != (config.tls_key is None):
        raise ValueError("TLS needs both a certificate and its key")
    app = registry(config)
    tls = tls_context(config.tls_cert, config.tls_key) if config.tls_cert and config.tls_key else None
    host, port = split_address(config.address)
    server = await HttpServer(app, [API_VERSION_HEADER]).serve_tcp(host, port, tls)
    return server, app


async def serve(config: Config, ready: Callable[[str], None] = lambda address: None) -> None:
    """Serve until cancelled; `ready` is told the address once the registry listens."""
    server, app = await start(config)
    host, port = server.sockets[0].getsockname()[:2]
    host = f"[{host}]" if ":" in host else host  # an IPv6 address, as URLs write it
    ready(f"{'https' if config.tls_cert else 'http'}://{host}:{port}")
    async with server:
        while True:
            await asyncio.sleep(IDLE_UPLOAD / 5)
            with contextlib.suppress(OSError):
                await asyncio.to_thread(app.close_idle_uploads, IDLE_UPLOAD)
