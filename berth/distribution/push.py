"""Push: every layer of an image (in parallel), its config, then its manifest under the tag.

A layer the registry has is skipped (HEAD), one a sibling repository of the registry has is mounted;
the rest are sent compressed. A layer berth holds only uncompressed (built, committed, loaded) is
gzipped as it is sent, and the compressed bytes are kept, so a later push sends the same blob.
"""
from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

from isal import isal_zlib

from berth.distribution.auth import Credentials
from berth.distribution.client import Registry, Repository
from berth.distribution.policy import RegistryPolicy
from berth.distribution.progress import Emit, Progress, short
from berth.distribution.sources import Source, Sources
from berth.errdefs import NotFound
from berth.image import manifest as docs
from berth.image.reference import Reference
from berth.image.service import ImageService
from berth.layer import Layer, chain_ids
from berth.layer.compression import GZIP, ZSTD
from berth.layer.store import LAYER_KIND
from berth.store.gc import key

UPLOADS = 5  # layers sent at once, as dockerd's max-concurrent-uploads
CHUNK = 1 << 20
GZIP_LEVEL = 1  # igzip's levels are 0-3; 1 compresses about as well as gzip -6, many times faster
GZIP_WBITS = 31  # a gzip stream (header and trailer), not raw deflate
# igzip keeps incompressible data in stored blocks only when it sees enough of it at once: fed 8 MiB at
# a time, a layer of random or already-compressed data decompresses about three times faster on pull
COMPRESS_INPUT = 8 << 20
LAYER_TYPES = {GZIP: docs.DOCKER_LAYER + ".gzip", ZSTD: docs.OCI_LAYER + "+zstd"}


class Pusher:
    def __init__(self, images: ImageService, sources: Sources, policy: RegistryPolicy,
                 credentials: Credentials, emit: Emit) -> None:
        self.images = images
        self.sources = sources
        self.policy = policy
        self.credentials = credentials
        self.progress = Progress(emit)

    def tagged(self, ref: Reference) -> list[tuple[Reference, str]]:
        """The names to push and the image each names: `ref`, or every tag of its repository."""
        if ref.tag:
            image_id = self.images.catalog.lookup(str(ref))
            found = [(ref, image_id)] if image_id else []
        else:
            found = [(Reference(ref.name, name.rpartition(":")[2]), image_id)
                     for image_id, names in self.images.catalog.all_names().items() for name in names
                     if "@" not in name and name.rpartition(":")[0] == ref.name]
        if not found:
            raise NotFound(f"An image does not exist locally with the tag: {ref.familiar_name}")
        return sorted(found, key=lambda item: item[0].tag or "")

    def push(self, ref: Reference) -> None:
        tagged = self.tagged(ref)
        self.progress.status(f"The push refers to repository [{ref.name}]")
        host, _, path = ref.name.partition("/")
        with Registry(self.policy, host, self.credentials) as registry, self.images.refs.lease("push"):
            repository = Repository(registry, path, push=True)
            for name, image_id in tagged:
                self._push_image(repository, name, image_id)

    def _push_image(self, repository: Repository, ref: Reference, image_id: str) -> None:
        config = self.images.image_config(image_id)
        chains = chain_ids(list(config["rootfs"]["diff_ids"]))
        layers = [self.images.layers.get(chain) for chain in chains]
        for layer in reversed(layers):
            self.progress.layer(short(layer.diff_id), "Preparing")
        for layer in list(reversed(layers))[UPLOADS:]:
            self.progress.layer(short(layer.diff_id), "Waiting")
        with ThreadPoolExecutor(UPLOADS, thread_name_prefix="push") as pool:
            futures = [pool.submit(contextvars.copy_context().run, self._push_layer, repository, layer)
                       for layer in layers]
            descriptors = [future.result() for future in futures]
        config_bytes = self.images.blobs.read(image_id)
        if not repository.has_blob(image_id):
            repository.put_blob(config_bytes, image_id)
        oci = any(d.media_type not in (LAYER_TYPES[GZIP],) for d in descriptors)
        config_descriptor = docs.Descriptor(docs.OCI_CONFIG if oci else docs.DOCKER_CONFIG, image_id, len(config_bytes))
        manifest = docs.canonical(docs.manifest(config_descriptor, descriptors, oci=oci))
        media_type = docs.OCI_MANIFEST if oci else docs.DOCKER_MANIFEST
        tag = ref.tag or "latest"
        repository.put_manifest(tag, manifest, media_type)
        digest = self.images.blobs.put(manifest)
        self.images.add_repo_digest(image_id, f"{ref.name}@{digest}")
        self.progress.status(f"{tag}: digest: {digest} size: {len(manifest)}")
        self.progress.send({"progressDetail": {}, "aux": {"Tag": tag, "Digest": digest, "Size": len(manifest)}})

    def _push_layer(self, repository: Repository, layer: Layer) -> docs.Descriptor:
        """Make the registry hold the layer; the descriptor of the blob it holds."""
        id = short(layer.diff_id)
        registry = repository.registry.host
        known = self.sources.of(layer.diff_id)
        if layer.blob_stored:
            known.insert(0, Source(layer.diff_id, layer.blob, LAYER_TYPES[layer.compression or GZIP],
                                   layer.blob_size, "", ""))
        for source in known:  # the same bytes as before, where the registry may have them already
            if (source.registry, source.repository) == (registry, repository.path) or not source.registry:
                if repository.has_blob(source.digest):
                    self.progress.layer(id, "Layer already exists")
                    return self._sent(repository, source)
        for source in known:
            if source.registry == registry and source.repository != repository.path:
                if repository.start_upload(mount=source.digest, source=source.repository) is None:
                    self.progress.layer(id, f"Mounted from {source.repository}")
                    return self._sent(repository, source)
        stored = next((s for s in known if self.images.blobs.exists(s.digest)), None)
        if stored is not None:
            self._upload(repository, id, self._stored_chunks(stored.digest), stored.size, stored.digest)
            return self._sent(repository, stored)
        return self._sent(repository, self._compress_and_upload(repository, id, layer))

    def _sent(self, repository: Repository, source: Source) -> docs.Descriptor:
        self.sources.remember(Source(source.diff_id, source.digest, source.media_type, source.size,
                                     repository.registry.host, repository.path))
        return docs.Descriptor(source.media_type, source.digest, source.size)

    def _upload(self, repository: Repository, id: str, chunks: Iterator[bytes], total: int, digest: str) -> None:
        location = repository.start_upload()
        assert location is not None
        repository.upload(location, self.progress.counted(chunks, id, "Pushing", total), lambda: digest)
        self.progress.layer(id, "Pushed")

    def _stored_chunks(self, digest: str) -> Iterator[bytes]:
        with self.images.blobs.open(digest) as blob:
            while data := blob.read(CHUNK):
                yield data

    def _compress_and_upload(self, repository: Repository, id: str, layer: Layer) -> Source:
        """gzip the layer's tar while sending it, keeping the compressed bytes as a local blob."""
        writer = self.images.blobs.writer()
        try:
            location = repository.start_upload()
            assert location is not None
            tar_chunks = self.progress.counted(self._tar_chunks(layer), id, "Pushing", layer.tar_size)
            sent = repository.upload(location, _gzipped(tar_chunks, writer.write), lambda: writer.commit())
        finally:
            writer.close()
        with self.images.db.transaction() as conn:  # kept as long as the layer is
            self.images.refs.add_edges(conn, key(LAYER_KIND, layer.chain_id), [key("blob", sent)])
        self.progress.layer(id, "Pushed")
        return Source(layer.diff_id, sent, LAYER_TYPES[GZIP], writer.size, "", "")

    def _tar_chunks(self, layer: Layer) -> Iterator[bytes]:
        with self.images.layers.open_tar(layer.chain_id) as tar:
            while data := tar.read(COMPRESS_INPUT):
                yield data


def _gzipped(chunks: Iterator[bytes], keep: Callable[[bytes], object]) -> Iterator[bytes]:
    """The gzip stream of `chunks`, each piece also handed to `keep`."""
    compressor = isal_zlib.compressobj(GZIP_LEVEL, isal_zlib.DEFLATED, GZIP_WBITS)
    for data in chunks:
        if out := compressor.compress(data):
            keep(out)
            yield out
    out = compressor.flush()
    keep(out)
    yield out
