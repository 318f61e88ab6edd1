"""`berthd`: the berth daemon's command line."""
from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from berth import paths
from berth.daemon.config import ConfigError, load_config


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
    parser.add_argument("--seccomp-profile", help="containers' default seccomp profile: a JSON file, or unconfined")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    try:
        config = load_config(args.config_file, {
            "data-root": args.data_root, "exec-root": args.exec_root, "hosts": args.hosts,
            "debug": args.debug, "cgroup-parent": args.cgroup_parent,
            "default-runtime": args.default_runtime, "seccomp-profile": args.seccomp_profile,
        })
    except ConfigError as exc:
        sys.exit(f"berthd: {exc}")
    logging.basicConfig(level=logging.DEBUG if config.debug else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from berth.daemon.engine import Engine
    from berth.image.errors import StoreFormatError

    try:
        asyncio.run(Engine(config).run())
    except StoreFormatError as exc:
        sys.exit(f"berthd: {exc}")
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
