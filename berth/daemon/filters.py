"""`ps --filter`: which containers match the filters of `GET /containers/json`, with dockerd's rules
and its errors (a bad filter is refused even when there is no container to test it on)."""
from __future__ import annotations

import re
from collections.abc import Callable

from berth.daemon.container import Container, Status
from berth.errdefs import InvalidArgument, NotFound
from berth.image.filters import check_keys, labels_match, parse_until
from berth.strconv import parse_bool
from berth.timestamps import parse_ns, parse_seconds

STATUSES = {status.value for status in Status}
HEALTH = {"starting", "healthy", "unhealthy", "none"}


class ContainerFilter:
    """The filters of one listing, checked once; call it on each container."""

    def __init__(self, filters: dict[str, list[str]], resolve_image: Callable[[str], str | None],
                 find_container: Callable[[str], Container]) -> None:
        known = {"status", "name", "id", "exited", "label", "ancestor", "before", "since", "volume", "network",
                 "health", "is-task", "expose", "publish"}
        unknown = set(filters) - known
        if unknown:
            raise InvalidArgument(f"Invalid filter '{sorted(unknown)[0]}'")
        self.filters = filters
        for status in filters.get("status", []):
            if status not in STATUSES:
                raise InvalidArgument(f"Invalid filter 'status={status}'")
        for health in filters.get("health", []):
            if health not in HEALTH:
                raise InvalidArgument(f"Unrecognised filter value for health: {health}")
        is_task = filters.get("is-task", [])
        try:
            self.tasks_only = any([parse_bool(value) for value in is_task])
        except ValueError:
            raise InvalidArgument(f"Invalid filter 'is-task=[{' '.join(is_task)}]'") from None
        self.exited = {_atoi(code) for code in filters.get("exited", [])}
        self.before = [_created(find_container, ref) for ref in filters.get("before", [])]
        self.since = [_created(find_container, ref) for ref in filters.get("since", [])]
        self.exposed = _ports(filters.get("expose", []), "expose")
        self.published = _ports(filters.get("publish", []), "publish")
        self.ancestors = {resolve_image(ancestor) for ancestor in filters.get("ancestor", [])}

    def __call__(self, container: Container) -> bool:
        filters = self.filters
        if filters.get("status") and container.state.status not in filters["status"]:
            return False
        if filters.get("name") and not any(re.search(pattern, container.name) for pattern in filters["name"]):
            return False
        if filters.get("id") and not any(container.id.startswith(prefix) for prefix in filters["id"]):
            return False
        if self.exited and (container.state.status != Status.EXITED or container.state.exit_code not in self.exited):
            return False
        labels = container.config.get("Labels") or {}
        for label in filters.get("label", []):
            key, eq, value = label.partition("=")
            if key not in labels or (eq and labels[key] != value):
                return False
        if self.ancestors and container.image_id not in self.ancestors:
            return False
        if self.before or self.since:
            created = parse_ns(container.created)
            if any(created >= other for other in self.before) or any(created <= other for other in self.since):
                return False
        if self.tasks_only:
            return False  # berth runs no swarm tasks
        health = (container.state.health or {}).get("Status") or "none"
        if filters.get("health") and health not in filters["health"]:
            return False
        return self._attached(container)

    def _attached(self, container: Container) -> bool:
        """The volume, network and port filters: what the container is connected to."""
        volumes = self.filters.get("volume", [])
        if volumes and not any(mount.get(key) in volumes for mount in container.mounts
                               for key in ("Source", "Destination", "Name")):
            return False
        networks = self.filters.get("network", [])
        if not (networks or self.exposed or self.published):
            return True
        settings = container.network_settings()
        if networks and not any(name in networks or any(network.get("NetworkID", "").startswith(wanted)
                                                        for wanted in networks)
                                for name, network in settings["Networks"].items()):
            return False
        # as dockerd: the ports the container's networks expose and publish (none on none or host)
        if self.exposed and not self.exposed & set(settings["Ports"]):
            return False
        published = {port for port, bindings in settings["Ports"].items() if bindings}
        return not self.published or bool(self.published & published)


def prune_filter(filters: dict[str, list[str]]) -> Callable[[Container], bool]:
    """`container prune --filter`: until (created before) and label / label! (with or without it)."""
    check_keys(filters, ("until", "label", "label!"))
    until = min((parse_until(value) for value in filters.get("until", [])), default=None)

    def wanted(container: Container) -> bool:
        if until is not None and parse_seconds(container.created) > until:
            return False
        labels = container.config.get("Labels")
        return labels_match(filters.get("label", []), labels) and \
            labels_match(filters.get("label!", []), labels, negate=True)
    return wanted


def _atoi(text: str) -> int:
    try:
        return int(text, 10)
    except ValueError:
        raise InvalidArgument(f'strconv.Atoi: parsing "{text}": invalid syntax') from None


def _created(find_container: Callable[[str], Container], ref: str) -> int:
    try:
        return parse_ns(find_container(ref).created)
    except NotFound:
        raise NotFound(f"no such container {ref}") from None


def _ports(values: list[str], name: str) -> set[str]:
    """`80`, `80/udp`, `8000-8080/tcp` -> {"80/tcp", ...}, refused in dockerd's words."""
    ports: set[str] = set()
    for value in values:
        numbers, _, protocol = value.partition("/")
        first, dash, last = numbers.partition("-")
        try:
            for text in (first, last) if dash else (first,):
                if not text.isdigit():
                    raise InvalidArgument(f'strconv.ParseUint: parsing "{text}": invalid syntax')
            low, high = int(first), int(last) if dash else int(first)
            if high < low:
                raise InvalidArgument(f"Invalid range specified for the Port: {numbers}")
        except InvalidArgument as error:
            raise InvalidArgument(f"error while looking up for {name} {value}: {error}") from None
        ports.update(f"{port}/{protocol or 'tcp'}" for port in range(low, high + 1))
    return ports
