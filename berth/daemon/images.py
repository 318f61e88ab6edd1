"""The daemon's image operations: the image store's (berth.image), each publishing the event dockerd
publishes for it, plus the operations that need the daemon: import from a URL, and commit and diff of
a container. The API, and later the builder and the registry client, call these, so an image made
any way shows in `docker events`.
"""
from __future__ import annotations

import asyncio
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator, Callable
from contextlib import nullcontext
from typing import Any, BinaryIO, TypeVar

from berth.daemon.containers import ContainerService
from berth.daemon.events import EventBus
from berth.errdefs import BerthError, InvalidArgument
from berth.image.service import ImageService
from berth.threadpipe import consume_in_thread, produce_in_thread

URL_TIMEOUT = 60  # seconds without progress before an import from a URL fails
T = TypeVar("T")


def fetch_url(url: str, consume: Callable[[BinaryIO], T]) -> T:
    """GET `url` (http or https) and pass the response body, as a stream, to `consume`. Blocking."""
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise InvalidArgument(f"invalid import source {url!r}: expected -, or an http or https URL")
    try:
        with urllib.request.urlopen(url, timeout=URL_TIMEOUT) as body:
            return consume(body)
    except urllib.error.HTTPError as exc:
        raise BerthError(f'Get "{url}": {exc.code} {exc.reason}') from None
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        raise BerthError(f'Get "{url}": {getattr(exc, "reason", exc)}') from None


class Images:
    def __init__(self, store: ImageService, events: EventBus, containers: ContainerService) -> None:
        self.store = store
        self.events = events
        self.containers = containers

    def _publish(self, action: str, actor: str, name: str) -> None:
        self.events.publish("image", action, actor, {"name": name})

    # --- reads ---------------------------------------------------------------------------------
    async def list_images(self, show_all: bool, filters: dict[str, list[str]], digests: bool) -> list[dict[str, Any]]:
        return await asyncio.to_thread(self.store.list_images, show_all, filters, digests)

    async def inspect(self, ref: str) -> dict[str, Any]:
        return await asyncio.to_thread(self.store.inspect, ref)

    async def history(self, ref: str) -> list[dict[str, Any]]:
        return await asyncio.to_thread(self.store.history, ref)

    async def check(self) -> list[str]:
        """berth's store check: the problems `system check` reports."""
        return await asyncio.to_thread(self.store.check)

    # --- writes, each with its event -----------------------------------------------------------
    async def import_image(self, source: str, body: AsyncIterator[bytes] | None, repo_tag: str | None,
                           changes: list[str], message: str) -> str:
        """`docker import`: from the request `body` (source "-") or from an http(s) URL."""
        if source == "-":
            assert body is not None
            image_id = await consume_in_thread(body, lambda stream: self.store.import_image(
                stream, repo_tag, changes, message))
        else:
            image_id = await asyncio.to_thread(fetch_url, source, lambda stream: self.store.import_image(
                stream, repo_tag, changes, message, source=source))
        self._publish("import", image_id, repo_tag or image_id)
        return image_id

    async def load(self, body: AsyncIterator[bytes]) -> list[str]:
        """`docker load`: the lines dockerd prints ("Loaded image: NAME" / "Loaded image ID: ID")."""
        messages = await consume_in_thread(body, self.store.load)
        for message in messages:
            name = message.rsplit(" ", 1)[-1]
            self._publish("load", name, name)
        return messages

    async def save(self, names: list[str]) -> AsyncIterator[bytes]:
        """`docker save`: every name is resolved first (a missing one fails before any byte is sent)."""
        ids = await asyncio.to_thread(lambda: [self.store.resolve(name) for name in names])
        for image_id in ids:
            self._publish("save", image_id, image_id)
        return produce_in_thread(lambda out: self.store.save(names, out))

    async def tag(self, source: str, repo: str, tag: str | None) -> None:
        await asyncio.to_thread(self.store.tag, source, repo, tag)
        image_id = await asyncio.to_thread(self.store.resolve, source)
        self._publish("tag", image_id, f"{repo}:{tag}" if repo and tag else repo)

    async def remove(self, ref: str, force: bool, prune: bool) -> list[dict[str, str]]:
        """`docker rmi`: [{"Untagged": name}, {"Deleted": id}] as dockerd reports them."""
        outcome = await asyncio.to_thread(self.store.remove, ref, force, prune, self.containers.users_of_image)
        for item in outcome:
            for key, value in item.items():
                self._publish("untag" if key == "Untagged" else "delete", value, value)
        return outcome

    async def prune(self, filters: dict[str, list[str]]) -> dict[str, Any]:
        return await asyncio.to_thread(self.store.prune, filters, self.containers.users_of_image)

    # --- from containers -------------------------------------------------------------------------
    async def commit(self, ref: str, overrides: dict[str, Any], pause: bool, changes: list[str], comment: str,
                     author: str, repo_tag: str | None) -> str:
        """`docker commit`: the container's writable layer on top of its image, as a new image.

        A running container is paused while its layer is read, unless `pause` is false (as dockerd)."""
        container = self.containers.get(ref)
        config = {**container.config, **{key: value for key, value in overrides.items() if value}}
        async with self.containers.frozen(container.id) if pause else nullcontext():
            image_id = await asyncio.to_thread(
                self.store.commit, self.containers.directory(container) / "diff", container.image_id, config,
                changes, comment, author, repo_tag, container.id)
        self.containers.emit(container, "commit", comment=comment)
        return image_id

    async def changes(self, ref: str) -> list[dict[str, Any]]:
        """`docker diff`: what the container's writable layer changed on top of its image."""
        container = self.containers.get(ref)
        return await asyncio.to_thread(self.store.diff, self.containers.directory(container) / "diff",
                                       container.image_id)
