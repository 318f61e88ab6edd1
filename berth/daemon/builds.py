"""`POST /build`: a context (a tar) and a Dockerfile in it, built by berth.build's classic builder on
the daemon's containers and images.

The context is unpacked (never outside its directory) into a scratch directory of the daemon's data
root; RUN steps are containers like any other (on the network the build asks for); COPY, ADD and
WORKDIR see the image's filesystem (its layers mounted read-only for the step) to know what is there,
and their tar of the files they add is the step's layer. The cache is a table of cache keys
to the images steps made, kept in the data root; an entry whose image is gone is not used.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, BinaryIO

from berth.atomicfile import write_atomic
from berth.build import copying, gitcontext
from berth.build.builder import Builder, BuildError, BuildOptions
from berth.daemon.containers import ContainerService
from berth.daemon.logs import STDERR, LogQuery
from berth.dockerignore import excluded, read_patterns
from berth.errdefs import InvalidArgument, NotFound
from berth.image import reference
from berth.image.service import ImageService
from berth.layer.apply import LayerError, apply_tar
from berth.layer.compression import decompressed
from berth.linux import syscalls
from berth.runtime.mounts import resolve_in_root
from berth.threadpipe import consume_in_thread

__all__ = ["BuildError", "BuildOptions", "BuildService", "parse_build_args"]  # what the API route takes from here

# what a RUN step's container keeps of the stage's configuration
_RUN_CONFIG_KEYS = ("Cmd", "Entrypoint", "Env", "User", "WorkingDir", "Shell", "Labels", "StopSignal")


class BuildService:
    def __init__(self, data_root: Path, containers: ContainerService, images: ImageService,
                 pull: Callable[[str, str | None], AsyncIterator[dict[str, Any]]] | None = None) -> None:
        """`pull(reference, X-Registry-Config)`: the registry client's pull of one reference, as a
        stream of progress messages."""
        self.root = data_root / "builder"
        self.containers = containers
        self.images = images
        self.pull = pull
        self._cache: dict[str, str] | None = None  # cache.json, read at the first build

    async def receive(self, context: AsyncIterator[bytes]) -> Path:
        """Unpack a build's context (the whole request body) into a scratch directory of its own."""
        return await self._scratch(lambda work: consume_in_thread(
            context, lambda stream: _unpack_context(stream, work / "context")))

    async def receive_remote(self, url: str) -> Path:
        """A context from a URL: a git repository (`#REF:DIR`), or over http(s) a tar, plain or
        compressed, or a Dockerfile alone."""
        if gitcontext.is_git_url(url):
            return await self._scratch(lambda work: asyncio.to_thread(_clone_context, url, work))
        if not url.startswith(("http://", "https://")):
            raise InvalidArgument(f"unable to prepare context: {url} is neither a git repository nor an http(s) URL")
        return await self._scratch(lambda work: asyncio.to_thread(_fetch_context, url, work))

    async def _scratch(self, fill: Callable[[Path], Awaitable[None]]) -> Path:
        """A build's scratch directory with its context in `context/`, as `fill` puts it there;
        nothing is left when that fails."""
        work = self.root / f"build-{secrets.token_hex(8)}"
        (work / "context").mkdir(parents=True)
        try:
            await fill(work)
        except BaseException:
            await asyncio.to_thread(shutil.rmtree, work, True)
            raise
        return work

    async def build(self, work: Path, dockerfile: str, options: BuildOptions,
                    emit: Callable[[dict[str, Any]], Awaitable[None]], registry_config: str | None = None) -> str:
        """Build the context `receive` unpacked, then remove it: the image ID (BerthError for a
        failed build)."""
        try:
            text = await asyncio.to_thread(_read_dockerfile, work / "context", dockerfile or "Dockerfile")
            await asyncio.to_thread(_drop_build_files, work / "context", dockerfile or "Dockerfile")
            builder = Builder(_Backend(self, work, emit, registry_config), work / "context", text, options, emit)
            return await builder.build()
        finally:
            await asyncio.to_thread(shutil.rmtree, work, True)

    # --- the build cache ------------------------------------------------------------------------
    def _cache_path(self) -> Path:
        return self.root / "cache.json"

    def _table(self) -> dict[str, str]:
        if self._cache is None:
            try:
                self._cache = dict(json.loads(self._cache_path().read_text()))
            except (OSError, ValueError):
                self._cache = {}
        return self._cache

    def cached(self, key: str) -> str | None:
        image_id = self._table().get(key)
        try:
            return self.images.resolve(image_id) if image_id else None
        except NotFound:
            return None

    def remember(self, key: str, image_id: str) -> None:
        table = self._table()
        table[key] = image_id
        self.root.mkdir(parents=True, exist_ok=True)
        write_atomic(self._cache_path(), json.dumps(table).encode())

    def prune(self) -> int:
        """`builder prune`: forget the cache (its images stay until image prune); entries forgotten."""
        count = len(self._table())
        self._cache = {}
        self._cache_path().unlink(missing_ok=True)
        return count


class _Backend:
    """berth.build's Backend on the daemon's services."""

    def __init__(self, service: BuildService, work: Path, emit: Callable[[dict[str, Any]], Awaitable[None]],
                 registry_config: str | None) -> None:
        self.service = service
        self.containers = service.containers
        self.images = service.images
        self.work = work
        self.emit = emit
        self.registry_config = registry_config  # the client's credentials, by registry

    async def resolve_image(self, ref: str, pull: bool = False) -> str:
        if not pull:
            try:
                return await asyncio.to_thread(self.images.resolve, ref)
            except NotFound:
                if self.service.pull is None:
                    raise
        if self.service.pull is not None:
            async for message in self.service.pull(ref, self.registry_config):  # its progress, in the build's output
                await self.emit(message)
        return await asyncio.to_thread(self.images.resolve, ref)

    def image_config(self, image_id: str) -> dict[str, Any]:
        return self.images.image_config(image_id)

    async def run(self, image_id: str | None, config: dict[str, Any], host_config: dict[str, Any],
                  output: Callable[[bytes], Awaitable[None]]) -> tuple[str, int, Path]:
        if image_id is None:
            raise InvalidArgument("a RUN needs an image with a shell: `FROM scratch` has none")
        body = {"Image": image_id, **{key: config.get(key) for key in _RUN_CONFIG_KEYS},
                "HostConfig": {key: value for key, value in host_config.items() if value}}
        container, _ = await self.containers.create(body, None)
        await output(f" ---> Running in {container.id[:12]}\n".encode())
        await self.containers.start(container.id)
        _, entries = self.containers.logs(container.id, LogQuery(), follow=True)
        async for entry in entries:  # what goes to stderr in red, as dockerd's builder shows it
            await output(b"\x1b[91m" + entry.data + b"\x1b[0m" if entry.stream == STDERR else entry.data)
        code = await self.containers.wait(container.id, "not-running")
        return container.id, code, self.containers.directory(container) / "diff"

    async def remove(self, container_id: str) -> None:
        await self.containers.remove(container_id, force=True)

    @contextlib.asynccontextmanager
    async def filesystem(self, image_id: str | None) -> AsyncIterator[Path]:
        place = self.work / f"filesystem-{secrets.token_hex(6)}"
        upper, work, root = place / "diff", place / "work", place / "rootfs"
        for directory in (upper, work, root):
            directory.mkdir(parents=True)
        lowers = await asyncio.to_thread(self.images.layer_dirs, image_id) if image_id else []
        if not lowers:  # scratch: nothing there
            try:
                yield root
            finally:
                await asyncio.to_thread(shutil.rmtree, place, True)
            return
        options = f"lowerdir={':'.join(str(d) for d in lowers)},upperdir={upper},workdir={work}"
        await asyncio.to_thread(syscalls.mount, "overlay", str(root), "overlay", syscalls.MS_RDONLY, options)
        try:
            yield root
        finally:
            await asyncio.to_thread(syscalls.umount2, str(root), syscalls.MNT_DETACH)
            await asyncio.to_thread(shutil.rmtree, place, True)

    async def commit(self, parent: str | None, config: dict[str, Any], created_by: str, author: str,
                     changes: Path | None, layer_tar: Path | None = None, epoch: int | None = None) -> str:
        return await asyncio.to_thread(self.images.add_step, parent, config, created_by, author, changes, layer_tar,
                                       epoch)

    async def tag(self, image_id: str, name: str) -> str:
        await asyncio.to_thread(self.images.tag, image_id, name, None)
        return reference.parse(self.images.tag_name(name)).familiar

    def cached(self, key: str) -> str | None:
        return self.service.cached(key)

    def remember(self, key: str, image_id: str) -> None:
        self.service.remember(key, image_id)

    def cached_child(self, sources: list[str], parent: str | None, created_by: str) -> str | None:
        for source in sources:
            try:
                image_id = self.images.resolve(source)
            except NotFound:
                continue  # as dockerd: a cache source that is not there is no source
            for candidate, candidate_parent in self.images.lineage(image_id):
                history = self.images.image_config(candidate).get("history") or []
                if candidate_parent == parent and history and history[-1].get("created_by") == created_by:
                    return candidate
        return None


def _unpack_context(stream: BinaryIO, target: Path) -> None:
    """The context tar (plain or compressed), unpacked under `target` and nowhere else."""
    plain, _ = decompressed(stream)
    try:
        apply_tar(plain, target, whiteouts=False)
    except (LayerError, EOFError) as error:
        raise InvalidArgument(f"the build context is not a valid tar archive: {error}") from None


def _clone_context(url: str, work: Path) -> None:
    """Clone the repository into `work/git` and make its context directory `work/context`."""
    context = gitcontext.clone(url, work / "git")
    (work / "context").rmdir()
    context.rename(work / "context")  # the rest of the clone goes with the scratch directory


def _fetch_context(url: str, work: Path) -> None:
    """Download the context at `url` into `work`, then unpack it into `work/context` (a file that is
    no tar archive is the Dockerfile)."""
    download = copying.download(url, work)
    with open(download, "rb") as stream:
        plain, _ = decompressed(stream)
        head = plain.read(512)
    with open(download, "rb") as stream:
        if len(head) == 512 and head[257:262] == b"ustar":
            _unpack_context(stream, work / "context")
        else:
            (work / "context" / "Dockerfile").write_bytes(stream.read())
    download.unlink()


def _read_dockerfile(context: Path, name: str) -> bytes:
    try:
        return Path(resolve_in_root(str(context), name)).read_bytes()
    except OSError:
        raise InvalidArgument(f"Cannot locate specified Dockerfile: {name}") from None


def _drop_build_files(context: Path, dockerfile: str) -> None:
    """The Dockerfile and .dockerignore stay out of COPY and ADD when .dockerignore names them (the
    client sent them anyway: the builder needs them)."""
    ignore = context / ".dockerignore"
    if not ignore.is_file():
        return
    patterns = read_patterns(ignore.read_text(errors="replace"))
    for name in (dockerfile, ".dockerignore"):
        if excluded(name, patterns):
            with contextlib.suppress(OSError):
                Path(resolve_in_root(str(context), name)).unlink()


def parse_build_args(text: str | None) -> dict[str, str | None]:
    """`buildargs` of the query: a JSON object (a null value: take it from the environment, which
    the daemon does not have, so unset)."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        raise InvalidArgument(f"invalid buildargs: {text}") from None
    if not isinstance(value, dict):
        raise InvalidArgument(f"invalid buildargs: {text}")
    return {str(key): (None if item is None else str(item)) for key, item in value.items()}
