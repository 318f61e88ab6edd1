"""`ps --filter`: which containers match the filters of `GET /containers/json`."""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from berth.daemon.container import Container
from berth.daemon.errors import InvalidArgument

KNOWN = {"status", "name", "id", "exited", "label", "ancestor"}


def filter_values(filters: dict[str, Any], key: str) -> list[str]:
    """Filter values arrive as a list or, from older clients, as a {value: true} map."""
    value = filters.get(key) or []
    return [k for k, v in value.items() if v] if isinstance(value, dict) else list(value)


def matches(container: Container, filters: dict[str, Any], resolve_image: Callable[[str], str | None]) -> bool:
    unknown = set(filters) - KNOWN
    if unknown:
        raise InvalidArgument(f"Invalid filter '{sorted(unknown)[0]}'")
    statuses = filter_values(filters, "status")
    if statuses and container.state.status not in statuses:
        return False
    names = filter_values(filters, "name")
    if names and not any(re.search(pattern, container.name) for pattern in names):
        return False
    ids = filter_values(filters, "id")
    if ids and not any(container.id.startswith(prefix) for prefix in ids):
        return False
    exited = filter_values(filters, "exited")
    if exited and (container.state.status != "exited" or str(container.state.exit_code) not in exited):
        return False
    labels = container.config.get("Labels") or {}
    for label in filter_values(filters, "label"):
        key, eq, value = label.partition("=")
        if key not in labels or (eq and labels[key] != value):
            return False
    ancestors = filter_values(filters, "ancestor")
    return not ancestors or any(resolve_image(a) == container.image_id for a in ancestors)
