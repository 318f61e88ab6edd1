"""`berthd`: the berth daemon's command line, and its composition root: it builds the engine (the
daemon's services), serves them over the Engine API on the configured sockets, and stops both on
SIGTERM or SIGINT. The only module below `berth.api` that imports it (see tests/test_layering.py)."""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sqlite3
import sys
from pathlib import Path

from berth import paths
from berth.daemon.config import ConfigError, DaemonConfig, load_config

log = logging.getLogger("berthd")
FULL_DISK_BYTES = 1 << 20  # less free space than this, and a failing database is said to be on a full disk


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="berthd", description="The berth container engine daemon")
    parser.add_argument("--config-file", type=Path, default=Path(paths.DEFAULT_CONFIG))
    parser.add_argument("--data-root", help=f"root of persistent state (default {paths.DEFAULT_DATA_ROOT})")
    parser.add_argument("--exec-root", help=f"root of runtime state (default {paths.DEFAULT_EXEC_ROOT})")
    parser.add_argument("-H", "--host", action="append", dest="hosts",
                        help=f"socket to listen on (default {paths.DEFAULT_HOST})")
    parser.add_argument("-D", "--debug", action="store_true", default=None)
    parser.add_argument("--cgroup-parent")
    parser.add_argument("--default-runtime")
    parser.add_argument("--insecure-registry", action="append", dest="insecure_registries",
                        help="a registry reached over plain HTTP (host[:port] or CIDR); repeatable")
    parser.add_argument("--registry-mirror", action="append", dest="registry_mirrors",
                        help="a mirror of Docker Hub (an http(s) URL); repeatable")
    parser.add_argument("--seccomp-profile", help="containers' default seccomp profile: a JSON file, or unconfined")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    try:
        config = load_config(args.config_file, {
            "data-root": args.data_root, "exec-root": args.exec_root, "hosts": args.hosts,
            "debug": args.debug, "cgroup-parent": args.cgroup_parent,
            "default-runtime": args.default_runtime, "seccomp-profile": args.seccomp_profile,
            "insecure-registries": args.insecure_registries, "registry-mirrors": args.registry_mirrors,
        })
    except ConfigError as exc:
        sys.exit(f"berthd: {exc}")
    logging.basicConfig(level=logging.DEBUG if config.debug else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from berth.image.errors import StoreFormatError

    try:
        asyncio.run(serve(config))
    except StoreFormatError as exc:
        sys.exit(f"berthd: {exc}")
    except sqlite3.Error as exc:  # the store's database cannot be opened or written: say where, and why
        sys.exit(f"berthd: cannot use the metadata database under {config.data_root}: {exc}{_full_disk_note(config.data_root)}")
    except KeyboardInterrupt:
        pass


def _full_disk_note(path: Path) -> str:
    try:
        stat = os.statvfs(path)
    except OSError:
        return ""
    return " (no space left on device)" if stat.f_bavail * stat.f_frsize < FULL_DISK_BYTES else ""


async def serve(config: DaemonConfig) -> None:
    """Run the engine and its API until SIGTERM or SIGINT; containers outlive it (live restore)."""
    from berth.api.app import build_server
    from berth.daemon.engine import Engine

    engine = Engine(config)
    await engine.start()
    server = build_server(engine)
    listeners = []
    for path in config.socket_paths:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        if os.path.exists(path):
            os.unlink(path)
        listeners.append(await server.serve_unix(path))
        os.chmod(path, 0o660)
        log.info("API listening on unix://%s", path)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    log.info("berthd ready (data root %s)", config.data_root)
    await stop.wait()
    log.info("shutting down; containers keep running (live restore)")
    for listener in listeners:
        listener.close()
    await engine.stop()


if __name__ == "__main__":
    main()
