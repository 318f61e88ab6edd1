"""login and logout: credentials checked by the daemon (POST /auth), kept by the client."""
from __future__ import annotations

import sys

import click

from berth.cli import credentials
from berth.cli.errors import CLIError
from berth.cli.session import api

_SETTINGS = {"help_option_names": ["--help"]}


@click.command(context_settings=_SETTINGS, short_help="Log in to a Docker registry")
@click.option("-u", "--username", metavar="string", help="Username")
@click.option("-p", "--password", metavar="string", help="Password")
@click.option("--password-stdin", is_flag=True, help="Take the password from stdin")
@click.argument("server", required=False, default="")
def login(username: str | None, password: str | None, password_stdin: bool, server: str) -> None:
    """Log in to a Docker registry.
    If no server is specified, the default is defined by the daemon."""
    if password:
        click.echo("WARNING! Using --password via the CLI is insecure. Use --password-stdin.", err=True)
        if password_stdin:
            raise CLIError("--password and --password-stdin are mutually exclusive")
    if password_stdin:
        if not username:
            raise CLIError("Must provide --username with --password-stdin")
        password = sys.stdin.read().rstrip("\r\n")
    key = credentials.normalized(server)
    if not username:
        username = click.prompt("Username", default=credentials.lookup(key).get("username") or None)
    if not password:
        password = click.prompt("Password", hide_input=True)
    if not username or not password:
        raise CLIError("Error: Non-null Username Required" if not username else "Error: Non-null Password Required")
    answer = api().post("/auth", None, {"username": username, "password": password, "serveraddress": server or key})
    token = (answer or {}).get("IdentityToken") or ""
    stored_in = credentials.store(key, username, password, token)
    if stored_in is not None and not token:
        click.echo(f"WARNING! Your password will be stored unencrypted in {stored_in}.", err=True)
    click.echo("Login Succeeded")


@click.command(context_settings=_SETTINGS, short_help="Log out from a Docker registry")
@click.argument("server", required=False, default="")
def logout(server: str) -> None:
    """Log out from a Docker registry.
    If no server is specified, the default is defined by the daemon."""
    key = credentials.normalized(server)
    if credentials.erase(key):
        click.echo(f"Removing login credentials for {key}")
    else:
        click.echo(f"Not logged in to {key}")
