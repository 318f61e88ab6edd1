"""`docker load`: image archives from docker save (20.10 and the OCI-layout flavour of 25+), skopeo's
docker-archive, and OCI image layouts; the whole archive may be gzip, zstd, xz or bzip2 compressed.

The archive is read once, as a stream: every member that is a tar (a layer) is stored and unpacked
as it passes, small files (manifests, configs) are kept in memory. Then every image is checked
(configs parse, each layer's diff ID matches its config) before anything is recorded, so a bad
archive changes nothing: the layers it left unpublished are dropped, the rest is garbage.
"""
from __future__ import annotations

import io
import json
import os
import posixpath
import tarfile
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, BinaryIO

from berth.errdefs import BerthError
from berth.image import manifest as docs
from berth.image import reference
from berth.image.config import host_architecture
from berth.image.errors import InvalidImage, InvalidReference
from berth.layer import LayerError
from berth.layer.apply import OUT_OF_SPACE
from berth.layer.compression import decompressed, detect
from berth.layer.hashing import TailCheckingReader
from berth.layer.store import LAYER_KIND, Unpacked, chain_ids
from berth.store import digest as digests
from berth.store.gc import key

if TYPE_CHECKING:
    from berth.image.service import ImageService

SMALL_FILE_LIMIT = 16 << 20
MAX_LINK_HOPS = 40


@dataclass
class _Image:
    config: bytes
    layers: list[str]  # archive paths of the layer tars, bottom first
    names: list[str]  # full names to tag the image with
    layer_digests: list[str | None] = field(default_factory=list)  # OCI: the descriptors' digests


class _Contents:
    """What the archive held: small files in memory, layers unpacked, links between paths."""

    def __init__(self, service: ImageService) -> None:
        self.service = service
        self.files: dict[str, bytes] = {}
        self.unpacked: dict[str, Unpacked] = {}
        self.links: dict[str, str] = {}

    def resolve(self, path: str) -> str:
        path = _normalize(path)
        for _ in range(MAX_LINK_HOPS):
            if path not in self.links:
                return path
            path = self.links[path]
        raise InvalidImage(f"invalid archive: too many links at {path}")

    def file(self, path: str) -> bytes:
        resolved = self.resolve(path)
        if resolved not in self.files:
            raise InvalidImage(f"invalid archive: {path} not found")
        return self.files[resolved]

    def layer(self, path: str) -> Unpacked:
        resolved = self.resolve(path)
        if resolved not in self.unpacked:
            if resolved not in self.files:
                raise InvalidImage(f"invalid archive: layer {path} not found")
            self.unpacked[resolved] = self._unpack(path, io.BytesIO(self.files[resolved]))
        return self.unpacked[resolved]

    def _unpack(self, path: str, source: BinaryIO) -> Unpacked:
        try:
            return self.service.layers.unpack(source)
        except OSError as exc:
            if exc.errno in OUT_OF_SPACE:  # the disk's fault, not the archive's
                raise BerthError(f"write {exc.filename or path}: {os.strerror(exc.errno or 0).lower()}") from None
            raise InvalidImage(f"invalid archive: layer {path}: {exc}") from None
        except (LayerError, EOFError, tarfile.TarError) as exc:
            raise InvalidImage(f"invalid archive: layer {path}: {exc}") from None

    def read(self, stream: BinaryIO) -> None:
        reader = TailCheckingReader(stream)
        try:
            with tarfile.open(fileobj=reader, mode="r:") as tar:
                for member in tar:
                    self._add(tar, member)
                end = tar.offset
        except (tarfile.TarError, EOFError) as exc:
            raise InvalidImage(f"invalid archive: {exc}") from None
        if not reader.rest_is_padding(end):
            raise InvalidImage(f"invalid archive: unreadable tar header at byte {end}")

    def _add(self, tar: tarfile.TarFile, member: tarfile.TarInfo) -> None:
        name = _normalize(member.name)
        if member.issym():
            target = member.linkname if member.linkname.startswith("/") else \
                posixpath.join(posixpath.dirname(name), member.linkname)
            self.links[name] = _normalize(target)
        elif member.islnk():
            self.links[name] = _normalize(member.linkname)
        elif member.isreg():
            source = tar.extractfile(member)
            assert source is not None
            head = source.peek(512)[:512]  # type: ignore[attr-defined]
            if detect(head) or head[257:262] == b"ustar":
                self.unpacked[name] = self._unpack(member.name, source)  # type: ignore[arg-type]
            elif member.size <= SMALL_FILE_LIMIT:
                self.files[name] = source.read()

    def discard(self) -> None:
        for unpacked in self.unpacked.values():
            self.service.layers.discard(unpacked)


def _normalize(path: str) -> str:
    return posixpath.normpath("/" + path).lstrip("/")


def _json(data: bytes, what: str) -> object:
    try:
        return json.loads(data)
    except ValueError as exc:
        raise InvalidImage(f"invalid archive: {what} is not valid JSON: {exc}") from None


def _docker_images(contents: _Contents) -> list[_Image]:
    entries = _json(contents.file("manifest.json"), "manifest.json")
    if not isinstance(entries, list):
        raise InvalidImage("invalid archive: manifest.json is not a list")
    images = []
    for entry in entries:
        try:
            config_path, layers, tags = entry["Config"], list(entry["Layers"]), entry.get("RepoTags") or []
        except (KeyError, TypeError):
            raise InvalidImage("invalid archive: manifest.json entry lacks Config or Layers") from None
        images.append(_Image(contents.file(config_path), layers, [_name(tag) for tag in tags]))
    return images


def _name(text: str) -> str:
    try:
        ref = reference.parse(text)
    except InvalidReference as exc:
        raise InvalidImage(f"invalid archive: bad tag {text!r}: {exc}") from None
    return str(ref.with_default_tag())


def _oci_blob(contents: _Contents, descriptor: dict) -> bytes:
    try:
        digest = digests.validate(descriptor["digest"])
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidImage(f"invalid archive: bad descriptor {descriptor!r}: {exc}") from None
    data = contents.file(f"blobs/sha256/{digests.hex_of(digest)}")
    if digests.of_bytes(data) != digest:
        raise InvalidImage(f"invalid archive: blob {digest} does not match its digest")
    return data


def _oci_images(contents: _Contents) -> list[_Image]:
    index = _json(contents.file("index.json"), "index.json")
    images: list[_Image] = []
    for descriptor in (index.get("manifests") or []) if isinstance(index, dict) else []:
        images.extend(_oci_manifest_images(contents, descriptor, _oci_names(descriptor)))
    return images


def _oci_names(descriptor: dict) -> list[str]:
    annotations = descriptor.get("annotations") or {}
    name = annotations.get(docs.IMAGE_NAME_ANNOTATION)
    if not name:
        ref_name = annotations.get(docs.REF_NAME_ANNOTATION, "")
        name = ref_name if ("/" in ref_name or ":" in ref_name) else None
    return [_name(name)] if name else []


def _oci_manifest_images(contents: _Contents, descriptor: dict, names: list[str]) -> list[_Image]:
    document = _json(_oci_blob(contents, descriptor), f"manifest {descriptor.get('digest')}")
    if not isinstance(document, dict):
        raise InvalidImage(f"invalid archive: manifest {descriptor.get('digest')} is not an object")
    media_type = document.get("mediaType") or descriptor.get("mediaType")
    if media_type in docs.INDEX_TYPES or "manifests" in document:
        children = document.get("manifests") or []
        native = [c for c in children if (c.get("platform") or {}).get("architecture") == host_architecture()]
        chosen = native[:1] or children[:1]
        return [image for child in chosen for image in _oci_manifest_images(contents, child, names)]
    layers = document.get("layers") or []
    return [_Image(_oci_blob(contents, document.get("config") or {}),
                   [f"blobs/sha256/{digests.hex_of(layer['digest'])}" for layer in layers], names,
                   [layer["digest"] for layer in layers])]


def _plan(contents: _Contents, images: list[_Image]) -> None:
    """Check every image before anything is recorded."""
    for image in images:
        config = _json(image.config, "image config")
        diff_ids = ((config.get("rootfs") or {}).get("diff_ids") if isinstance(config, dict) else None)
        if not isinstance(diff_ids, list) or not all(isinstance(d, str) and digests.is_digest(d) for d in diff_ids):
            raise InvalidImage("invalid archive: image config has no valid rootfs.diff_ids")
        if len(diff_ids) != len(image.layers):
            raise InvalidImage(f"invalid archive: image config lists {len(diff_ids)} layers, "
                               f"the manifest {len(image.layers)}")
        for index, (path, diff_id) in enumerate(zip(image.layers, diff_ids, strict=True)):
            unpacked = contents.layer(path)
            if unpacked.diff_id != diff_id:
                raise InvalidImage(f"invalid archive: layer {path} has diff ID {unpacked.diff_id}, "
                                   f"the image config says {diff_id}")
            expected_blob = image.layer_digests[index] if image.layer_digests else None
            if expected_blob and unpacked.blob != expected_blob:
                raise InvalidImage(f"invalid archive: layer {path} does not match its digest {expected_blob}")


def load(service: ImageService, stream: BinaryIO) -> list[str]:
    """Load every image in the archive; returns Docker's messages. Call inside a lease."""
    contents = _Contents(service)
    try:
        plain, _ = decompressed(stream)
        contents.read(plain)
        if "manifest.json" in contents.files or "manifest.json" in contents.links:
            images = _docker_images(contents)
        elif "index.json" in contents.files:
            images = _oci_images(contents)
        else:
            raise InvalidImage("invalid archive: no manifest.json or index.json found")
        _plan(contents, images)
        to_record = []
        for image in images:
            diff_ids = json.loads(image.config)["rootfs"]["diff_ids"]
            parent = None
            for path, chain in zip(image.layers, chain_ids(diff_ids), strict=True):
                service.refs.protect(key(LAYER_KIND, chain))  # before relying on one that exists
                if not service.layers.exists(chain):
                    service.layers.publish(contents.layer(path), parent)
                parent = chain
            to_record.append((image.config, None, image.names))
        recorded = service.record_images(to_record)
    finally:
        contents.discard()
    messages = []
    for image, (image_id, moved) in zip(images, recorded, strict=True):
        for name in image.names:
            familiar = reference.parse(name).familiar
            if name in moved:
                messages.append(f"The image {familiar} already exists, renaming the old one with ID "
                                f"{moved[name]} to empty string")
            messages.append(f"Loaded image: {familiar}")
        if not image.names:
            messages.append(f"Loaded image ID: {image_id}")
    return messages
