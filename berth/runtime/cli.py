"""berth-runtime: a runc-compatible command line over berth.runtime.

berth-runtime [--root DIR] [--log FILE] [--log-format text|json]
              create|start|state|kill|delete|run|exec|list ...
"""
from __future__ import annotations

import argparse
import copy
import datetime
import json
import os
import select
import signal
import socket
import sys
import time
from pathlib import Path

from berth.atomicfile import write_atomic
from berth.errdefs import BerthError
from berth.runtime import cgroups
from berth.runtime.launch import Launched, LaunchError, launch_container, launch_exec
from berth.runtime.ocispec import Process, Spec
from berth.runtime.state import DEFAULT_ROOT, ContainerState, StateError, StateStore, process_start_time

FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1,
                     signal.SIGUSR2, signal.SIGWINCH)


class CommandError(BerthError):
    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def parse_signal(text: str) -> int:
    """"KILL", "SIGKILL", "sigkill" or "9" -> 9."""
    if text.isdigit():
        return int(text)
    name = text.upper()
    try:
        return signal.Signals[name if name.startswith("SIG") else "SIG" + name]
    except KeyError:
        raise CommandError(f"unknown signal {text!r}") from None


def load_spec(bundle: Path) -> Spec:
    try:
        return json.loads((bundle / "config.json").read_text())
    except FileNotFoundError:
        raise CommandError(f"bundle {bundle}: config.json not found") from None
    except json.JSONDecodeError as error:
        raise CommandError(f"bundle {bundle}: config.json: {error}") from None


def send_console(socket_path: str, master: int) -> None:
    """Hand the pty master to whoever listens on --console-socket (SCM_RIGHTS, as runc does)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(socket_path)
        socket.send_fds(sock, [b"/dev/ptmx"], [master])
    os.close(master)


def check_terminal(terminal: bool, console_socket: str | None) -> None:
    if terminal and not console_socket:
        raise CommandError("cannot allocate tty without --console-socket (berth-runtime does not proxy ttys)")
    if console_socket and not terminal:
        raise CommandError("cannot use console socket if runc will not allocate tty")


def write_pid_file(path: str | None, pid: int) -> None:
    if path:
        write_atomic(Path(path).absolute(), str(pid).encode())


def wait_foreground(pid: int) -> int:
    """Forward the usual signals to `pid`, wait for it, and return its exit code (128+N if killed)."""
    def forward(number: int, _frame: object) -> None:
        try:
            os.kill(pid, number)
        except ProcessLookupError:
            pass
    for number in FORWARDED_SIGNALS:
        signal.signal(number, forward)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code


def _launch(store: StateStore, args: argparse.Namespace, fifo: bool) -> tuple[ContainerState, Launched]:
    bundle = Path(args.bundle).absolute()
    spec = load_spec(bundle)
    check_terminal(bool(spec["process"].get("terminal")), args.console_socket)
    store.reserve(args.id)
    try:
        held = store.fifo(args.id) if fifo else None
        if held:
            os.mkfifo(held, 0o600)
        launched = launch_container(bundle, spec, None, held)
        state = ContainerState(args.id, launched.pid, str(bundle),
                               datetime.datetime.now(datetime.UTC).isoformat(),
                               process_start_time(launched.pid) or 0, spec)
        store.save(state)
    except BaseException:
        store.remove(args.id)
        raise
    if launched.pty_master is not None:
        send_console(args.console_socket, launched.pty_master)
    write_pid_file(args.pid_file, launched.pid)
    return state, launched


def cmd_create(store: StateStore, args: argparse.Namespace) -> int:
    _launch(store, args, fifo=True)
    return 0


def cmd_start(store: StateStore, args: argparse.Namespace) -> int:
    state = store.load(args.id)
    status = store.status(state)
    if status != "created":
        raise CommandError(f"cannot start a container that is {status}: {args.id}")
    fifo = store.fifo(args.id)
    fd = os.open(fifo, os.O_RDONLY | os.O_CLOEXEC)
    try:
        released = os.read(fd, 1)
    finally:
        os.close(fd)
        fifo.unlink()
    if not released:
        raise CommandError(f"container {args.id} exited before it could start")
    return 0


def state_json(store: StateStore, state: ContainerState) -> dict:
    status = store.status(state)
    return {"ociVersion": state.spec.get("ociVersion", "1.0.2"), "id": state.id,
            "pid": state.pid if status != "stopped" else 0, "status": status, "bundle": state.bundle,
            "rootfs": state.rootfs, "created": state.created, "owner": "",
            "annotations": state.annotations}


def cmd_state(store: StateStore, args: argparse.Namespace) -> int:
    print(json.dumps(state_json(store, store.load(args.id)), indent=2))
    return 0


def cmd_kill(store: StateStore, args: argparse.Namespace) -> int:
    state = store.load(args.id)
    number = parse_signal(args.signal)
    if store.status(state) == "stopped":
        raise CommandError("container not running")
    pids = [state.pid]
    if args.all and state.cgroups_path:
        pids = cgroups.cgroup_pids(state.cgroups_path)
    for pid in pids:
        try:
            os.kill(pid, number)
        except ProcessLookupError:
            pass
    return 0


def _wait_gone(state: ContainerState, store: StateStore, seconds: float = 10) -> None:
    try:
        pidfd = os.pidfd_open(state.pid)
    except ProcessLookupError:
        return
    try:
        poller = select.poll()
        poller.register(pidfd, select.POLLIN)
        poller.poll(seconds * 1000)
    finally:
        os.close(pidfd)
    deadline = time.monotonic() + seconds
    while store.status(state) != "stopped" and time.monotonic() < deadline:
        time.sleep(0.01)


def destroy(store: StateStore, state: ContainerState) -> None:
    """Kill whatever is left of the container, then remove its cgroup and state."""
    if store.status(state) != "stopped":
        pids = cgroups.cgroup_pids(state.cgroups_path) if state.cgroups_path else []
        for pid in {state.pid, *pids}:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        _wait_gone(state, store)
    if state.cgroups_path:
        cgroups.remove_cgroup(state.cgroups_path)
    store.remove(state.id)


def cmd_delete(store: StateStore, args: argparse.Namespace) -> int:
    try:
        state = store.load(args.id)
    except StateError:
        if args.force:
            return 0
        raise
    status = store.status(state)
    if status == "running" and not args.force:
        raise CommandError(f"cannot delete container {args.id} that is not stopped: {status}")
    destroy(store, state)
    return 0


def cmd_run(store: StateStore, args: argparse.Namespace) -> int:
    state, launched = _launch(store, args, fifo=False)
    if args.detach:
        return 0
    try:
        return wait_foreground(launched.pid)
    finally:
        destroy(store, state)


def exec_process(state: ContainerState, args: argparse.Namespace) -> Process:
    """The process to exec: --process FILE, or the container's process with the flags' changes."""
    if args.process:
        return json.loads(Path(args.process).read_text())
    if not args.command:
        raise CommandError("exec needs a command or --process")
    process = copy.deepcopy(state.spec["process"])
    process["args"], process["terminal"] = args.command, args.tty
    process.pop("consoleSize", None)
    process["env"] = (process.get("env") or []) + args.env
    if args.cwd:
        process["cwd"] = args.cwd
    if args.user:
        uid, _, gid = args.user.partition(":")
        process["user"] = {"uid": int(uid), "gid": int(gid or 0),
                           "additionalGids": [int(g) for g in args.additional_gids]}
    if args.no_new_privs:
        process["noNewPrivileges"] = True
    return process


def cmd_exec(store: StateStore, args: argparse.Namespace) -> int:
    state = store.load(args.id)
    if store.status(state) != "running":
        raise CommandError(f"cannot exec in a container that is {store.status(state)}")
    process = exec_process(state, args)
    check_terminal(bool(process.get("terminal")), args.console_socket)
    launched = launch_exec(state.pid, state.spec, process, None)
    if launched.pty_master is not None:
        send_console(args.console_socket, launched.pty_master)
    write_pid_file(args.pid_file, launched.pid)
    return 0 if args.detach else wait_foreground(launched.pid)


def cmd_list(store: StateStore, args: argparse.Namespace) -> int:
    states = []
    for container_id in store.ids():
        try:
            states.append(state_json(store, store.load(container_id)))
        except (StateError, OSError, ValueError):
            continue
    if args.quiet:
        print("\n".join(s["id"] for s in states) if states else "", end="\n" if states else "")
    elif args.format == "json":
        print(json.dumps(states))
    else:
        rows = [("ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER")]
        rows += [(s["id"], str(s["pid"]), s["status"], s["bundle"], s["created"], s["owner"] or "root")
                 for s in states]
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        for row in rows:
            print("   ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="berth-runtime", description="berth's OCI runtime (runc-compatible)")
    parser.add_argument("--root", default=DEFAULT_ROOT, help="directory for container state")
    parser.add_argument("--log", help="also append errors to this file")
    parser.add_argument("--log-format", choices=("text", "json"), default="text")
    commands = parser.add_subparsers(dest="command_name", required=True)

    def launch_flags(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--bundle", "-b", default=".")
        sub.add_argument("--pid-file")
        sub.add_argument("--console-socket")
        sub.add_argument("id")

    create = commands.add_parser("create", help="create a container, held before its process starts")
    launch_flags(create)
    create.set_defaults(handler=cmd_create)
    run = commands.add_parser("run", help="create and start a container")
    launch_flags(run)
    run.add_argument("--detach", "-d", action="store_true")
    run.set_defaults(handler=cmd_run)
    for name, handler, text in (("start", cmd_start, "start a created container"),
                                ("state", cmd_state, "print a container's state as JSON")):
        sub = commands.add_parser(name, help=text)
        sub.add_argument("id")
        sub.set_defaults(handler=handler)
    kill = commands.add_parser("kill", help="send a signal to a container's init")
    kill.add_argument("--all", "-a", action="store_true", help="signal every process in its cgroup")
    kill.add_argument("id")
    kill.add_argument("signal", nargs="?", default="SIGTERM")
    kill.set_defaults(handler=cmd_kill)
    delete = commands.add_parser("delete", help="remove a stopped container")
    delete.add_argument("--force", "-f", action="store_true")
    delete.add_argument("id")
    delete.set_defaults(handler=cmd_delete)
    execute = commands.add_parser("exec", help="run a process in a running container")
    execute.add_argument("--process", "-p")
    execute.add_argument("--tty", "-t", action="store_true")
    execute.add_argument("--console-socket")
    execute.add_argument("--detach", "-d", action="store_true")
    execute.add_argument("--pid-file")
    execute.add_argument("--cwd")
    execute.add_argument("--env", "-e", action="append", default=[])
    execute.add_argument("--user", "-u")
    execute.add_argument("--additional-gids", "-g", action="append", default=[])
    execute.add_argument("--no-new-privs", action="store_true")
    execute.add_argument("id")
    execute.add_argument("command", nargs=argparse.REMAINDER)
    execute.set_defaults(handler=cmd_exec)
    listing = commands.add_parser("list", help="list containers")
    listing.add_argument("--quiet", "-q", action="store_true")
    listing.add_argument("--format", "-f", choices=("table", "json"), default="table")
    listing.set_defaults(handler=cmd_list)
    return parser


def report(args: argparse.Namespace, message: str) -> None:
    print(f"berth-runtime: {message}", file=sys.stderr)
    if args.log:
        now = datetime.datetime.now(datetime.UTC).isoformat()
        line = json.dumps({"level": "error", "msg": message, "time": now}) if args.log_format == "json" \
            else f"{now} error: {message}"
        with open(args.log, "a") as log:
            log.write(line + "\n")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    store = StateStore(args.root)
    try:
        return args.handler(store, args)
    except CommandError as error:
        report(args, str(error))
        return error.exit_code
    except LaunchError as error:
        report(args, error.message)
        return error.exit_code
    except (StateError, OSError) as error:
        report(args, str(error))
        return 1


if __name__ == "__main__":
    sys.exit(main())
