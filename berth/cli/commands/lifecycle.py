"""start, stop, restart, kill, rm: declared as berth.cli.options.Command, so that their common command
lines run without click (start-up time; see berth.cli.options)."""
from __future__ import annotations

import sys

from berth.cli.errors import CLIError, DaemonError, ExitStatus
from berth.cli.options import Command

TYPE_CHECKING = False  # what typing.TYPE_CHECKING is, without importing typing (start-up time)
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any

    from berth.cli.client import Client
    from berth.cli.options import ArgumentSpec, Spec
    from berth.cli.session import Session

_CONTAINERS: list[ArgumentSpec] = [("containers", {"nargs": -1, "required": True, "metavar": "CONTAINER [CONTAINER...]"})]


def for_each(names: Iterable[str], action: Callable[[str], Any], echo: bool = True) -> list[str]:
    """Run action per container, printing each name that worked; returns the errors' messages."""
    errors: list[str] = []
    for name in names:
        try:
            action(name)
        except CLIError as err:
            errors.append(err.message)
            continue
        if echo:
            print(name, flush=True)  # before any error message on stderr, as docker shows them
    return errors


def fail_if(errors: list[str]) -> None:
    if errors:
        raise CLIError("\n".join(errors))


def _start(session: Session, attach: bool, interactive: bool, detach_keys: str | None,
           containers: tuple[str, ...]) -> None:
    """Start one or more stopped containers."""
    client = session.client
    if attach or interactive:
        if len(containers) > 1:
            raise CLIError("you cannot start and attach multiple containers at once")
        _start_attached(client, containers[0], interactive, detach_keys)
        return
    failed: list[str] = []

    def start_one(name: str) -> None:
        try:
            client.post(f"/containers/{name}/start")
        except CLIError as err:
            print(err.message, file=sys.stderr)
            failed.append(name)
            raise
    for_each(containers, start_one)
    if failed:
        raise CLIError(f"Error: failed to start containers: {', '.join(failed)}")


def _start_attached(client: Client, name: str, interactive: bool, detach_keys: str | None) -> None:
    from berth.cli import attaching
    from berth.cli.streams import DEFAULT_DETACH_KEYS, parse_detach_keys

    info = client.get(f"/containers/{name}/json")
    config = info.get("Config") or {}
    container_id = info["Id"]
    tty = bool(config.get("Tty"))
    stdin = interactive and bool(config.get("OpenStdin"))
    keys = parse_detach_keys(detach_keys or DEFAULT_DETACH_KEYS)
    conn = attaching.attach(client, container_id, stdin=stdin, detach_keys=detach_keys)
    wait_response = client.clone().request("POST", f"/containers/{container_id}/wait", {"condition": "next-exit"})
    try:
        client.post(f"/containers/{container_id}/start")
    except DaemonError as err:
        conn.close()
        raise CLIError(err.message, attaching.start_error_exit_code(err.daemon_message)) from None
    with attaching.ProxySignals(client, container_id, enabled=not tty):
        detached = attaching.stream_attached(client, conn, tty=tty, stdin=stdin, detach_keys=keys,
                                             resize_path=f"/containers/{container_id}/resize")
    if not detached:
        raise ExitStatus(int((wait_response.first_json() or {}).get("StatusCode", 0)))


start = Command("start", _start, [
    (("-a", "--attach"), {"is_flag": True, "help": "Attach STDOUT/STDERR and forward signals"}),
    (("-i", "--interactive"), {"is_flag": True, "help": "Attach container's STDIN"}),
    (("--detach-keys",), {"metavar": "string", "help": "Override the key sequence for detaching a container"}),
], _CONTAINERS, short_help="Start one or more stopped containers")


def _post_each(session: Session, action: str, containers: tuple[str, ...], params: dict[str, Any]) -> None:
    client = session.client
    fail_if(for_each(containers, lambda name: client.post(f"/containers/{name}/{action}", params)))


def _stop(session: Session, signal_: str | None, timeout: int | None, containers: tuple[str, ...]) -> None:
    """Stop one or more running containers."""
    _post_each(session, "stop", containers, {"t": timeout, "signal": signal_})


def _restart(session: Session, signal_: str | None, timeout: int | None, containers: tuple[str, ...]) -> None:
    """Restart one or more containers."""
    _post_each(session, "restart", containers, {"t": timeout, "signal": signal_})


def _kill(session: Session, signal_: str | None, containers: tuple[str, ...]) -> None:
    """Kill one or more running containers."""
    _post_each(session, "kill", containers, {"signal": signal_})


_SIGNAL: Spec = (("-s", "--signal", "signal_"), {"metavar": "string", "help": "Signal to send to the container"})
_TIME: Spec = (("-t", "--timeout", "--time", "timeout"),  # --time: docker's old name, still accepted
               {"type": int, "help": "Seconds to wait before killing the container"})

stop = Command("stop", _stop, [_SIGNAL, _TIME], _CONTAINERS, short_help="Stop one or more running containers")
restart = Command("restart", _restart, [_SIGNAL, _TIME], _CONTAINERS, short_help="Restart one or more containers")
kill = Command("kill", _kill, [_SIGNAL], _CONTAINERS, short_help="Kill one or more running containers")


def _rm(session: Session, force: bool, link: bool, volumes: bool, containers: tuple[str, ...]) -> None:
    """Remove one or more containers."""
    client = session.client
    params = {"force": force or None, "v": volumes or None, "link": link or None}
    fail_if(for_each(containers, lambda name: client.delete(f"/containers/{name}", params)))


rm = Command("rm", _rm, [
    (("-f", "--force"), {"is_flag": True, "help": "Force the removal of a running container (uses SIGKILL)"}),
    (("-l", "--link"), {"is_flag": True, "help": "Remove the specified link"}),
    (("-v", "--volumes"), {"is_flag": True, "help": "Remove anonymous volumes associated with the container"}),
], _CONTAINERS, short_help="Remove one or more containers")
