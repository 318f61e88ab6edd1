"""Human units as docker prints and parses them (go-units, Go durations and timestamps)."""
from __future__ import annotations

import re
import time

from berth.durations import human_duration, parse_go_duration

_DECIMAL_UNITS = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"]
_BINARY_UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"]


def _scaled(size: float, base: float, units: list[str]) -> tuple[float, str]:
    i = 0
    while size >= base and i < len(units) - 1:
        size /= base
        i += 1
    return size, units[i]


def human_size(size: float, precision: int = 3) -> str:
    """Decimal size with `precision` significant digits: 4200000 -> "4.2MB" (go-units HumanSize)."""
    value, unit = _scaled(float(size), 1000.0, _DECIMAL_UNITS)
    return f"{value:.{precision}g}{unit}"


def bytes_size(size: float) -> str:
    """Binary size with 4 significant digits: 1048576 -> "1MiB" (go-units BytesSize)."""
    value, unit = _scaled(float(size), 1024.0, _BINARY_UNITS)
    return f"{value:.4g}{unit}"


_BINARY_MULTIPLES = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}


def ram_in_bytes(text: str) -> int:
    """Parse a memory size with binary multiples: "512m" -> 536870912 (go-units RAMInBytes).

    A number (a space may follow it), then an optional suffix: b, or k/m/g/t/p with an optional "b"
    or "ib", in any case. Errors are worded as docker's: invalid size, invalid suffix, or the
    number's own parse error.
    """
    last = max((text.rfind(char) for char in "0123456789. "), default=-1)
    if last == -1:
        raise ValueError(f"invalid size: '{text}'")
    number, suffix = (text[:last], text[last + 1:]) if text[last] == " " else (text[:last + 1], text[last + 1:])
    value = _go_float(number)
    if value < 0:
        raise ValueError(f"invalid size: '{text}'")
    if len(suffix) > 3:
        raise ValueError(f"invalid suffix: '{suffix}'")
    suffix = suffix.lower()
    if not suffix or suffix == "b":
        return int(value)
    if suffix[0] not in _BINARY_MULTIPLES or suffix[1:] not in ("", "b", "ib"):
        raise ValueError(f"invalid suffix: '{suffix}'")
    return int(value * _BINARY_MULTIPLES[suffix[0]])


def _go_float(text: str) -> float:
    """float(text) as Go's strconv.ParseFloat takes decimal numbers (no blanks, no underscores)."""
    try:
        if text != text.strip() or "_" in text:
            raise ValueError
        return float(text)
    except ValueError:
        raise ValueError(f'strconv.ParseFloat: parsing "{text}": invalid syntax') from None


def since(timestamp: float, now: float | None = None) -> str:
    """ "2 minutes ago" for a unix timestamp."""
    return human_duration((time.time() if now is None else now) - timestamp) + " ago"


def go_time(timestamp: float) -> str:
    """A unix time as Go's Time.String() in local time: "2024-01-02 15:04:05 +0000 UTC"."""
    from datetime import (
        datetime,  # here, not at the top: `run` needs this module but not datetime
    )

    moment = datetime.fromtimestamp(timestamp).astimezone()
    return moment.strftime("%Y-%m-%d %H:%M:%S %z ") + (moment.tzname() or "")


def parse_api_time(text: str) -> float:
    """An RFC 3339 time from the API (nanosecond precision allowed) as a unix timestamp."""
    match = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$", text)
    if not match:
        raise ValueError(f"invalid time: {text}")
    base, fraction, zone = match.groups()
    from datetime import datetime

    moment = datetime.fromisoformat(base + ("+00:00" if zone == "Z" else zone))
    return moment.timestamp() + (float("0." + fraction) if fraction else 0.0)


def rfc3339(timestamp: float) -> str:
    """A unix time as RFC 3339 in local time with seconds: "2024-01-02T15:04:05Z"."""
    from datetime import datetime

    moment = datetime.fromtimestamp(int(timestamp)).astimezone()
    text = moment.isoformat()
    return text[:-6] + "Z" if moment.utcoffset().total_seconds() == 0 else text  # type: ignore[union-attr]


_TIME_LAYOUTS = [
    "%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M%z", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H%z", "%Y-%m-%dT%H", "%Y-%m-%d",
]


def api_timestamp(value: str, now: float | None = None) -> str:
    """Turn a `--since/--until` value into the API's "seconds[.nanoseconds]" form.

    Accepts Go durations relative to now ("10m"), RFC 3339 dates and times, and unix timestamps.
    """
    if re.fullmatch(r"\d+(\.\d{1,9})?", value):
        return value
    try:
        seconds = parse_go_duration(value)
    except ValueError:
        pass
    else:
        moment = (time.time() if now is None else now) - seconds
        return f"{int(moment)}.{int(round((moment % 1) * 1e9)):09d}"
    from datetime import UTC, datetime  # here: the commands that never need it do not pay its import

    text = value.replace("Z", "+0000")
    text = re.sub(r"([+-]\d\d):(\d\d)$", r"\1\2", text)
    for layout in _TIME_LAYOUTS:
        try:
            moment_dt = datetime.strptime(text, layout)
        except ValueError:
            continue
        if moment_dt.tzinfo is None:
            moment_dt = moment_dt.replace(tzinfo=UTC) if layout == "%Y-%m-%d" else moment_dt.astimezone()
        stamp = moment_dt.timestamp()
        return f"{int(stamp)}.{int(round((stamp % 1) * 1e9)):09d}"
    raise ValueError(f'failed to parse value as time or duration: "{value}"')
