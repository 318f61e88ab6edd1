"""Start a container's process from an OCI runtime spec, step by step as the kernel sees it.

The caller forks once. A new pid namespace is made (or joined) by the caller for its next child only
(pid_for_children), so the forked process is the container's PID 1 and the caller's own child: it can
os.waitpid() it directly. The child reports a setup failure over a SOCK_SEQPACKET socket that closes
on execve; the pty master, when there is one, travels over the same socket.
"""
from __future__ import annotations

import fcntl
import gc
import json
import os
import signal
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from berth.errdefs import BerthError
from berth.linux import pty
from berth.linux import seccomp as seccomp_library
from berth.linux import syscalls as sc
from berth.linux.seccomp import Filter, Program
from berth.runtime import cgroups, mounts
from berth.runtime.ocispec import Namespace, Process, Spec
from berth.runtime.process import (
    ProcessError,
    enter_cwd,
    env_list_to_dict,
    exec_error,
    find_executable,
    home_of,
    set_rlimits,
    switch_user,
)
from berth.runtime.seccomp import build_filter, precompiled_program
from berth.runtime.sysctl import check_sysctls

NAMESPACE_FLAGS = {
    "pid": sc.CLONE_NEWPID, "network": sc.CLONE_NEWNET, "mount": sc.CLONE_NEWNS, "ipc": sc.CLONE_NEWIPC,
    "uts": sc.CLONE_NEWUTS, "cgroup": sc.CLONE_NEWCGROUP, "time": sc.CLONE_NEWTIME,
}
# /proc/PID/ns file of each namespace an exec joins, the mount namespace last.
EXEC_NAMESPACES = {"ipc": sc.CLONE_NEWIPC, "uts": sc.CLONE_NEWUTS, "net": sc.CLONE_NEWNET,
                   "cgroup": sc.CLONE_NEWCGROUP, "mnt": sc.CLONE_NEWNS}
_READY = b"ready"
_PTY = b"pty"
_MADE = b"made"  # parent -> child: your cgroups exist (a cgroup mount may bind them now)
_GO = b"go"  # parent -> child: you are in your cgroups, go on to exec


class LaunchError(BerthError):
    """The container process could not be started; `message` reads like runc's, `exit_code` like Docker's."""

    def __init__(self, message: str, exit_code: int = 125) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


@dataclass
class Launched:
    pid: int                  # host pid of the container's init (or exec'd) process
    pty_master: int | None    # master side of the process's pty when process.terminal is true


def launch_container(bundle: Path, spec: Spec, stdio: tuple[int, int, int] | None,
                     start_fifo: Path | None = None) -> Launched:
    """Create the container described by `spec` and exec its process.

    With `start_fifo` the process stops just before execve, opening that FIFO for writing: this
    returns once it is waiting there, and the process goes on when someone reads the FIFO.
    """
    linux = spec.get("linux") or {}
    namespaces = linux.get("namespaces") or []
    if not any(ns["type"] == "mount" and not ns.get("path") for ns in namespaces):
        raise LaunchError("a container needs a new mount namespace")
    unknown = [ns["type"] for ns in namespaces if ns["type"] not in NAMESPACE_FLAGS]
    if unknown:
        raise LaunchError(f"unsupported namespace type(s): {', '.join(unknown)}")
    if spec.get("hostname") and not any(ns["type"] == "uts" for ns in namespaces):
        raise LaunchError("unable to set hostname without a private UTS namespace")
    try:
        check_sysctls(linux.get("sysctl") or {}, namespaces)
    except ValueError as error:
        raise LaunchError(str(error)) from None
    rootfs = os.path.realpath(os.path.join(bundle, spec["root"]["path"]))
    if not os.path.isdir(rootfs):
        raise LaunchError(f"rootfs ({rootfs}) does not exist")
    if rootfs == "/":
        raise LaunchError("the container's rootfs cannot be the host's root directory")
    seccomp = _seccomp_source(spec)
    cgroups_path = linux.get("cgroupsPath")

    def make_cgroups() -> list[str]:
        if not cgroups_path:
            return []
        return cgroups.create(cgroups_path, linux.get("resources"), linux.get("devices"))

    pid_ns = next((ns for ns in namespaces if ns["type"] == "pid"), None)
    fifo = str(start_fifo) if start_fifo else None
    try:
        return _spawn(pid_ns, make_cgroups,
                      lambda channel: _container_init(channel, rootfs, spec, stdio, seccomp, fifo))
    except LaunchError:
        if cgroups_path:
            cgroups.remove_cgroup(cgroups_path)
        raise


def launch_exec(init_pid: int, spec: Spec, process: Process, stdio: tuple[int, int, int] | None) -> Launched:
    """Start `process` inside the running container whose init is `init_pid`."""
    try:
        ns_fds = [(os.open(f"/proc/{init_pid}/ns/{name}", os.O_RDONLY | os.O_CLOEXEC), flag)
                  for name, flag in EXEC_NAMESPACES.items() if _differs(init_pid, name)]
    except OSError as error:
        raise LaunchError(f"container process {init_pid} is not running: {error.strerror}") from None
    try:
        here = set(cgroups.procs_files_of(os.getpid()))
        join = [path for path in cgroups.procs_files_of(init_pid) if path not in here]
        seccomp = _seccomp_source(spec)
        pid_ns: Namespace = {"type": "pid", "path": f"/proc/{init_pid}/ns/pid"}
        return _spawn(pid_ns, lambda: join, lambda channel: _exec_init(channel, process, stdio, ns_fds, seccomp))
    except (OSError, ValueError) as error:
        raise LaunchError(f"exec setup: {error}") from None
    finally:
        for fd, _ in ns_fds:
            os.close(fd)


def _seccomp_source(spec: Spec) -> bytes | dict | None:
    """What the child installs: the program compiled for linux.seccomp if the spec names one, else
    linux.seccomp itself, with libseccomp loaded now: the child compiles the filter (while this side
    joins the cgroups), by which time it may no longer see the host's libraries."""
    program = precompiled_program(spec)
    if program is not None:
        return program
    config = (spec.get("linux") or {}).get("seccomp")
    if config:
        try:
            seccomp_library.load()
        except OSError as error:
            raise LaunchError(f"container setup: {error}") from None
    return config


def _differs(pid: int, name: str) -> bool:
    return os.stat(f"/proc/{pid}/ns/{name}").st_ino != os.stat(f"/proc/self/ns/{name}").st_ino


# --- parent side -------------------------------------------------------------------------------

def _target_pid_namespace(entry: Namespace | None) -> int | None:
    """Point pid_for_children at a new or given pid namespace; returns an fd of our own to go back to."""
    if entry is None:
        return None
    own = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
    try:
        if entry.get("path"):
            target = os.open(entry["path"], os.O_RDONLY | os.O_CLOEXEC)
            try:
                sc.setns(target, sc.CLONE_NEWPID)
            finally:
                os.close(target)
        else:
            sc.unshare(sc.CLONE_NEWPID)
    except OSError:
        os.close(own)
        raise
    return own


def _restore_pid_namespace(own: int | None) -> None:
    if own is not None:
        sc.setns(own, sc.CLONE_NEWPID)
        os.close(own)


def _spawn(pid_ns: Namespace | None, cgroups_to_join: Callable[[], list[str]],
           body: Callable[[socket.socket], None]) -> Launched:
    """Fork the process that runs `body`, and make and join its cgroups while it sets itself up.

    Moving a process into a v1 cgroup waits for an RCU grace period (about 5-15 ms here), so the
    parent does it while the child builds its namespaces and mounts; the child execs only after GO.
    """
    parent_end, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        own = _target_pid_namespace(pid_ns)
        try:
            pid = os.fork()
        except OSError:
            _restore_pid_namespace(own)
            raise
    except OSError as error:
        parent_end.close()
        child_end.close()
        raise LaunchError(f"cannot start the container process: {error}") from None
    if pid == 0:  # the child: never returns
        parent_end.close()
        _run_child(child_end, body)
    _restore_pid_namespace(own)
    child_end.close()
    with parent_end:
        try:
            procs_files = cgroups_to_join()
            _tell(parent_end, _MADE)
            cgroups.join(procs_files, pid)
        except (OSError, ValueError) as error:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise LaunchError(f"cannot put the process in its cgroup: {error}") from None
        _tell(parent_end, _GO)
        return Launched(pid, _await_child(pid, parent_end))


def _tell(channel: socket.socket, message: bytes) -> None:
    try:
        channel.send(message)
    except OSError:
        pass  # the child failed already: its report is waiting in the channel


def _await_child(pid: int, channel: socket.socket) -> int | None:
    """Wait for execve (EOF), the start FIFO (ready) or an error; collect the pty master on the way."""
    master = None
    reset = False
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(channel, 65536, 1, socket.MSG_CMSG_CLOEXEC)
        except ConnectionResetError:
            # The child exited without reading our GO: the kernel says so once; the child's own
            # report, if it sent one, is still to be read.
            reset = True
            continue
        if fds:
            master = fds[0]
        if message == _PTY:
            continue
        if not message and reset:  # it died during set-up without a word
            os.waitpid(pid, 0)
            raise LaunchError("the process ended during its set-up without a report", 125)
        if not message or message == _READY:
            return master
        os.waitpid(pid, 0)
        if master is not None:
            os.close(master)
        error = json.loads(message)
        raise LaunchError(error["message"], error["exit_code"])


# --- child side --------------------------------------------------------------------------------

def _run_child(channel: socket.socket, body: Callable[[socket.socket], None]) -> None:
    """Run `body` (which ends in execve); report any failure to the parent, or on stderr if it is gone."""
    try:
        body(channel)
        failure = ProcessError("container process returned without exec")
    except ProcessError as error:
        failure = error
    except OSError as error:
        where = f" {error.filename}" if error.filename else ""
        failure = ProcessError(f"{error.strerror or error}{where}")
    except BaseException as error:  # noqa: BLE001 - the child must never unwind into the caller
        failure = ProcessError(f"{type(error).__name__}: {error}")
    try:
        channel.send(json.dumps({"message": failure.message, "exit_code": failure.exit_code}).encode())
    except OSError:
        os.write(2, f"berth-runtime: {failure.message}\n".encode())
    os._exit(failure.exit_code)


def _seal(channel: socket.socket, stdio: tuple[int, int, int] | None, terminal: bool, keep: Iterable[int]) -> None:
    """The child's first step: shut the container's processes out of this Python process.

    From the fork on, the child is in the container's pid namespace (until this call, the parent's
    full capabilities keep the container's processes out). Made non-dumpable, it lets no process
    without CAP_SYS_PTRACE open its /proc files (exe, mem, fd) or take its descriptors with
    pidfd_getfd, whatever capabilities and user it takes on later (execve makes the process
    dumpable again). And it keeps no descriptor of the parent's (sockets to the daemon, pipes,
    namespaces of the host) but `keep` and the channel: its stdio becomes fds 0-2 now (with a
    terminal, /dev/null until the pty is made; with neither, the caller's own 0-2 stay).
    """
    sc.prctl(sc.PR_SET_DUMPABLE, 0)
    if terminal:
        stdio = (os.open(os.devnull, os.O_RDWR | os.O_CLOEXEC),) * 3
    if stdio is not None:
        _install_stdio(stdio)
    gc.disable()  # Python objects inherited from the parent name closed fds: none may close a reused number
    sc.close_all_but([0, 1, 2, channel.fileno(), *keep])


def _reset_signals() -> None:
    """Give the container default signal dispositions and an empty signal mask."""
    sc.default_all_signals()
    signal.pthread_sigmask(signal.SIG_SETMASK, set())


def _enter_namespaces(namespaces: list[Namespace]) -> None:
    """Join the namespaces given by path, then unshare the new ones (pid is the parent's job)."""
    new = 0
    for namespace in namespaces:
        flag = NAMESPACE_FLAGS[namespace["type"]]
        if flag == sc.CLONE_NEWPID:
            continue
        if namespace.get("path"):
            fd = os.open(namespace["path"], os.O_RDONLY | os.O_CLOEXEC)
            try:
                sc.setns(fd, flag)
            finally:
                os.close(fd)
        else:
            new |= flag
    sc.unshare(new)


def _install_stdio(stdio: tuple[int, int, int]) -> None:
    """Make the three fds 0, 1 and 2 (through copies, so any order or overlap works)."""
    copies = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 3) for fd in stdio]
    for target, fd in enumerate(copies):
        os.dup2(fd, target)
        os.close(fd)


def _open_terminal(process: Process, channel: socket.socket, console: bool) -> None:
    """Open a pty in the container's devpts, make it our controlling tty and stdio, pass the master up."""
    master = pty.open_master("/dev/pts/ptmx")
    slave = pty.open_peer(master)
    if console:
        if not os.path.lexists("/dev/console"):
            os.close(os.open("/dev/console", os.O_CREAT | os.O_WRONLY | os.O_CLOEXEC, 0o600))
        sc.mount(f"/dev/pts/{pty.number(master)}", "/dev/console", None, sc.MS_BIND)
    size = process.get("consoleSize")
    if size:
        pty.set_size(slave, size.get("height", 0), size.get("width", 0))
    pty.make_controlling(slave)
    _install_stdio((slave, slave, slave))
    socket.send_fds(channel, [_PTY], [master])
    os.close(master)
    os.close(slave)


def _apply_kernel_settings(spec: Spec) -> None:
    linux = spec.get("linux") or {}
    if spec.get("hostname"):
        sc.sethostname(spec["hostname"])
    if spec.get("domainname"):
        sc.setdomainname(spec["domainname"])
    for key, value in (linux.get("sysctl") or {}).items():
        with open("/proc/sys/" + key.replace(".", "/"), "w") as file:
            file.write(value)


def _container_init(channel: socket.socket, rootfs: str, spec: Spec, stdio: tuple[int, int, int] | None,
                    seccomp_source: bytes | dict | None, start_fifo: str | None) -> None:
    process = spec["process"]
    linux = spec.get("linux") or {}
    _seal(channel, stdio, bool(process.get("terminal")), ())
    _reset_signals()
    os.setsid()
    seccomp = _compile_seccomp(seccomp_source)
    in_cgroup = _CgroupGate(channel)
    if not linux.get("cgroupsPath") and any(mount.get("type") == "cgroup" for mount in spec.get("mounts") or []):
        in_cgroup.wait()  # /sys/fs/cgroup then shows the cgroups we are in: they must be the final ones
    _enter_namespaces(linux.get("namespaces") or [])
    mounts.prepare_rootfs(rootfs, spec, before_cgroup_mounts=in_cgroup.made)
    fifo_fd = os.open(start_fifo, os.O_PATH | os.O_CLOEXEC) if start_fifo else None
    mounts.pivot_into(rootfs)
    if process.get("terminal"):
        _open_terminal(process, channel, console=True)
    _apply_kernel_settings(spec)
    mounts.finish_rootfs(spec)
    _exec_process(process, channel, in_cgroup, seccomp, fifo_fd)


def _exec_init(channel: socket.socket, process: Process, stdio: tuple[int, int, int] | None,
               ns_fds: list[tuple[int, int]], seccomp_source: bytes | dict | None) -> None:
    _seal(channel, stdio, bool(process.get("terminal")), [fd for fd, _ in ns_fds])
    _reset_signals()
    os.setsid()
    seccomp = _compile_seccomp(seccomp_source)
    for fd, flag in ns_fds:
        sc.setns(fd, flag)
        os.close(fd)
    if process.get("terminal"):
        _open_terminal(process, channel, console=False)
    _exec_process(process, channel, _CgroupGate(channel), seccomp, None)


def _compile_seccomp(source: bytes | dict | None) -> Filter | Program | None:
    if not source:
        return None
    try:
        return Program(source) if isinstance(source, bytes) else build_filter(source)
    except (OSError, ValueError) as error:
        raise ProcessError(f"container setup: {error}") from None


class _CgroupGate:
    """The child's side of MADE and GO: wait until the parent has made our cgroups, then until it
    has put us in them (each message is read once, in that order)."""

    def __init__(self, channel: socket.socket) -> None:
        self.channel = channel
        self.heard: list[bytes] = []

    def made(self) -> None:
        self._until(_MADE)

    def wait(self) -> None:
        self._until(_GO)

    def _until(self, stage: bytes) -> None:
        while stage not in self.heard:
            message = self.channel.recv(16)
            if message not in (_MADE, _GO):
                raise ProcessError("the runtime went away before the process was in its cgroup")
            self.heard.append(message)


def _exec_process(process: Process, channel: socket.socket, in_cgroup: _CgroupGate,
                  seccomp: Filter | Program | None, fifo_fd: int | None) -> None:
    """Limits, cwd, user and capabilities, then the executable; waits on the start FIFO if given."""
    if "oomScoreAdj" in process:
        with open("/proc/self/oom_score_adj", "w") as file:
            file.write(str(process["oomScoreAdj"]))
    set_rlimits(process.get("rlimits") or [])
    enter_cwd(process.get("cwd") or "/")
    # Loading a filter needs CAP_SYS_ADMIN unless no_new_privs is set: then it waits until just
    # before execve, so that as few calls as possible pass through it.
    late_seccomp = seccomp if process.get("noNewPrivileges") else None
    if seccomp is not None and late_seccomp is None:
        seccomp.load()
    switch_user(process)
    env = env_list_to_dict(process.get("env") or [])
    env.setdefault("HOME", home_of((process.get("user") or {}).get("uid", 0)))
    args = process.get("args") or []
    if not args:
        raise ProcessError("args must not be empty")
    path = find_executable(args[0], env)
    if process.get("noNewPrivileges"):
        sc.prctl(sc.PR_SET_NO_NEW_PRIVS, 1)
    sc.close_range(3, flags=sc.CLOSE_RANGE_CLOEXEC)
    in_cgroup.wait()
    if fifo_fd is not None:
        channel.send(_READY)
        fifo = os.open(f"/proc/self/fd/{fifo_fd}", os.O_WRONLY | os.O_CLOEXEC)
        os.write(fifo, b"0")
        os.close(fifo)
    if late_seccomp is not None:
        late_seccomp.load()
    try:
        os.execve(path, args, env)
    except OSError as error:
        raise exec_error(args[0], error) from None
