"""The last steps before execve: limits, user, capabilities, working directory, the executable."""
from __future__ import annotations

import os
import resource
import stat

from berth.errdefs import BerthError
from berth.linux import capabilities as caps
from berth.linux import syscalls as sc
from berth.runtime.ocispec import Process, Rlimit

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class ProcessError(BerthError):
    """A setup step failed in a way the user must see, with the exit code Docker gives it."""

    def __init__(self, message: str, exit_code: int = 125) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


def set_rlimits(rlimits: list[Rlimit]) -> None:
    for limit in rlimits:
        name = limit["type"]
        number = getattr(resource, name, None)
        if not name.startswith("RLIMIT_") or number is None:
            raise ProcessError(f"unknown rlimit {name!r}")
        resource.setrlimit(number, (limit["soft"], limit["hard"]))


def env_list_to_dict(env: list[str]) -> dict[str, str]:
    """KEY=VALUE entries as a mapping; a bare KEY (docker's `-e KEY` with KEY unset in the client)
    sets nothing, as runc passes it: shells see no such variable."""
    out = {}
    for item in env:
        key, equals, value = item.partition("=")
        if equals:
            out[key] = value
    return out


def home_of(uid: int, passwd: str = "/etc/passwd") -> str:
    """The home directory of `uid` in the container's passwd file ("/" when it has none)."""
    try:
        with open(passwd) as file:
            for line in file:
                fields = line.rstrip("\n").split(":")
                if len(fields) >= 6 and fields[2] == str(uid):
                    return fields[5] or "/"
    except OSError:
        pass
    return "/"


def _cap_set(names: list[str] | None) -> set[int]:
    return {caps.number(name) for name in names or []}


def switch_user(process: Process) -> None:
    """Drop the bounding set, become process.user, then set the remaining capability sets."""
    user = process.get("user") or {}
    uid, gid = user.get("uid", 0), user.get("gid", 0)
    wanted = process.get("capabilities")
    if wanted is not None:
        caps.drop_bounding(_cap_set(wanted.get("bounding")))
    sc.prctl(sc.PR_SET_KEEPCAPS, 1)
    os.setgroups(user.get("additionalGids") or [])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    sc.prctl(sc.PR_SET_KEEPCAPS, 0)
    if wanted is not None:
        caps.capset(_cap_set(wanted.get("effective")), _cap_set(wanted.get("permitted")),
                    _cap_set(wanted.get("inheritable")))
        caps.set_ambient(_cap_set(wanted.get("ambient")))  # like runc, skip what cannot be raised
    if "umask" in user:
        os.umask(user["umask"])


def enter_cwd(cwd: str) -> None:
    """chdir to the working directory, creating it first when missing (as Docker does)."""
    if not cwd.startswith("/"):
        raise ProcessError("Cwd must be an absolute path")
    try:
        os.makedirs(cwd, mode=0o755, exist_ok=True)
        os.chdir(cwd)
    except OSError as error:
        raise ProcessError(f"chdir to cwd ({cwd!r}) set in config.json failed: {(error.strerror or str(error)).lower()}") from None


def _check_executable(path: str, name: str) -> None:
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise ProcessError(f'exec: "{name}": stat {path}: no such file or directory', 127) from None
    except OSError as error:
        raise ProcessError(f'exec: "{name}": stat {path}: {(error.strerror or str(error)).lower()}', 126) from None
    if stat.S_ISDIR(mode) or not mode & 0o111 or not os.access(path, os.X_OK):  # execve's EACCES
        raise ProcessError(f'exec: "{name}": permission denied', 126)


def find_executable(name: str, env: dict[str, str]) -> str:
    """Resolve args[0] as Go's exec.LookPath does, on the container's PATH."""
    if "/" in name:
        _check_executable(name, name)
        return name
    for directory in env.get("PATH", DEFAULT_PATH).split(":"):
        candidate = os.path.join(directory or ".", name)
        try:
            _check_executable(candidate, name)
            return candidate
        except ProcessError:
            continue
    raise ProcessError(f'exec: "{name}": executable file not found in $PATH', 127)


def exec_error(name: str, error: OSError) -> ProcessError:
    """The message and code for an execve that failed after the lookup succeeded."""
    code = 127 if error.errno == 2 else 126
    return ProcessError(f'exec: "{name}": {(error.strerror or str(error)).lower()}', code)
