"""Filters of `docker images` (dangling, reference, label, before, since) and `image prune` (until, label)."""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from berth.image import reference
from berth.image.catalog import ImageRecord
from berth.image.changes import parse_duration
from berth.image.errors import InvalidFilter, InvalidImage
from berth.timestamps import parse_ns


def check_keys(filters: dict[str, list[str]], accepted: tuple[str, ...]) -> None:
    for name in filters:
        if name not in accepted:
            raise InvalidFilter(f"Invalid filter '{name}'")


def labels_match(wanted: list[str], labels: dict[str, str] | None, negate: bool = False) -> bool:
    labels = labels or {}
    for item in wanted:
        name, has_value, value = item.partition("=")
        present = name in labels and (not has_value or labels[name] == value)
        if present == negate:
            return False
    return True


def _bool(name: str, values: list[str]) -> bool | None:
    if not values:
        return None
    value = values[-1].lower()
    if value in ("true", "1"):
        return True
    if value in ("false", "0"):
        return False
    raise InvalidFilter(f"Invalid filter '{name}=[{' '.join(values)}]'")


@dataclass
class ListFilters:
    dangling: bool | None = None
    references: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    before: int | None = None  # unix nanoseconds, as images' creation times are compared
    since: int | None = None

    @classmethod
    def parse(cls, filters: dict[str, list[str]], resolve: Callable[[str], str],
              created: Callable[[str], int]) -> ListFilters:
        check_keys(filters, ("dangling", "reference", "label", "before", "since"))
        result = cls(dangling=_bool("dangling", filters.get("dangling", [])),
                     references=list(filters.get("reference", [])), labels=list(filters.get("label", [])))
        for name in ("before", "since"):
            for value in filters.get(name, []):
                setattr(result, name, created(resolve(value)))
        return result

    @property
    def dangling_only(self) -> bool:
        return self.dangling is True

    def matches(self, record: ImageRecord, config: dict, names: list[str]) -> bool:
        if self.dangling is not None and self.dangling == bool(names):
            return False
        if self.references:
            refs = [reference.parse(name) for name in names]
            if not any(reference.matches(pattern, ref) for pattern in self.references for ref in refs):
                return False
        if self.labels and not labels_match(self.labels, (config.get("config") or {}).get("Labels")):
            return False
        created = parse_ns(config.get("created"))
        if self.before is not None and created >= self.before:
            return False
        if self.since is not None and created <= self.since:
            return False
        return True


def parse_until(value: str) -> float:
    """`until=`: a Go duration before now, a unix timestamp, or an RFC 3339 date/time."""
    try:
        return time.time() - parse_duration(value) / 1e9
    except InvalidImage:
        pass
    try:
        return float(value)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise InvalidFilter(f'failed to parse value as time or duration: "{value}"') from None


@dataclass
class PruneFilters:
    dangling_only: bool = True  # dangling=false prunes every unused image, like `image prune -a`
    until: float | None = None
    labels: list[str] = field(default_factory=list)
    not_labels: list[str] = field(default_factory=list)

    @classmethod
    def parse(cls, filters: dict[str, list[str]]) -> PruneFilters:
        check_keys(filters, ("dangling", "until", "label", "label!"))
        until = [parse_until(value) for value in filters.get("until", [])]
        return cls(dangling_only=_bool("dangling", filters.get("dangling", [])) is not False,
                   until=min(until) if until else None, labels=list(filters.get("label", [])),
                   not_labels=list(filters.get("label!", [])))

    def matches(self, record: ImageRecord, config: dict) -> bool:
        if self.until is not None and record.created > self.until:
            return False
        labels = (config.get("config") or {}).get("Labels")
        return labels_match(self.labels, labels) and labels_match(self.not_labels, labels, negate=True)

