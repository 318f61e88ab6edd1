"""`--filter key=value` flags -> the API's {key: [values]} map."""
from __future__ import annotations

from berth.cli.errors import CLIError

TYPE_CHECKING = False  # what typing.TYPE_CHECKING is, without importing typing (start-up time)
if TYPE_CHECKING:
    from collections.abc import Iterable


def parse_filters(values: Iterable[str]) -> dict[str, list[str]]:
    filters: dict[str, list[str]] = {}
    for value in values:
        key, sep, item = value.partition("=")
        if not sep or not key.strip():
            raise CLIError("bad format of filter (expected name=value)")
        filters.setdefault(key.strip().lower(), []).append(item)
    return filters
