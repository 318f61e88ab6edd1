"""The daemon's event stream (`GET /events`, `docker events`): what happened to which object, when.

Recent events are kept in a ring so `--since` can replay them, as dockerd keeps its last 256.
"""
from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

HISTORY = 256
QUEUE_LIMIT = 1024


class EventBus:
    def __init__(self) -> None:
        self._history: deque[dict[str, Any]] = deque(maxlen=HISTORY)
        self._subscribers: set[asyncio.Queue[dict[str, Any]]] = set()

    def publish(self, kind: str, action: str, actor_id: str, attributes: dict[str, str] | None = None) -> None:
        now = time.time_ns()
        event = {
            "status": action, "id": actor_id, "from": (attributes or {}).get("image", ""),
            "Type": kind, "Action": action,
            "Actor": {"ID": actor_id, "Attributes": dict(attributes or {})},
            "scope": "local", "time": now // 1_000_000_000, "timeNano": now,
        }
        if kind != "container":
            del event["status"], event["id"], event["from"]
        self._history.append(event)
        for queue in self._subscribers:
            if not queue.full():
                queue.put_nowait(event)

    async def stream(self, since: float, until: float, filters: dict[str, list[str]]) -> AsyncIterator[dict[str, Any]]:
        """Past events from `since`, then live ones until `until` (0: forever), that match `filters`."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_LIMIT)
        self._subscribers.add(queue)
        try:
            if since:
                for event in list(self._history):
                    if since <= event["timeNano"] / 1e9 and (not until or event["timeNano"] / 1e9 <= until) \
                            and _matches(event, filters):
                        yield event
            if until and until <= time.time():
                return
            while True:
                timeout = (until - time.time()) if until else None
                try:
                    event = await asyncio.wait_for(queue.get(), timeout)
                except TimeoutError:
                    return
                if _matches(event, filters):
                    yield event
        finally:
            self._subscribers.discard(queue)


def _matches(event: dict[str, Any], filters: dict[str, list[str]]) -> bool:
    def allowed(key: str, *values: str) -> bool:
        wanted = filters.get(key, [])
        return not wanted or any(value in wanted for value in values if value)

    actor = event["Actor"]
    attributes = actor["Attributes"]
    # `event=health_status` also matches "health_status: healthy" (and exec_create its commands), as dockerd
    if not allowed("type", event["Type"]) or not allowed("event", event["Action"], event["Action"].split(":")[0]):
        return False
    if event["Type"] == "container" and not allowed("container", actor["ID"], actor["ID"][:12],
                                                    attributes.get("name", "")):
        return False
    if not allowed("image", attributes.get("image", ""), actor["ID"] if event["Type"] == "image" else ""):
        return False
    for label in filters.get("label", []):
        key, eq, value = label.partition("=")
        if key not in attributes or (eq and attributes[key] != value):
            return False
    return True
