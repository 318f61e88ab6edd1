"""Pull: a manifest (from a manifest list or OCI index, the platform's), its config, and its layers,
downloaded in parallel and unpacked as they stream in, each verified against its digest and its
diff ID before the image is recorded. Nothing is recorded until every layer is in place, so an
interrupted pull leaves no image; what it stored is garbage unless a retry uses it.
"""
from __future__ import annotations

import contextvars
import io
import json
import tarfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx

from berth.distribution.auth import Credentials
from berth.distribution.client import Registry, Repository, transport_error
from berth.distribution.policy import RegistryPolicy
from berth.distribution.progress import Emit, Progress, short
from berth.distribution.sources import Source, Sources
from berth.errdefs import BerthError, InvalidArgument, NotFound
from berth.image import manifest as docs
from berth.image.config import host_architecture
from berth.image.reference import Reference, familiar_name
from berth.image.service import ImageService
from berth.layer import LayerError
from berth.layer.store import LAYER_KIND, Unpacked, chain_ids
from berth.store import digest as digests
from berth.store.gc import key

ACCEPT = (docs.DOCKER_MANIFEST, docs.DOCKER_MANIFEST_LIST, docs.OCI_MANIFEST, docs.OCI_INDEX)
DOWNLOADS = 3  # layers downloaded at once, as dockerd's max-concurrent-downloads
SMALL_DOCUMENT = 4 << 20  # the most a manifest or config may weigh


class PullError(BerthError):
    pass


@dataclass(frozen=True)
class Platform:
    os: str
    architecture: str
    variant: str = ""

    @classmethod
    def parse(cls, text: str | None) -> Platform:
        """`os[/arch[/variant]]`; empty: this host's."""
        if not text:
            return cls("linux", host_architecture())
        parts = text.lower().split("/")
        if len(parts) > 3 or not all(parts):
            raise InvalidArgument(f'"{text}": unknown operating system or architecture: invalid argument')
        return cls(parts[0], parts[1] if len(parts) > 1 else host_architecture(), parts[2] if len(parts) > 2 else "")

    def __str__(self) -> str:
        return "/".join(filter(None, (self.os, self.architecture, self.variant)))

    def matches(self, platform: dict) -> bool:
        return (platform.get("os") == self.os and platform.get("architecture") == self.architecture
                and (not self.variant or platform.get("variant", "") == self.variant))


def _verified(data: bytes, expected: str | None, what: str) -> str:
    actual = digests.of_bytes(data)
    if expected is not None and expected != actual:
        raise PullError(f"{what}: digest mismatch: the registry sent {actual}, expected {expected}")
    return actual


class _ChunkReader(io.RawIOBase):
    """A file over an iterator of byte chunks (a response body being downloaded)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        while not self._pending:
            self._pending = next(self._chunks, b"")
            if not self._pending:
                return 0
        count = min(len(buffer), len(self._pending))
        buffer[:count] = self._pending[:count]
        self._pending = self._pending[count:]
        return count


class Puller:
    def __init__(self, images: ImageService, sources: Sources, policy: RegistryPolicy,
                 credentials: Credentials, emit: Emit, platform: str | None = None) -> None:
        self.images = images
        self.sources = sources
        self.policy = policy
        self.credentials = credentials
        self.progress = Progress(emit)
        self.platform = Platform.parse(platform)

    def pull(self, ref: Reference, all_tags: bool = False) -> None:
        """Pull `ref` (a tag or a digest; every tag of its repository with `all_tags`)."""
        host, _, path = ref.name.partition("/")
        with Registry(self.policy, host, self.credentials) as registry:
            repository = Repository(registry, path)
            try:
                if all_tags:
                    tags = repository.tags()
                    changed = [self._pull_one(repository, ref, Reference(ref.name, tag)) for tag in tags]
                    self._final(any(changed), familiar_name(ref.name))
                else:
                    wanted = ref.with_default_tag()
                    self._final(self._pull_one(repository, ref, wanted), wanted.familiar)
            except NotFound as error:
                raise NotFound(_not_found(ref.with_default_tag(), str(error))) from None

    def _final(self, changed: bool, name: str) -> None:
        self.progress.status(f"Status: {'Downloaded newer image' if changed else 'Image is up to date'} for {name}")

    def _pull_one(self, repository: Repository, asked: Reference, ref: Reference) -> bool:
        """Pull one tag or digest; True if its name now points at an image it did not before."""
        target = ref.digest or ref.tag or ""
        fetched = repository.manifest(target, ACCEPT)
        self.progress.status(f"Pulling from {repository.path}", target)
        top_digest = _verified(fetched.data, ref.digest or fetched.digest, "manifest")
        document = _document(fetched.data)
        media_type = document.get("mediaType") or fetched.media_type
        if media_type in docs.INDEX_TYPES or "manifests" in document:
            child = self._choose(document)
            fetched = repository.manifest(child["digest"], ACCEPT)
            _verified(fetched.data, child["digest"], "manifest")
            document = _document(fetched.data)
        if "config" not in document or not isinstance(document.get("layers"), list):
            raise PullError(f"unsupported manifest format: {media_type or 'unknown media type'}")
        config_bytes = self._small_blob(repository, document["config"])
        image_id = digests.of_bytes(config_bytes)
        names = ([f"{ref.name}@{top_digest}"] if ref.digest else [str(ref), f"{ref.name}@{top_digest}"])
        before = self.images.catalog.lookup(names[0])
        with self.images.refs.lease("pull"):
            self._layers(repository, document["layers"], _diff_ids(config_bytes, len(document["layers"])))
            self.images.record_images([(config_bytes, None, names)])
        self.progress.status(f"Digest: {top_digest}")
        return before != image_id

    def _choose(self, index: dict) -> dict:
        for child in index.get("manifests") or []:
            if isinstance(child, dict) and self.platform.matches(child.get("platform") or {}):
                return child
        raise NotFound(f"no matching manifest for {self.platform} in the manifest list entries")

    def _small_blob(self, repository: Repository, descriptor: dict) -> bytes:
        digest, size = descriptor.get("digest", ""), int(descriptor.get("size") or 0)
        if not digests.is_digest(digest) or size > SMALL_DOCUMENT:
            raise PullError(f"invalid config descriptor {descriptor!r}")
        if self.images.blobs.exists(digest):
            return self.images.blobs.read(digest)
        with repository.blob(digest) as response:
            data = response.read()
        _verified(data, digest, "image config")
        return data

    def _layers(self, repository: Repository, layers: list[dict], diff_ids: list[str]) -> None:
        """Make every layer exist, downloading those that do not; call inside a lease."""
        chains = chain_ids(diff_ids)
        wanted: list[int] = []
        for index, (layer, chain) in enumerate(zip(layers, chains, strict=True)):
            self.images.refs.protect(key(LAYER_KIND, chain))  # before relying on one that exists
            if self.images.layers.exists(chain):
                self.progress.layer(short(layer["digest"]), "Already exists")
            else:
                self.progress.layer(short(layer["digest"]), "Pulling fs layer")
                wanted.append(index)
        for index in wanted[DOWNLOADS:]:
            self.progress.layer(short(layers[index]["digest"]), "Waiting")
        unpacked: dict[int, Unpacked] = {}
        try:
            with ThreadPoolExecutor(DOWNLOADS, thread_name_prefix="pull") as pool:
                futures = {index: pool.submit(contextvars.copy_context().run, self._download, repository,
                                              layers[index], diff_ids[index]) for index in wanted}
                failure: BaseException | None = None
                for index, future in futures.items():
                    try:
                        unpacked[index] = future.result()
                    except BaseException as error:  # every download finishes before the others are dropped
                        failure = failure or error
                if failure is not None:
                    raise failure
            for index in range(len(chains)):
                if index in unpacked:
                    self.images.layers.publish(unpacked[index], chains[index - 1] if index else None)
                    self.progress.layer(short(layers[index]["digest"]), "Pull complete")
        finally:
            for item in unpacked.values():
                self.images.layers.discard(item)

    def _download(self, repository: Repository, descriptor: dict, diff_id: str) -> Unpacked:
        digest, size = descriptor.get("digest", ""), int(descriptor.get("size") or 0)
        if not digests.is_digest(digest):
            raise PullError(f"invalid layer descriptor {descriptor!r}")
        id = short(digest)
        with repository.blob(digest) as response:
            chunks = self.progress.counted(response.iter_raw(1 << 20), id, "Downloading", size)
            try:
                unpacked = self.images.layers.unpack(io.BufferedReader(_ChunkReader(chunks), 1 << 20))  # type: ignore[arg-type,type-var]
            except httpx.TransportError as error:
                raise transport_error("GET", str(response.url), error) from None
            except (LayerError, EOFError, OSError, ValueError, tarfile.TarError) as error:  # not the layer it claims
                raise PullError(f"filesystem layer verification failed for digest {digest}: {error}") from None
        try:
            self.progress.layer(id, "Verifying Checksum")
            if unpacked.blob != digest:
                raise PullError(f"filesystem layer verification failed for digest {digest}")
            if unpacked.diff_id != diff_id:
                raise PullError(f"layer {digest} has diff ID {unpacked.diff_id}, the image config says {diff_id}")
        except BaseException:
            self.images.layers.discard(unpacked)
            raise
        self.progress.layer(id, "Download complete")
        self.sources.remember(Source(diff_id, digest, descriptor.get("mediaType", ""), unpacked.blob_size,
                                     repository.registry.host, repository.path))
        return unpacked


def _document(data: bytes) -> dict:
    try:
        document = json.loads(data)
    except ValueError as error:
        raise PullError(f"invalid manifest: {error}") from None
    if not isinstance(document, dict):
        raise PullError("invalid manifest: not a JSON object")
    return document


def _diff_ids(config_bytes: bytes, layer_count: int) -> list[str]:
    try:
        diff_ids = json.loads(config_bytes)["rootfs"]["diff_ids"]
    except (ValueError, KeyError, TypeError):
        raise PullError("invalid image config: no rootfs.diff_ids") from None
    if not isinstance(diff_ids, list) or not all(isinstance(d, str) and digests.is_digest(d) for d in diff_ids):
        raise PullError("invalid image config: bad rootfs.diff_ids")
    if len(diff_ids) != layer_count:
        raise PullError(f"the image config lists {len(diff_ids)} layers, the manifest {layer_count}")
    return diff_ids


def _not_found(ref: Reference, reason: str) -> str:
    """dockerd's words for a pull the registry has nothing for."""
    if reason.startswith("manifest unknown"):
        return f"manifest for {ref.familiar} not found: {reason}"
    if reason.startswith("name unknown"):
        return f"repository {ref.familiar_name} not found: {reason}"
    return reason
