"""Times as Docker writes them (Go's RFC 3339 with nanoseconds, trailing zeros dropped) and reads
them back. Shared by the daemon, the image store and the monitors; it imports only `time` at load."""
from __future__ import annotations

import re
import time

ZERO_TIME = "0001-01-01T00:00:00Z"
_RFC3339 = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$")


def rfc3339_nano(ns: int | None = None) -> str:
    """`2026-11-29T06:22:23.1234567Z` for nanoseconds since the epoch (default: now), in UTC."""
    ns = time.time_ns() if ns is None else ns
    seconds, fraction = divmod(ns, 1_000_000_000)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    digits = f"{fraction:09d}".rstrip("0")
    return f"{stamp}.{digits}Z" if digits else f"{stamp}Z"


def parse_ns(text: str | None) -> int:
    """Nanoseconds since the epoch of an RFC 3339 time (0 when absent, zero or unreadable)."""
    from datetime import datetime  # here: the monitors format times but never parse them

    match = _RFC3339.match(text or "")
    if not match or text == ZERO_TIME:
        return 0
    zone = "+00:00" if match.group(3) == "Z" else match.group(3)
    try:
        seconds = int(datetime.fromisoformat(match.group(1) + zone).timestamp())
    except ValueError:
        return 0
    return seconds * 1_000_000_000 + int((match.group(2) or "0")[:9].ljust(9, "0"))


def parse_seconds(text: str | None) -> float:
    """Seconds since the epoch, with the fraction, of an RFC 3339 time (0.0 as parse_ns)."""
    return parse_ns(text) / 1e9
