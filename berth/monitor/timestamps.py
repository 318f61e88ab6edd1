"""Times in Docker's RFC 3339 form with nanoseconds, e.g. 2026-11-29T06:22:23.123456789Z."""
from __future__ import annotations

import time


def rfc3339nano(ns: int | None = None) -> str:
    """Format `ns` nanoseconds since the epoch (default: now) in UTC."""
    if ns is None:
        ns = time.time_ns()
    seconds, fraction = divmod(ns, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{fraction:09d}Z"
