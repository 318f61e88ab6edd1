"""Registry credentials on the client side, kept as docker keeps them: `config.json` (in $BERTH_CONFIG,
default ~/.berth) with an `auths` entry per registry, or a credential helper (`credsStore`,
`credHelpers`: the `docker-credential-NAME` programs). The daemon gets them per request in the
X-Registry-Auth header."""
from __future__ import annotations

import base64
import json
import os
import subprocess
from pathlib import Path
from typing import Any

from berth.cli.errors import CLIError

HUB_SERVER = "https://index.docker.io/v1/"
HUB_DOMAINS = ("docker.io", "index.docker.io", "registry-1.docker.io")
ANONYMOUS = "e30="  # base64 of "{}"
TOKEN_USERNAME = "<token>"  # a helper's username for an identity token


def config_path() -> Path:
    return Path(os.environ.get("BERTH_CONFIG") or Path.home() / ".berth") / "config.json"


def server_of(reference: str) -> str:
    """The key a registry's credentials are stored under, for an image reference."""
    first, slash, _ = reference.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost") and first not in HUB_DOMAINS:
        return first
    return HUB_SERVER


def normalized(server: str) -> str:
    """What `login SERVER` stores under: the host of a URL, Docker Hub's one key for its names."""
    host = server.split("://", 1)[-1].rstrip("/").split("/", 1)[0] if server else ""
    return HUB_SERVER if not host or host in HUB_DOMAINS else host


def _load() -> dict[str, Any]:
    try:
        config = json.loads(config_path().read_text())
    except FileNotFoundError:
        return {}
    except ValueError as error:
        raise CLIError(f"loading config file: {config_path()}: {error}") from None
    return config if isinstance(config, dict) else {}


def _save(config: dict[str, Any]) -> None:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(path.name + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(config, out, indent="\t")
    os.replace(temporary, path)


def _helper(config: dict[str, Any], server: str) -> str | None:
    return (config.get("credHelpers") or {}).get(server) or config.get("credsStore") or None


def _run_helper(helper: str, action: str, data: str) -> str:
    try:
        result = subprocess.run([f"docker-credential-{helper}", action], input=data, capture_output=True, text=True)
    except FileNotFoundError:
        raise CLIError(f'error getting credentials - err: exec: "docker-credential-{helper}": '
                       f"executable file not found in $PATH") from None
    if result.returncode != 0:
        message = result.stdout.strip() or result.stderr.strip()
        if action == "get" and "credentials not found" in message:
            return ""
        raise CLIError(f"error {action} credentials - err: {message}")
    return result.stdout


def lookup(server: str) -> dict[str, str]:
    """The AuthConfig stored for `server` (empty: none)."""
    config = _load()
    helper = _helper(config, server)
    if helper:
        found = _run_helper(helper, "get", server)
        if not found:
            return {}
        secret = json.loads(found)
        if secret.get("Username") == TOKEN_USERNAME:
            return {"identitytoken": secret.get("Secret", ""), "serveraddress": server}
        return {"username": secret.get("Username", ""), "password": secret.get("Secret", ""), "serveraddress": server}
    entry = (config.get("auths") or {}).get(server) or {}
    result = {"serveraddress": server}
    if entry.get("auth"):
        username, _, password = base64.b64decode(entry["auth"]).decode().partition(":")
        result.update(username=username, password=password)
    if entry.get("identitytoken"):
        result["identitytoken"] = entry["identitytoken"]
    return result if len(result) > 1 else {}


def store(server: str, username: str, password: str, identity_token: str) -> Path | None:
    """Keep the credentials; the file they went to in plain text (None: a helper took them)."""
    config = _load()
    helper = _helper(config, server)
    if helper:
        secret = identity_token or password
        _run_helper(helper, "store", json.dumps({"ServerURL": server, "Secret": secret,
                                                 "Username": TOKEN_USERNAME if identity_token else username}))
        config.setdefault("auths", {})[server] = {}
        _save(config)
        return None
    entry: dict[str, str] = {"auth": base64.b64encode(f"{username}:{'' if identity_token else password}".encode()).decode()}
    if identity_token:
        entry["identitytoken"] = identity_token
    config.setdefault("auths", {})[server] = entry
    _save(config)
    return config_path()


def erase(server: str) -> bool:
    """Forget the credentials of `server`; False if there were none."""
    config = _load()
    auths = config.get("auths") or {}
    helper = _helper(config, server)
    if server not in auths and not helper:
        return False
    if helper:
        _run_helper(helper, "erase", server)
    auths.pop(server, None)
    _save(config)
    return True


def registry_config_header() -> dict[str, str]:
    """X-Registry-Config for a build: every registry's credentials (a FROM may name any of them)."""
    config = _load()
    servers = set(config.get("auths") or {}) | set(config.get("credHelpers") or {})
    found = {server: entry for server in sorted(servers) if (entry := lookup(server))}
    return {"X-Registry-Config": base64.urlsafe_b64encode(json.dumps(found).encode()).decode()} if found else {}


def header_for(reference: str) -> dict[str, str]:
    """X-Registry-Auth for an operation on `reference`'s registry."""
    found = lookup(server_of(reference))
    encoded = base64.urlsafe_b64encode(json.dumps(found).encode()).decode() if found else ANONYMOUS
    return {"X-Registry-Auth": encoded}
