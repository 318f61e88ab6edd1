"""A container's files from outside it: `docker cp` out and in, and `docker export`.

The container's filesystem is mounted for as long as a copy needs it (running or not), and paths are
found as the container sees them, its bind mounts included (berth.daemon.archives).
"""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import BinaryIO

from berth.daemon import archives
from berth.daemon.containers import ContainerService
from berth.errdefs import Forbidden, InvalidArgument, NotFound
from berth.image.service import ImageService
from berth.layer.apply import LayerError
from berth.threadpipe import consume_in_thread, produce_in_thread


class ContainerFiles:
    def __init__(self, containers: ContainerService, images: ImageService) -> None:
        self.containers = containers
        self.images = images

    async def _locate(self, ref: str, path: str) -> tuple[str, archives.Found, str]:
        """The container's id, `path` in its mounted filesystem and its stat header; the filesystem
        stays mounted until `release_filesystem`."""
        container = self.containers.get(ref)
        mounted = await self.containers.mount_filesystem(container.id)
        try:
            found = await asyncio.to_thread(archives.locate, str(mounted), path, self.containers.binds(container))
            return container.id, found, await asyncio.to_thread(archives.encoded_stat, found)
        except OSError:
            self.containers.release_filesystem(container.id)
            raise NotFound(f"Could not find the file {path} in container {ref}") from None

    async def stat(self, ref: str, path: str) -> str:
        """The X-Docker-Container-Path-Stat header of `path` (`docker cp`'s HEAD)."""
        container_id, _, header = await self._locate(ref, path)
        self.containers.release_filesystem(container_id)
        return header

    async def read(self, ref: str, path: str) -> tuple[str, AsyncIterator[bytes]]:
        """`docker cp` out: the stat header of `path`, and a tar of it."""
        container_id, found, header = await self._locate(ref, path)

        def write(out: BinaryIO) -> None:
            try:
                archives.write_tar(found, out)
            finally:
                self.containers.release_filesystem(container_id)

        return header, produce_in_thread(write)

    async def write(self, ref: str, path: str, body: AsyncIterator[bytes]) -> None:
        """`docker cp` in: the tar `body` unpacked into the directory `path`."""
        if self.containers.get(ref).host_config.get("ReadonlyRootfs"):
            raise Forbidden("container rootfs is marked read-only")
        container_id, found, _ = await self._locate(ref, path)
        try:
            if not await asyncio.to_thread(archives.is_directory, found):
                raise InvalidArgument("extraction point is not a directory")
            try:
                await consume_in_thread(body, lambda stream: archives.extract(found, stream))
            except LayerError as exc:
                raise InvalidArgument(f"Error processing tar file: {exc.reason}") from None
        finally:
            self.containers.release_filesystem(container_id)

    async def export(self, ref: str) -> AsyncIterator[bytes]:
        """`docker export`: the container's whole filesystem, flattened, as a tar."""
        container = self.containers.get(ref)
        mounted = await self.containers.mount_filesystem(container.id)

        def write(out: BinaryIO) -> None:
            try:
                self.images.export(mounted, out)
            finally:
                self.containers.release_filesystem(container.id)

        return produce_in_thread(write)
