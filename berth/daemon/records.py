"""The containers the daemon knows: found by id, name or id prefix as Docker finds them, their names
held one container each, and written to disk by one writer.

A name is held (in one step of the event loop, so two requests never both get it) from the moment a
create or a rename asks for it: a create that takes a while (an image to read, files to make) keeps
its name from every request that comes meanwhile, as dockerd's name reservations do.

Every save of a record goes through `ContainerRecords.save`: the record is serialised on the event
loop's thread, at the moment of the call (never in a worker thread while the loop changes it), and
the saves of one container are written in the order they were made, so a snapshot taken later is
never overwritten by an older one. The write itself (berth.atomicfile) runs in a worker thread.
"""
from __future__ import annotations

import asyncio
import json
import re
from dataclasses import asdict
from pathlib import Path

from berth.atomicfile import write_atomic
from berth.daemon import names
from berth.daemon.container import Container
from berth.errdefs import Conflict, InvalidArgument, NotFound

NAME_PATTERN = re.compile(r"^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$")


class ContainerRecords:
    def __init__(self, data_root: Path) -> None:
        self.data_root = data_root
        self.by_id: dict[str, Container] = {}
        self._names: dict[str, str] = {}  # container id by name, creates under way included
        self._write_order: dict[str, asyncio.Lock] = {}
        self._written: dict[str, int] = {}  # the newest snapshot on disk, by container
        self._taken: dict[str, int] = {}  # the newest snapshot taken, by container
        self._removed: set[str] = set()  # ids never written again (ids are random: none comes back)

    def directory(self, container_id: str) -> Path:
        return Container.directory(self.data_root, container_id)

    # --- lookup ----------------------------------------------------------------------------------
    def get(self, ref: str) -> Container:
        """By full id, name (with or without `/`), or unique id prefix, as Docker resolves them."""
        if ref in self.by_id:
            return self.by_id[ref]
        named = self.by_id.get(self._names.get(ref.lstrip("/"), ""))
        if named is not None:
            return named
        found = [c for c in self.by_id.values() if ref and c.id.startswith(ref)]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise InvalidArgument(f"Multiple IDs found with provided prefix: {ref}")
        raise NotFound(f"No such container: {ref}")

    # --- names -----------------------------------------------------------------------------------
    def hold_name(self, name: str, container_id: str) -> None:
        """Hold `name` for the container (one being created or renamed); Conflict, in dockerd's
        words, when another container holds it."""
        holder = self._names.setdefault(name, container_id)
        if holder != container_id:
            raise Conflict(f'Conflict. The container name "/{name}" is already in use by container '
                           f'"{holder}". You have to remove (or rename) that container to be able '
                           f"to reuse that name.")

    def hold_new_name(self, requested: str | None, container_id: str) -> str:
        """The name of a container being created, held for it: the one asked for (checked as dockerd
        checks it), or one made up that no other container holds."""
        if requested:
            if not NAME_PATTERN.match(requested):
                raise InvalidArgument(f"Invalid container name ({requested}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")
            name = requested.lstrip("/")
        else:
            for name in names.candidates(container_id):  # when every one is held, the last is refused
                if name not in self._names:
                    break
        self.hold_name(name, container_id)
        return name

    def release_name(self, name: str, container_id: str) -> None:
        """Let go of a name the container holds (a create that failed, the old name of a rename)."""
        if self._names.get(name) == container_id:
            del self._names[name]

    def rename(self, container: Container, new_name: str) -> None:
        self.hold_name(new_name, container.id)
        self.release_name(container.name, container.id)
        container.name = new_name

    def add(self, container: Container) -> None:
        self.by_id[container.id] = container
        self._names[container.name] = container.id

    async def stop_writing(self, container_id: str) -> None:
        """Return once the saves under way are on disk; none is written after this (a removal)."""
        self._removed.add(container_id)
        async with self._write_order.setdefault(container_id, asyncio.Lock()):
            pass

    def discard(self, container_id: str) -> None:
        """Forget a container whose files are gone."""
        container = self.by_id.pop(container_id, None)
        if container is not None:
            self.release_name(container.name, container_id)
        self._write_order.pop(container_id, None)
        self._written.pop(container_id, None)
        self._taken.pop(container_id, None)

    # --- the one writer ----------------------------------------------------------------------------
    async def save(self, container: Container) -> None:
        """Write the record as it is now; returns once this state (or a newer one) is on disk."""
        snapshot = json.dumps(asdict(container)).encode()
        number = self._taken[container.id] = self._taken.get(container.id, 0) + 1
        lock = self._write_order.setdefault(container.id, asyncio.Lock())
        async with lock:
            if self._written.get(container.id, 0) >= number or container.id in self._removed:
                return  # a newer snapshot is on disk already, or the container is being removed
            await asyncio.to_thread(self._write, container.id, snapshot)
            self._written[container.id] = number

    def _write(self, container_id: str, snapshot: bytes) -> None:
        directory = self.directory(container_id)
        directory.mkdir(parents=True, exist_ok=True)
        write_atomic(directory / "config.json", snapshot)
