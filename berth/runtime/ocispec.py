"""The OCI runtime spec (config.json, runtime-spec 1.x) as berth writes and reads it: its shapes as
TypedDicts, so the daemon that builds a spec and the runtime that runs one agree on its fields.
Only the fields berth uses are here; a spec may carry others, which berth's runtime ignores.
"""
# No `from __future__ import annotations`: TypedDict needs NotRequired at class creation.
from typing import Any, NotRequired, TypedDict


class User(TypedDict):
    uid: int
    gid: int
    additionalGids: NotRequired[list[int]]
    umask: NotRequired[int]


class Capabilities(TypedDict, total=False):
    bounding: list[str]
    effective: list[str]
    permitted: list[str]
    inheritable: list[str]
    ambient: list[str]


class Rlimit(TypedDict):
    type: str
    hard: int
    soft: int


class Process(TypedDict):
    terminal: bool
    user: User
    args: list[str]
    env: list[str]
    cwd: str
    capabilities: NotRequired[Capabilities]
    rlimits: NotRequired[list[Rlimit]]
    noNewPrivileges: NotRequired[bool]
    oomScoreAdj: NotRequired[int]
    consoleSize: NotRequired[dict[str, int]]


class Root(TypedDict):
    path: str
    readonly: NotRequired[bool]


class Mount(TypedDict):
    destination: str
    type: NotRequired[str]
    source: NotRequired[str]
    options: NotRequired[list[str]]


class Namespace(TypedDict):
    type: str  # pid, network, mount, ipc, uts, user, cgroup
    path: NotRequired[str]  # join this one instead of making a new one


class Memory(TypedDict, total=False):
    limit: int
    reservation: int
    swap: int
    swappiness: int
    disableOOMKiller: bool


class Cpu(TypedDict, total=False):
    shares: int
    quota: int
    period: int
    cpus: str
    mems: str


class Resources(TypedDict, total=False):
    """linux.resources: what the cgroups limit (also what `update` changes)."""

    devices: list[dict[str, Any]]
    memory: Memory
    cpu: Cpu
    pids: dict[str, int]
    blockIO: dict[str, Any]


class Linux(TypedDict, total=False):
    namespaces: list[Namespace]
    cgroupsPath: str
    resources: Resources
    devices: list[dict[str, Any]]
    sysctl: dict[str, str]
    maskedPaths: list[str]
    readonlyPaths: list[str]
    rootfsPropagation: str
    seccomp: dict[str, Any]


class Spec(TypedDict):
    ociVersion: str
    process: Process
    root: Root
    hostname: NotRequired[str]
    domainname: NotRequired[str]
    mounts: list[Mount]
    annotations: dict[str, str]
    linux: Linux
