"""Zygote requests: one SOCK_SEQPACKET message per monitor, `OP` + newline + the request as JSON.

The op comes first, outside the JSON, so that a container's monitor can hand the JSON to its helper
child unparsed: code a long-lived monitor runs once still costs it the pages it writes to.
"""
from __future__ import annotations

import json

from berth.errdefs import InvalidArgument

MAX_REQUEST = 1 << 20

_FIELDS: dict[str, dict[str, type | tuple[type, ...]]] = {
    "run": {"id": str, "bundle": str, "state_dir": str, "tty": bool, "stdin": bool},
    "exec": {"id": str, "exec_id": str, "init_pid": int, "bundle": str, "state_dir": str,
             "process": dict, "tty": bool, "stdin": bool},
}
_OPTIONAL: dict[str, type | tuple[type, ...]] = {
    "log_path": (str, type(None)), "runtime": (str, type(None)), "runtime_root": (str, type(None)),
    "log_max_size": (int, type(None)), "log_max_file": (int, type(None)),
}


class BadRequest(InvalidArgument, ValueError):
    """A request the zygote cannot serve; the message goes back to the daemon."""


def encode(request: dict) -> bytes:
    return request["op"].encode() + b"\n" + json.dumps(request).encode()


def split(message: bytes) -> tuple[bytes, bytes]:
    """(op, JSON body) of a request message."""
    op, _, body = message.partition(b"\n")
    return op, body


def parse(body: bytes, op: bytes) -> dict:
    """Decode and check the JSON of an `op` request; raise BadRequest with a message for the daemon."""
    try:
        request = json.loads(body)
    except ValueError as error:
        raise BadRequest(f"request is not JSON: {error}") from None
    if not isinstance(request, dict) or request.get("op") not in _FIELDS or request["op"].encode() != op:
        raise BadRequest(f"unknown op {op.decode(errors='replace')!r}")
    fields = {**_FIELDS[request["op"]], **{k: t for k, t in _OPTIONAL.items() if k in request}}
    for name, kind in fields.items():
        if not isinstance(request.get(name), kind):
            raise BadRequest(f"request field {name!r} is missing or has the wrong type")
    return request


def error_reply(message: str, exit_code: int) -> bytes:
    """The reply that tells the daemon the process did not start."""
    return json.dumps({"error": message, "exit_code": exit_code}).encode()
