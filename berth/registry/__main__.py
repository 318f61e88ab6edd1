"""`python -m berth.registry serve|garbage-collect` (what `berth registry` runs)."""
from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import click

from berth.registry import gc, server
from berth.registry.storage import Storage

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
_ROOT = click.option("--root", default=server.DEFAULT_ROOT, show_default=True, type=click.Path(path_type=Path),
                     help="Storage root (blobs and repositories)")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """berth's registry: the OCI Distribution API on filesystem storage."""


@main.command()
@click.option("-a", "--address", default=server.DEFAULT_ADDRESS, show_default=True, help="HOST:PORT to listen on")
@_ROOT
@click.option("--tls-cert", type=_FILE, help="Serve HTTPS with this certificate (PEM)")
@click.option("--tls-key", type=_FILE, help="The certificate's private key (PEM)")
@click.option("--htpasswd", type=_FILE, help="Require Basic authentication against this htpasswd file")
@click.option("--delete-enabled", is_flag=True, help="Allow deleting blobs, manifests and tags")
@click.option("--read-only", is_flag=True, help="Refuse every change (DENIED)")
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["debug", "info", "warning", "error"]), help="What to log")
def serve(address: str, root: Path, tls_cert: Path | None, tls_key: Path | None, htpasswd: Path | None,
          delete_enabled: bool, read_only: bool, log_level: str) -> None:
    """Serve the registry."""
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(message)s")
    config = server.Config(root, address, tls_cert, tls_key, htpasswd, delete_enabled, read_only)
    try:
        asyncio.run(server.serve(config, lambda url: click.echo(f"listening on {url}")))
    except (ValueError, OSError) as err:
        raise click.ClickException(str(err)) from None
    except KeyboardInterrupt:
        pass


@main.command("garbage-collect")
@_ROOT
@click.option("-m", "--delete-untagged", is_flag=True, help="Also remove manifests no tag reaches")
@click.option("-d", "--dry-run", is_flag=True, help="Only say what would be removed")
def garbage_collect(root: Path, delete_untagged: bool, dry_run: bool) -> None:
    """Remove the blobs (and with -m the manifests) nothing references."""
    report = gc.collect(Storage(root), delete_untagged, dry_run)
    for name, digests in report.manifests.items():
        for digest in digests:
            click.echo(f"{name}: manifest {digest}")
    for name, digests in report.links.items():
        for digest in digests:
            click.echo(f"{name}: blob link {digest}")
    for digest in report.blobs:
        click.echo(f"blob {digest}")
    verb = "would remove" if dry_run else "removed"
    click.echo(f"{verb} {sum(map(len, report.manifests.values()))} manifests, {len(report.blobs)} blobs, "
               f"{report.reclaimed} bytes")


if __name__ == "__main__":
    main()
