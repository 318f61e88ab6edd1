"""Timestamps in the forms the Engine API uses."""
from __future__ import annotations

import time
from datetime import datetime, timezone

ZERO_TIME = "0001-01-01T00:00:00Z"


def rfc3339_nano(ns: int | None = None) -> str:
    """`2026-11-29T06:22:23.123456789Z` for a time in nanoseconds since the epoch (default: now)."""
    ns = time.time_ns() if ns is None else ns
    seconds, fraction = divmod(ns, 1_000_000_000)
    stamp = datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{fraction:09d}Z"


def parse_rfc3339(text: str) -> float:
    """Seconds since the epoch for an RFC 3339 time with up to nanosecond precision."""
    if not text or text == ZERO_TIME:
        return 0.0
    main, _, rest = text.partition(".")
    fraction = "0"
    zone = "Z"
    if rest:
        digits = len(rest) - len(rest.lstrip("0123456789"))
        fraction, zone = rest[:digits] or "0", rest[digits:] or "Z"
    elif not main.endswith("Z") and ("+" in main[10:] or "-" in main[10:]):
        cut = max(main.rfind("+"), main.rfind("-"))
        main, zone = main[:cut], main[cut:]
    main = main.rstrip("Z")
    moment = datetime.strptime(main, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    offset = 0
    if zone not in ("Z", ""):
        sign = -1 if zone[0] == "-" else 1
        hours, _, minutes = zone[1:].partition(":")
        offset = sign * (int(hours) * 3600 + int(minutes or 0) * 60)
    return moment.timestamp() - offset + float("0." + fraction)
