"""`berth run` and `berth create`."""
from __future__ import annotations

import sys

from berth.cli.errors import CLIError, DaemonError, ExitStatus, FlagError
from berth.cli.options import Command
from berth.cli.references import split_reference, with_default_tag

TYPE_CHECKING = False  # what typing.TYPE_CHECKING is, without importing typing (start-up time)
if TYPE_CHECKING:
    from typing import Any

    from berth.cli.options import ArgumentSpec, Spec
    from berth.cli.session import Session

_MULTI = {"multiple": True}

# (flags, keyword arguments) shared by run and create, in docker's --help order.
CONTAINER_OPTIONS: list[Spec] = [
    (("--add-host",), {**_MULTI, "metavar": "list", "help": "Add a custom host-to-IP mapping (host:ip)"}),
    (("-a", "--attach"), {**_MULTI, "choices": ["stdin", "stdout", "stderr"], "case_sensitive": False,
                          "help": "Attach to STDIN, STDOUT or STDERR"}),
    (("--blkio-weight",), {"type": int, "help": "Block IO (relative weight), between 10 and 1000, or 0 to disable"}),
    (("--blkio-weight-device",), {**_MULTI, "metavar": "list", "help": "Block IO weight (relative device weight)"}),
    (("--cap-add",), {**_MULTI, "metavar": "list", "help": "Add Linux capabilities"}),
    (("--cap-drop",), {**_MULTI, "metavar": "list", "help": "Drop Linux capabilities"}),
    (("--cgroup-parent",), {"metavar": "string", "help": "Optional parent cgroup for the container"}),
    (("--cpu-period",), {"type": int, "help": "Limit CPU CFS (Completely Fair Scheduler) period"}),
    (("--cpu-quota",), {"type": int, "help": "Limit CPU CFS (Completely Fair Scheduler) quota"}),
    (("--cpu-shares", "-c"), {"type": int, "help": "CPU shares (relative weight)"}),
    (("--cpus",), {"metavar": "decimal", "help": "Number of CPUs"}),
    (("--cpuset-cpus",), {"metavar": "string", "help": "CPUs in which to allow execution (0-3, 0,1)"}),
    (("--cpuset-mems",), {"metavar": "string", "help": "MEMs in which to allow execution (0-3, 0,1)"}),
    (("--detach-keys",), {"metavar": "string", "help": "Override the key sequence for detaching a container"}),
    (("--device",), {**_MULTI, "metavar": "list", "help": "Add a host device to the container"}),
    (("--device-cgroup-rule",), {**_MULTI, "metavar": "list",
                                 "help": "Add a rule to the cgroup allowed devices list"}),
    (("--device-read-bps",), {**_MULTI, "metavar": "list", "help": "Limit read rate (bytes per second) from a device"}),
    (("--device-read-iops",), {**_MULTI, "metavar": "list", "help": "Limit read rate (IO per second) from a device"}),
    (("--device-write-bps",), {**_MULTI, "metavar": "list", "help": "Limit write rate (bytes per second) to a device"}),
    (("--device-write-iops",), {**_MULTI, "metavar": "list", "help": "Limit write rate (IO per second) to a device"}),
    (("--dns",), {**_MULTI, "metavar": "list", "help": "Set custom DNS servers"}),
    (("--dns-option",), {**_MULTI, "metavar": "list", "help": "Set DNS options"}),
    (("--dns-search",), {**_MULTI, "metavar": "list", "help": "Set custom DNS search domains"}),
    (("--domainname",), {"metavar": "string", "help": "Container NIS domain name"}),
    (("-e", "--env"), {**_MULTI, "metavar": "list", "help": "Set environment variables"}),
    (("--env-file",), {**_MULTI, "metavar": "list", "help": "Read in a file of environment variables"}),
    (("--entrypoint",), {"metavar": "string", "help": "Overwrite the default ENTRYPOINT of the image"}),
    (("--expose",), {**_MULTI, "metavar": "list", "help": "Expose a port or a range of ports"}),
    (("--group-add",), {**_MULTI, "metavar": "list", "help": "Add additional groups to join"}),
    (("--health-cmd",), {"metavar": "string", "help": "Command to run to check health"}),
    (("--health-interval",), {"metavar": "duration", "help": "Time between running the check (ms|s|m|h) (default 0s)"}),
    (("--health-retries",), {"type": int, "help": "Consecutive failures needed to report unhealthy"}),
    (("--health-start-period",), {"metavar": "duration",
                                  "help": "Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)"}),
    (("--health-timeout",), {"metavar": "duration", "help": "Maximum time to allow one check to run (ms|s|m|h) (default 0s)"}),
    (("-h", "--hostname"), {"metavar": "string", "help": "Container host name"}),
    (("--init",), {"is_flag": True, "help": "Run an init inside the container that forwards signals and reaps processes"}),
    (("--runtime",), {"help": "Runtime to use for this container"}),
    (("-i", "--interactive"), {"is_flag": True, "help": "Keep STDIN open even if not attached"}),
    (("--ip",), {"metavar": "string", "help": "IPv4 address (e.g., 172.30.100.104)"}),
    (("--ip6",), {"metavar": "string", "help": "IPv6 address (e.g., 2001:db8::33)"}),
    (("--ipc",), {"metavar": "string", "help": "IPC mode to use"}),
    (("-l", "--label"), {**_MULTI, "metavar": "list", "help": "Set meta data on a container"}),
    (("--label-file",), {**_MULTI, "metavar": "list", "help": "Read in a line delimited file of labels"}),
    (("--link",), {**_MULTI, "metavar": "list", "help": "Add link to another container"}),
    (("--log-driver",), {"metavar": "string", "help": "Logging driver for the container"}),
    (("--log-opt",), {**_MULTI, "metavar": "list", "help": "Log driver options"}),
    (("--mac-address",), {"metavar": "string", "help": "Container MAC address (e.g., 92:d0:c6:0a:29:33)"}),
    (("-m", "--memory"), {"metavar": "bytes", "help": "Memory limit"}),
    (("--memory-reservation",), {"metavar": "bytes", "help": "Memory soft limit"}),
    (("--memory-swap",), {"metavar": "bytes",
                          "help": "Swap limit equal to memory plus swap: '-1' to enable unlimited swap"}),
    (("--memory-swappiness",), {"type": int, "default": -1,
                                "help": "Tune container memory swappiness (0 to 100)"}),
    (("--name",), {"metavar": "string", "help": "Assign a name to the container"}),
    (("--network", "--net"), {"metavar": "network", "help": "Connect a container to a network"}),
    (("--network-alias",), {**_MULTI, "metavar": "list", "help": "Add network-scoped alias for the container"}),
    (("--no-healthcheck",), {"is_flag": True, "help": "Disable any container-specified HEALTHCHECK"}),
    (("--oom-kill-disable",), {"is_flag": True, "help": "Disable OOM Killer"}),
    (("--oom-score-adj",), {"type": int, "help": "Tune host's OOM preferences (-1000 to 1000)"}),
    (("--pid",), {"metavar": "string", "help": "PID namespace to use"}),
    (("--pids-limit",), {"type": int, "help": "Tune container pids limit (set -1 for unlimited)"}),
    (("--platform",), {"metavar": "string", "help": "Set platform if server is multi-platform capable"}),
    (("--privileged",), {"is_flag": True, "help": "Give extended privileges to this container"}),
    (("-P", "--publish-all"), {"is_flag": True, "help": "Publish all exposed ports to random ports"}),
    (("-p", "--publish"), {**_MULTI, "metavar": "list", "help": "Publish a container's port(s) to the host"}),
    (("--pull",), {"choices": ["always", "missing", "never"], "default": "missing",
                   "help": "Pull image before running"}),
    (("--read-only",), {"is_flag": True, "help": "Mount the container's root filesystem as read only"}),
    (("--restart",), {"metavar": "string", "default": "no", "help": "Restart policy to apply when a container exits"}),
    (("--rm",), {"is_flag": True, "help": "Automatically remove the container when it exits"}),
    (("--security-opt",), {**_MULTI, "metavar": "list", "help": "Security Options"}),
    (("--shm-size",), {"metavar": "bytes", "help": "Size of /dev/shm"}),
    (("--stop-signal",), {"metavar": "string", "help": "Signal to stop the container"}),
    (("--stop-timeout",), {"type": int, "help": "Timeout (in seconds) to stop a container"}),
    (("--sysctl",), {**_MULTI, "metavar": "map", "help": "Sysctl options"}),
    (("-t", "--tty"), {"is_flag": True, "help": "Allocate a pseudo-TTY"}),
    (("--tmpfs",), {**_MULTI, "metavar": "list", "help": "Mount a tmpfs directory"}),
    (("--mount",), {**_MULTI, "metavar": "mount", "help": "Attach a filesystem mount to the container"}),
    (("--ulimit",), {**_MULTI, "metavar": "ulimit", "help": "Ulimit options"}),
    (("-u", "--user"), {"metavar": "string", "help": "Username or UID (format: <name|uid>[:<group|gid>])"}),
    (("--uts",), {"metavar": "string", "help": "UTS namespace to use"}),
    (("-v", "--volume"), {**_MULTI, "metavar": "list", "help": "Bind mount a volume"}),
    (("--volumes-from",), {**_MULTI, "metavar": "list", "help": "Mount volumes from the specified container(s)"}),
    (("-w", "--workdir"), {"metavar": "string", "help": "Working directory inside the container"}),
]

RUN_ONLY_OPTIONS: list[Spec] = [
    (("-d", "--detach"), {"is_flag": True, "help": "Run container in background and print container ID"}),
    (("--sig-proxy/--no-sig-proxy",), {"default": True, "help": "Proxy received signals to the process"}),
]

ARGUMENTS: list[ArgumentSpec] = [("image", {}), ("command", {"nargs": -1, "metavar": "[COMMAND] [ARG...]"})]


def pull_image(client: Any, image: str, out: Any) -> None:
    """POST /images/create?fromImage=&tag= with the progress shown on `out`."""
    from berth.cli import credentials
    from berth.cli.progress import display_messages

    reference = with_default_tag(image)
    name, tag, digest = split_reference(reference)
    params = {"fromImage": reference} if digest else {"fromImage": reference.rpartition(":")[0], "tag": tag}
    response = client.request("POST", "/images/create", params, headers=credentials.header_for(image))
    display_messages(response.iter_json(), out=out)


def create_container(client: Any, image: str, name: str | None, body: dict[str, Any], pull: str,
                     platform: str | None) -> str:
    """Create the container, pulling the image first when it is missing (docker's `--pull`)."""
    if pull == "always":
        pull_image(client, image, sys.stderr)
    params = {"name": name, "platform": platform}
    try:
        result = client.post("/containers/create", params, body)
    except DaemonError as err:
        if err.status != 404 or pull == "never" or "image" not in err.daemon_message.lower():
            raise
        print(f"Unable to find image '{with_default_tag(image)}' locally", file=sys.stderr)
        pull_image(client, image, sys.stderr)
        result = client.post("/containers/create", params, body)
    for warning in result.get("Warnings") or []:
        print(f"WARNING: {warning}", file=sys.stderr)
    return result["Id"]


def _prepare(image: str, command: tuple[str, ...], opts: dict[str, Any]) -> dict[str, Any]:
    from berth.cli.runconfig import build_create_body

    return build_create_body(image, command, opts)


def _run_error(err: CLIError, command: Command, exit_code: int = 125) -> CLIError:
    """docker's form for run/create failures: `docker: <error>` and a pointer to --help; a refused
    flag value as docker's flag parser shows it, with the usage line."""
    hint = f"Run 'berth {command.name} --help' for more information"
    if isinstance(err, FlagError):
        return CLIError(f"{err.message}\n\n{command.usage()}\n\n{hint}", err.exit_code)
    return CLIError(f"berth: {err.message}\n\n{hint}", exit_code)


def _create(session: Session, image: str, command: tuple[str, ...], **opts: Any) -> None:
    """Create a new container."""
    client = session.client
    try:
        body = _prepare(image, command, opts)
        container_id = create_container(client, image, opts["name"], body, opts["pull"], opts["platform"])
    except DaemonError as err:
        raise CLIError(err.message, 1) from None
    except CLIError as err:
        raise _run_error(err, create) from None
    print(container_id)


def _run(session: Session, image: str, command: tuple[str, ...], **opts: Any) -> None:
    """Create and run a new container from an image."""
    from berth.cli.streams import DEFAULT_DETACH_KEYS, parse_detach_keys, stdin_is_tty

    client = session.client
    detach = opts["detach"]
    if opts["tty"] and opts["interactive"] and not detach and not stdin_is_tty():
        raise CLIError("the input device is not a TTY")
    try:
        detach_keys = parse_detach_keys(opts["detach_keys"] or DEFAULT_DETACH_KEYS)
        body = _prepare(image, command, opts)
        container_id = create_container(client, image, opts["name"], body, opts["pull"], opts["platform"])
    except CLIError as err:
        raise _run_error(err, run) from None
    if detach:
        _start(client, container_id)
        print(container_id)
        return
    _run_attached(client, container_id, body, opts, detach_keys)


create = Command("create", _create, CONTAINER_OPTIONS, ARGUMENTS, short_help="Create a new container",
                 interspersed=False)
run = Command("run", _run, CONTAINER_OPTIONS + RUN_ONLY_OPTIONS, ARGUMENTS,
              short_help="Create and run a new container from an image", interspersed=False)


def _start(client: Any, container_id: str) -> None:
    from berth.cli.attaching import start_error_exit_code

    try:
        client.post(f"/containers/{container_id}/start")
    except DaemonError as err:
        raise _run_error(err, run, start_error_exit_code(err.daemon_message)) from None


def _run_attached(client: Any, container_id: str, body: dict[str, Any], opts: dict[str, Any],
                  detach_keys: bytes) -> None:
    """Attach, register the wait, start, copy I/O, and leave with the container's exit code."""
    from berth.cli.attaching import ProxySignals, attach, stream_attached

    tty = body["Tty"]
    stdin = body["AttachStdin"]
    conn = attach(client, container_id, stdin=stdin, stdout=body["AttachStdout"], stderr=body["AttachStderr"],
                  detach_keys=opts["detach_keys"])
    waiter = client.clone()
    condition = "removed" if opts["rm"] else "next-exit"
    wait_response = waiter.request("POST", f"/containers/{container_id}/wait", {"condition": condition})
    try:
        _start(client, container_id)
    except CLIError:
        conn.close()
        raise
    with ProxySignals(client, container_id, enabled=opts["sig_proxy"] and not tty):
        detached = stream_attached(client, conn, tty=tty, stdin=stdin, detach_keys=detach_keys,
                                   resize_path=f"/containers/{container_id}/resize")
    if detached:
        return
    result = wait_response.first_json() or {}
    error = (result.get("Error") or {}).get("Message")
    if error:
        raise CLIError(f"Error waiting for container: {error}", 125)
    raise ExitStatus(int(result.get("StatusCode", 0)))
