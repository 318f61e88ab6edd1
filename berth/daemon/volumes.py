"""The daemon's volumes: `docker volume` through the volume drivers (berth.volume.drivers).

Containers are given their volumes at create (berth.daemon.creation, from the volume's mount point).
What uses a volume is asked of the container service (`users`, from the containers' records, so it
holds across restarts), so a volume in use is never removed nor pruned.
"""
from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from berth.errdefs import Conflict, InvalidArgument, NotFound
from berth.volume.drivers import LocalDriver, Volume, VolumeDriver

_FILTERS = ("name", "driver", "label", "dangling")


class VolumeService:
    def __init__(self, data_root: Path, users: Callable[[str], list[str]],
                 drivers: Iterable[VolumeDriver] | None = None) -> None:
        """`users(name)`: the ids of the containers that use volume `name`."""
        self.drivers = {driver.name: driver for driver in (drivers or [LocalDriver(data_root / "volumes")])}
        self.users = users

    def _driver(self, name: str) -> VolumeDriver:
        try:
            return self.drivers[name or "local"]
        except KeyError:
            raise NotFound(f'plugin "{name}" not found') from None

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST /volumes/create: a name given or a random one, as dockerd makes for `volume create`."""
        name = body.get("Name") or secrets.token_hex(32)
        driver_name = body.get("Driver") or "local"
        try:
            driver = self._driver(driver_name)
        except NotFound as error:
            raise NotFound(f"create {name}: error looking up volume plugin {driver_name}: {error}") from None
        for other in self.drivers.values():
            if other is not driver and any(v.name == name for v in other.list_volumes()):
                raise Conflict(f"create {name}: a volume with the name {name} already exists with driver "
                               f"\"{other.name}\"")
        try:
            volume = driver.create(name, body.get("DriverOpts") or {}, body.get("Labels") or {})
        except InvalidArgument as error:
            raise InvalidArgument(f"create {name}: {error}") from None
        return _api(volume)

    def path(self, name: str) -> Path:
        """Where volume `name`'s data is on the host."""
        volume = self._find(name)
        return self._driver(volume.driver).path(volume.name)

    def mount(self, name: str, container_id: str) -> Path:
        """The host path to bind for volume `name` into container `container_id` (at its start)."""
        volume = self._find(name)
        return self._driver(volume.driver).mount(volume.name, container_id)

    def unmount(self, name: str, container_id: str) -> None:
        """Container `container_id` exited: it no longer uses volume `name`."""
        volume = self._find(name)
        self._driver(volume.driver).unmount(volume.name, container_id)

    def inspect(self, name: str) -> dict[str, Any]:
        return _api(self._find(name))

    def list_volumes(self, filters: dict[str, list[str]]) -> dict[str, Any]:
        """GET /volumes, with dockerd's filters: name (substring), driver, label (key or key=value), dangling."""
        for key in filters:
            if key not in _FILTERS:
                raise InvalidArgument(f"Invalid filter '{key}'")
        if any(value not in ("true", "1", "false", "0") for value in filters.get("dangling", [])):
            raise InvalidArgument(f"Invalid filter 'dangling=[{' '.join(filters['dangling'])}]'")
        found = [volume for driver in self.drivers.values() for volume in driver.list_volumes()]
        return {"Volumes": [_api(volume) for volume in found if self._passes(volume, filters)], "Warnings": None}

    def usage(self) -> list[dict[str, Any]]:
        """`system df`: every volume with its size and how many containers use it (UsageData)."""
        found = [volume for driver in self.drivers.values() for volume in driver.list_volumes()]
        return [{**_api(volume), "UsageData": {"Size": self._driver(volume.driver).size(volume.name),
                                                "RefCount": len(self.users(volume.name))}} for volume in found]

    def remove(self, name: str, force: bool = False) -> None:
        """DELETE /volumes/{name}: refused while a container uses it, even with `force`, which only
        makes a missing volume no error."""
        try:
            volume = self._find(name)
        except NotFound:
            if force:
                return
            raise
        if users := self.users(volume.name):
            raise Conflict(f"remove {volume.name}: volume is in use - [{', '.join(users)}]")
        self._driver(volume.driver).remove(volume.name)

    def prune(self, filters: dict[str, list[str]]) -> dict[str, Any]:
        """POST /volumes/prune: every local volume no container uses (API 1.41: named ones too), but
        those made with mount options, whose data lives elsewhere (dockerd 20.10 keeps them too)."""
        for key in filters:
            if key not in ("label", "label!"):
                raise InvalidArgument(f"Invalid filter '{key}'")
        deleted, reclaimed = [], 0
        driver = self._driver("local")
        for volume in driver.list_volumes():
            if volume.options or self.users(volume.name) or not _labels_match(volume, filters):
                continue
            reclaimed += max(driver.size(volume.name), 0)
            driver.remove(volume.name)
            deleted.append(volume.name)
        return {"VolumesDeleted": deleted, "SpaceReclaimed": reclaimed}

    def _find(self, name: str) -> Volume:
        for driver in self.drivers.values():
            try:
                return driver.get(name)
            except NotFound:
                continue
        raise NotFound(f"get {name}: no such volume")

    def _passes(self, volume: Volume, filters: dict[str, list[str]]) -> bool:
        checks = {
            "name": lambda value: value in volume.name,
            "driver": lambda value: value == volume.driver,
            "label": lambda value: _labels_match(volume, {"label": [value]}),
            "dangling": lambda value: (not self.users(volume.name)) == (value in ("1", "true")),
        }
        return all(any(checks[key](value) for value in values) for key, values in filters.items())


def _labels_match(volume: Volume, filters: dict[str, list[str]]) -> bool:
    def has(label: str) -> bool:
        key, eq, value = label.partition("=")
        return key in volume.labels and (not eq or volume.labels[key] == value)

    return all(has(label) for label in filters.get("label", [])) and \
        not any(has(label) for label in filters.get("label!", []))


def _api(volume: Volume) -> dict[str, Any]:
    """A volume as the Engine API shows it."""
    return {"CreatedAt": volume.created_at, "Driver": volume.driver, "Labels": volume.labels or None,
            "Mountpoint": volume.mountpoint, "Name": volume.name, "Options": volume.options or None,
            "Scope": "local"}
