"""`docker save`: one tar that is both a docker-archive (manifest.json, repositories) and an OCI
image layout (oci-layout, index.json, blobs/sha256/…), as Docker 25 writes it.

Docker 20.10 and skopeo read it through manifest.json, OCI tools through index.json. Layers are
written uncompressed and named by their diff IDs, so loading keeps image IDs and diff IDs.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, BinaryIO

from berth.image import manifest as docs
from berth.image import reference
from berth.image.errors import ImageNotFound
from berth.layer import Layer, chain_ids
from berth.layer.tarwriter import ArchiveWriter
from berth.store import digest as digests

if TYPE_CHECKING:
    from berth.image.service import ImageService


@dataclass
class _SavedImage:
    image_id: str
    names: list[str] = field(default_factory=list)  # full names (docker.io/library/busybox:latest)


def _select(service: ImageService, refs: list[str]) -> list[_SavedImage]:
    """Images to save and the tags to save them with; a bare repository name means all its tags."""
    selected: dict[str, _SavedImage] = {}

    def add(image_id: str, name: str | None) -> None:
        saved = selected.setdefault(image_id, _SavedImage(image_id))
        if name and name not in saved.names:
            saved.names.append(name)

    for text in refs:
        if digests.is_digest(text) or text.startswith("sha256:") or len(text) == 64:
            add(service.resolve(text), None)
            continue
        ref = reference.parse(text)
        if ref.tag is None and ref.digest is None:
            tagged = [(name, image_id) for image_id, names in service.catalog.all_names().items()
                      for name in names if "@" not in name and reference.parse(name).name == ref.name]
            for name, image_id in tagged:
                add(image_id, name)
            if not tagged:
                add(service.resolve(text), None)
            continue
        add(service.resolve(text), str(ref) if ref.tag else None)
    return list(selected.values())


def save(service: ImageService, refs: list[str], out: BinaryIO) -> None:
    images = _select(service, refs)
    if not images:
        raise ImageNotFound(" ".join(refs))
    archive = ArchiveWriter(out)
    archive.add_directory("blobs")
    archive.add_directory("blobs/sha256")
    written: set[str] = set()
    manifest_json: list[dict] = []
    repositories: dict[str, dict[str | None, str]] = {}
    index_entries: list[docs.Descriptor] = []

    def blob_path(digest: str) -> str:
        return f"blobs/sha256/{digests.hex_of(digest)}"

    def add_blob(digest: str, data: bytes) -> None:
        if digest not in written:
            archive.add_bytes(blob_path(digest), data)
            written.add(digest)

    for image in images:
        config_bytes = service.blobs.read(image.image_id)
        config = json.loads(config_bytes)
        diff_ids = list((config.get("rootfs") or {}).get("diff_ids") or [])
        layer_descriptors = []
        for chain in chain_ids(diff_ids):
            layer = service.layers.get(chain)
            size = _add_layer(service, archive, layer, blob_path(layer.diff_id), written)
            layer_descriptors.append(docs.Descriptor(docs.OCI_LAYER, layer.diff_id, size))
        add_blob(image.image_id, config_bytes)
        manifest_bytes = docs.canonical(docs.manifest(
            docs.Descriptor(docs.OCI_CONFIG, image.image_id, len(config_bytes)), layer_descriptors))
        manifest_digest = digests.of_bytes(manifest_bytes)
        add_blob(manifest_digest, manifest_bytes)
        familiar = [reference.parse(name).familiar for name in image.names]
        manifest_json.append({"Config": blob_path(image.image_id), "RepoTags": familiar or None,
                              "Layers": [blob_path(d.digest) for d in layer_descriptors]})
        for name in image.names:
            ref = reference.parse(name)
            if diff_ids:
                repositories.setdefault(ref.familiar_name, {})[ref.tag] = digests.hex_of(diff_ids[-1])
            index_entries.append(docs.Descriptor(docs.OCI_MANIFEST, manifest_digest, len(manifest_bytes), {
                docs.IMAGE_NAME_ANNOTATION: name, docs.REF_NAME_ANNOTATION: ref.tag or ""}))
        if not image.names:
            index_entries.append(docs.Descriptor(docs.OCI_MANIFEST, manifest_digest, len(manifest_bytes)))
    archive.add_bytes("index.json", docs.canonical(docs.index(index_entries)))
    archive.add_bytes("manifest.json", docs.canonical(manifest_json))  # type: ignore[arg-type]
    archive.add_bytes("oci-layout", docs.canonical(docs.layout()))
    if repositories:
        archive.add_bytes("repositories", docs.canonical(repositories))
    archive.close()


def _add_layer(service: ImageService, archive: ArchiveWriter, layer: Layer, path: str, written: set[str]) -> int:
    """Write the layer's uncompressed tar once (verified against its diff ID on the way); returns its size."""
    if layer.diff_id not in written:
        with service.layers.open_tar(layer.chain_id) as source:
            archive.add_stream(path, layer.tar_size, source)
        written.add(layer.diff_id)
    return layer.tar_size
