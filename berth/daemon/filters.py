"""`ps --filter`: which containers match the filters of `GET /containers/json`."""
from __future__ import annotations

import re
from collections.abc import Callable

from berth.daemon.container import Container
from berth.daemon.errors import InvalidArgument

KNOWN = {"status", "name", "id", "exited", "label", "ancestor"}


def matches(container: Container, filters: dict[str, list[str]],
            resolve_image: Callable[[str], str | None]) -> bool:
    unknown = set(filters) - KNOWN
    if unknown:
        raise InvalidArgument(f"Invalid filter '{sorted(unknown)[0]}'")
    statuses = filters.get("status", [])
    if statuses and container.state.status not in statuses:
        return False
    names = filters.get("name", [])
    if names and not any(re.search(pattern, container.name) for pattern in names):
        return False
    ids = filters.get("id", [])
    if ids and not any(container.id.startswith(prefix) for prefix in ids):
        return False
    exited = filters.get("exited", [])
    if exited and (container.state.status != "exited" or str(container.state.exit_code) not in exited):
        return False
    labels = container.config.get("Labels") or {}
    for label in filters.get("label", []):
        key, eq, value = label.partition("=")
        if key not in labels or (eq and labels[key] != value):
            return False
    ancestors = filters.get("ancestor", [])
    return not ancestors or any(resolve_image(a) == container.image_id for a in ancestors)
