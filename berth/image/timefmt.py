"""Timestamps as Docker writes them (Go's RFC 3339 with nanoseconds) and reads them back."""
from __future__ import annotations

import re
import time
from datetime import datetime, timezone

ZERO_TIME = "0001-01-01T00:00:00Z"
_RFC3339 = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$")


def format_ns(ns: int) -> str:
    """RFC 3339 in UTC with trailing zeros of the fraction dropped, like Go's RFC3339Nano."""
    seconds, fraction = divmod(ns, 1_000_000_000)
    stamp = datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    digits = f"{fraction:09d}".rstrip("0")
    return f"{stamp}.{digits}Z" if digits else f"{stamp}Z"


def now() -> str:
    return format_ns(time.time_ns())


def parse_ns(text: str | None) -> int:
    """Unix nanoseconds of an RFC 3339 timestamp (0 when absent or unreadable)."""
    match = _RFC3339.match(text or "")
    if not match:
        return 0
    zone = "+00:00" if match.group(3) == "Z" else match.group(3)
    try:
        seconds = int(datetime.fromisoformat(match.group(1) + zone).timestamp())
    except ValueError:
        return 0
    return seconds * 1_000_000_000 + int((match.group(2) or "0")[:9].ljust(9, "0"))


def parse_seconds(text: str | None) -> int:
    """Unix seconds of an RFC 3339 timestamp (0 when absent or unreadable)."""
    return parse_ns(text) // 1_000_000_000
