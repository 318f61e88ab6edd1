"""Commands that carry a container's I/O: attach, logs, exec."""
from __future__ import annotations

from berth.cli.errors import CLIError, DaemonError, ExitStatus
from berth.cli.options import Command

TYPE_CHECKING = False  # what typing.TYPE_CHECKING is, without importing typing (start-up time)
if TYPE_CHECKING:
    from typing import Any

    from berth.cli.session import Session


def _attach(session: Session, detach_keys: str | None, no_stdin: bool, sig_proxy: bool, container: str) -> None:
    """Attach local standard input, output, and error streams to a running container."""
    from berth.cli import attaching
    from berth.cli.streams import DEFAULT_DETACH_KEYS, parse_detach_keys

    client = session.client
    info = client.get(f"/containers/{container}/json")
    state = info.get("State") or {}
    if not state.get("Running"):
        raise CLIError("You cannot attach to a stopped container, start it first")
    if state.get("Paused"):
        raise CLIError("You cannot attach to a paused container, unpause it first")
    if state.get("Restarting"):
        raise CLIError("You cannot attach to a restarting container, wait until it is running")
    config = info.get("Config") or {}
    tty = bool(config.get("Tty"))
    stdin = bool(config.get("OpenStdin")) and not no_stdin
    keys = parse_detach_keys(detach_keys or DEFAULT_DETACH_KEYS)
    container_id = info["Id"]
    conn = attaching.attach(client, container_id, stdin=stdin, detach_keys=detach_keys)
    with attaching.ProxySignals(client, container_id, enabled=sig_proxy and not tty):
        detached = attaching.stream_attached(client, conn, tty=tty, stdin=stdin, detach_keys=keys,
                                             resize_path=f"/containers/{container_id}/resize")
    if detached:
        raise CLIError("read escape sequence")  # docker reports a detach from `attach` this way
    result = client.post(f"/containers/{container_id}/wait") or {}
    raise ExitStatus(int(result.get("StatusCode", 0)))


attach = Command("attach", _attach, [
    (("--detach-keys",), {"metavar": "string", "help": "Override the key sequence for detaching a container"}),
    (("--no-stdin",), {"is_flag": True, "help": "Do not attach STDIN"}),
    (("--sig-proxy/--no-sig-proxy",), {"default": True, "help": "Proxy all received signals to the process"}),
], [("container", {})], short_help="Attach local standard input, output, and error streams to a running container")


def _logs(session: Session, details: bool, follow: bool, since: str | None, tail: str, timestamps: bool,
          until: str | None, container: str) -> None:
    """Fetch the logs of a container."""
    from berth.cli.streams import copy_output

    params: dict[str, Any] = {
        "stdout": True, "stderr": True, "follow": follow or None, "timestamps": timestamps or None,
        "details": details or None, "tail": tail,
        "since": _api_time(since, "since"), "until": _api_time(until, "until"),
    }
    client = session.client
    info = client.get(f"/containers/{container}/json")
    response = client.request("GET", f"/containers/{info['Id']}/logs", params)
    copy_output(response.iter_bytes(), tty=bool((info.get("Config") or {}).get("Tty")))


def _api_time(value: str | None, flag: str) -> str | None:
    """A --since/--until value in the API's form (imported only then: berth.cli.units imports re)."""
    if not value:
        return None
    from berth.cli.units import api_timestamp

    try:
        return api_timestamp(value)
    except ValueError as err:
        raise CLIError(f'invalid value for "{flag}": {err}') from None


logs = Command("logs", _logs, [
    (("--details",), {"is_flag": True, "help": "Show extra details provided to logs"}),
    (("-f", "--follow"), {"is_flag": True, "help": "Follow log output"}),
    (("--since",), {"metavar": "string", "help": "Show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or "
                                                 "relative (e.g. 42m for 42 minutes)"}),
    (("-n", "--tail"), {"default": "all", "metavar": "string",
                        "help": 'Number of lines to show from the end of the logs (default "all")'}),
    (("-t", "--timestamps"), {"is_flag": True, "help": "Show timestamps"}),
    (("--until",), {"metavar": "string", "help": "Show logs before a timestamp (e.g. 2013-01-02T13:23:37Z) or "
                                                 "relative (e.g. 42m for 42 minutes)"}),
], [("container", {})], short_help="Fetch the logs of a container")


def _exec(session: Session, detach: bool, detach_keys: str | None, env: tuple[str, ...], env_file: tuple[str, ...],
          interactive: bool, privileged: bool, tty: bool, user: str | None, workdir: str | None, container: str,
          command: tuple[str, ...]) -> None:
    """Execute a command in a running container."""
    from berth.cli import attaching
    from berth.cli.runconfig import parse_env
    from berth.cli.streams import DEFAULT_DETACH_KEYS, parse_detach_keys, stdin_is_tty

    if tty and interactive and not detach and not stdin_is_tty():
        raise CLIError("the input device is not a TTY")
    keys = parse_detach_keys(detach_keys or DEFAULT_DETACH_KEYS)
    client = session.client
    body = {
        "User": user or "", "Privileged": privileged, "Tty": tty, "AttachStdin": interactive and not detach,
        "AttachStdout": not detach, "AttachStderr": not detach, "DetachKeys": detach_keys or "",
        "Env": parse_env(env, env_file), "WorkingDir": workdir or "", "Cmd": list(command),
    }
    exec_id = client.post(f"/containers/{container}/exec", json_body=body)["Id"]
    if detach:
        client.post(f"/exec/{exec_id}/start", json_body={"Detach": True, "Tty": tty})
        return
    try:
        conn = client.clone().hijack(f"/exec/{exec_id}/start", json_body={"Detach": False, "Tty": tty})
    except DaemonError as err:
        raise CLIError(err.message, attaching.start_error_exit_code(err.daemon_message)) from None
    detached = attaching.stream_attached(client, conn, tty=tty, stdin=interactive, detach_keys=keys,
                                         resize_path=f"/exec/{exec_id}/resize")
    if detached:
        return
    result = client.get(f"/exec/{exec_id}/json") or {}
    raise ExitStatus(int(result.get("ExitCode") or 0))


exec_ = Command("exec", _exec, [
    (("-d", "--detach"), {"is_flag": True, "help": "Detached mode: run command in the background"}),
    (("--detach-keys",), {"metavar": "string", "help": "Override the key sequence for detaching a container"}),
    (("-e", "--env"), {"multiple": True, "metavar": "list", "help": "Set environment variables"}),
    (("--env-file",), {"multiple": True, "metavar": "list", "help": "Read in a file of environment variables"}),
    (("-i", "--interactive"), {"is_flag": True, "help": "Keep STDIN open even if not attached"}),
    (("--privileged",), {"is_flag": True, "help": "Give extended privileges to the command"}),
    (("-t", "--tty"), {"is_flag": True, "help": "Allocate a pseudo-TTY"}),
    (("-u", "--user"), {"metavar": "string", "help": 'Username or UID (format: "<name|uid>[:<group|gid>]")'}),
    (("-w", "--workdir"), {"metavar": "string", "help": "Working directory inside the container"}),
], [("container", {}), ("command", {"nargs": -1, "required": True, "metavar": "COMMAND [ARG...]"})],
    short_help="Execute a command in a running container", interspersed=False)
