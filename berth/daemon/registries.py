"""The daemon's registry operations: pull, push and login through berth.distribution, each in a worker
thread whose progress messages reach the API as an async stream, each publishing dockerd's event."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

from berth.daemon.config import DaemonConfig
from berth.daemon.events import EventBus
from berth.distribution.auth import Credentials
from berth.distribution.login import login
from berth.distribution.policy import RegistryPolicy
from berth.distribution.progress import Emit
from berth.distribution.pull import Puller
from berth.distribution.push import Pusher
from berth.distribution.sources import Sources
from berth.image import reference
from berth.image.service import ImageService

_END = object()


def in_thread(work: Callable[[Emit], None]) -> AsyncIterator[dict[str, Any]]:
    """Run `work(emit)` in a worker thread; yield what it emits, then raise what it raised."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[Any] = asyncio.Queue()

    def emit(message: dict[str, Any]) -> None:
        loop.call_soon_threadsafe(queue.put_nowait, message)

    async def messages() -> AsyncIterator[dict[str, Any]]:
        task = asyncio.ensure_future(asyncio.to_thread(work, emit))
        task.add_done_callback(lambda _: queue.put_nowait(_END))
        while (message := await queue.get()) is not _END:
            yield message
        await task

    return messages()


class Registries:
    def __init__(self, config: DaemonConfig, store: ImageService, events: EventBus) -> None:
        self.policy = RegistryPolicy(config.insecure_registries, config.registry_mirrors, config.certs_dir)
        self.store = store
        self.events = events
        self.sources = Sources(store.db)

    def pull(self, image: str, tag: str | None, platform: str | None, auth: str | None) -> AsyncIterator[dict[str, Any]]:
        """/images/create?fromImage=: with neither a tag nor a digest, every tag of the repository."""
        ref = reference.parse(image)
        if tag and not ref.tag and not ref.digest:
            ref = reference.parse(f"{image}@{tag}" if ":" in tag else f"{image}:{tag}")
        credentials = Credentials.from_header(auth)

        def work(emit: Emit) -> None:
            puller = Puller(self.store, self.sources, self.policy, credentials, emit, platform)
            puller.pull(ref, all_tags=not ref.tag and not ref.digest)
            self.events.publish("image", "pull", ref.familiar, {"name": ref.familiar})

        return in_thread(work)

    def pull_one(self, image: str, registry_config: str | None) -> AsyncIterator[dict[str, Any]]:
        """Pull `image` (its `latest` tag if it names none) for a build, with the credentials its
        client sent for that registry in X-Registry-Config."""
        ref = reference.parse(image).with_default_tag()
        credentials = Credentials.for_registry(registry_config, ref.name.partition("/")[0])

        def work(emit: Emit) -> None:
            Puller(self.store, self.sources, self.policy, credentials, emit).pull(ref)
            self.events.publish("image", "pull", ref.familiar, {"name": ref.familiar})

        return in_thread(work)

    def push(self, name: str, tag: str | None, auth: str | None) -> AsyncIterator[dict[str, Any]]:
        """/images/{name}/push: the tag, or every tag of the repository."""
        ref = reference.parse(name)
        if tag:
            ref = reference.Reference(ref.name, tag)
        credentials = Credentials.from_header(auth)

        def work(emit: Emit) -> None:
            Pusher(self.store, self.sources, self.policy, credentials, emit).push(ref)
            self.events.publish("image", "push", ref.familiar, {"name": ref.familiar})

        return in_thread(work)

    async def login(self, auth_config: dict[str, Any]) -> dict[str, str]:
        """/auth: check the credentials against the registry; dockerd's answer."""
        server = str(auth_config.get("serveraddress") or "")
        token = await asyncio.to_thread(login, self.policy, server, Credentials.from_auth_config(auth_config))
        return {"Status": "Login Succeeded", "IdentityToken": token}
