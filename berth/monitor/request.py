"""Zygote requests: one SOCK_SEQPACKET message per monitor, `OP` + newline + the request as JSON.

The op comes first, outside the JSON, so that a container's monitor can hand the JSON to its helper
child unparsed: code a long-lived monitor runs once still costs it the pages it writes to.
"""
# No `from __future__ import annotations` here: the TypedDicts must see NotRequired at class creation.
import json
from types import UnionType
from typing import Any, Literal, NotRequired, TypedDict, get_origin, get_type_hints, is_typeddict

from berth.errdefs import InvalidArgument
from berth.runtime.ocispec import Process

MAX_REQUEST = 1 << 20


class RunRequest(TypedDict):
    """Run a container's init: the daemon's request for a container's monitor."""

    op: Literal["run"]
    id: str
    bundle: str  # the OCI bundle: config.json (and a compiled seccomp program) beside the state
    state_dir: str  # where the monitor keeps monitor.pid, attach.sock and exit.json
    tty: bool
    stdin: bool
    log_path: NotRequired[str | None]  # the json-file log
    log_max_size: NotRequired[int | None]
    log_max_file: NotRequired[int | None]
    runtime: NotRequired[str | None]  # a runc-compatible runtime's path; none: berth's own
    runtime_args: NotRequired[list[str]]
    runtime_root: NotRequired[str | None]


class ExecRequest(TypedDict):
    """Run a process in a running container: the daemon's request for an exec's monitor."""

    op: Literal["exec"]
    id: str
    exec_id: str
    init_pid: int
    bundle: str
    state_dir: str
    process: Process  # the OCI process
    tty: bool
    stdin: bool
    runtime: NotRequired[str | None]
    runtime_args: NotRequired[list[str]]
    runtime_root: NotRequired[str | None]


MonitorRequest = RunRequest | ExecRequest


def _checks(kind: type) -> dict[str, tuple[type | UnionType, bool]]:
    """field -> (the type its value must have, whether it is required), from a request's TypedDict."""
    def checkable(hint: Any) -> type | UnionType:
        origin = get_origin(hint)  # list[str] -> list, Literal["run"] -> Literal, str | None -> UnionType
        if is_typeddict(hint):
            return dict
        return hint if origin in (None, UnionType) else str if origin is Literal else origin

    required = kind.__required_keys__  # type: ignore[attr-defined]
    return {name: (checkable(hint), name in required) for name, hint in get_type_hints(kind).items()}


_CHECKS = {"run": _checks(RunRequest), "exec": _checks(ExecRequest)}


class BadRequest(InvalidArgument, ValueError):
    """A request the zygote cannot serve; the message goes back to the daemon."""


def encode(request: MonitorRequest) -> bytes:
    return request["op"].encode() + b"\n" + json.dumps(request).encode()


def split(message: bytes) -> tuple[bytes, bytes]:
    """(op, JSON body) of a request message."""
    op, _, body = message.partition(b"\n")
    return op, body


def parse(body: bytes, op: bytes) -> Any:
    """Decode and check the JSON of an `op` request; raise BadRequest with a message for the daemon."""
    try:
        request = json.loads(body)
    except ValueError as error:
        raise BadRequest(f"request is not JSON: {error}") from None
    if not isinstance(request, dict) or request.get("op") not in _CHECKS or request["op"].encode() != op:
        raise BadRequest(f"unknown op {op.decode(errors='replace')!r}")
    for name, (kind, required) in _CHECKS[request["op"]].items():
        if (required or name in request) and not isinstance(request.get(name), kind):
            raise BadRequest(f"request field {name!r} is missing or has the wrong type")
    return request  # a RunRequest or an ExecRequest, as `op` says


def error_reply(message: str, exit_code: int) -> bytes:
    """The reply that tells the daemon the process did not start."""
    return json.dumps({"error": message, "exit_code": exit_code}).encode()
