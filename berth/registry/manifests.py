"""What the registry reads in a pushed manifest: its type, the blobs and manifests it references, its
subject, and the descriptor the referrers API lists it by. The bytes themselves are stored as pushed."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from berth.image.manifest import DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, INDEX_TYPES, OCI_INDEX, OCI_MANIFEST
from berth.registry.errors import MANIFEST_INVALID, RegistryError
from berth.store import digest as digests

SUPPORTED = (OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST)
MAX_SIZE = 4 << 20  # the spec asks registries to take manifests of at least 4 MiB


@dataclass
class Manifest:
    """A parsed manifest: `blobs` (config and layers) and `children` (an index's manifests) must be in
    the repository before it is; `subject` may come later (the spec lets referrers be pushed first)."""

    media_type: str
    digest: str
    size: int
    blobs: list[str] = field(default_factory=list)
    children: list[str] = field(default_factory=list)
    subject: str | None = None
    artifact_type: str | None = None
    annotations: dict[str, str] | None = None

    def record(self) -> dict[str, Any]:
        """What the repository keeps about a revision (its referrers' descriptor is made from it)."""
        record: dict[str, Any] = {"mediaType": self.media_type, "size": self.size}
        for key, value in (("subject", self.subject), ("artifactType", self.artifact_type),
                           ("annotations", self.annotations)):
            if value:
                record[key] = value
        return record


def media_type_of(content_type: str | None) -> str:
    """The media type of a Content-Type header, its parameters dropped."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def parse(data: bytes, content_type: str | None) -> Manifest:
    """Validate a pushed manifest (MANIFEST_INVALID if it is not one berth's registry takes)."""
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError) as err:
        raise _invalid(f"manifest is not valid JSON: {err}") from None
    if not isinstance(document, dict):
        raise _invalid("manifest is not a JSON object")
    if document.get("schemaVersion") != 2:
        raise _invalid("only schemaVersion 2 manifests are supported")
    declared = document.get("mediaType")
    media_type = media_type_of(content_type)
    if declared is not None and media_type not in ("", "application/octet-stream", "application/json") \
            and declared != media_type:
        raise _invalid(f"mediaType {declared!r} differs from Content-Type {media_type!r}")
    if media_type not in SUPPORTED:
        media_type = declared or (OCI_INDEX if "manifests" in document else OCI_MANIFEST)
    if media_type not in SUPPORTED:
        raise _invalid(f"unsupported manifest type {media_type!r}")
    manifest = Manifest(media_type, digests.of_bytes(data), len(data))
    if media_type in INDEX_TYPES:
        manifest.children = [_descriptor(d, "manifests[]") for d in _list(document, "manifests")]
        manifest.artifact_type = _string(document, "artifactType")
    else:
        config = document.get("config")
        manifest.blobs = [_descriptor(config, "config")] + [_descriptor(d, "layers[]") for d in _list(document, "layers")
                                                              if not (isinstance(d, dict) and d.get("urls"))]
        manifest.artifact_type = _string(document, "artifactType") or (config or {}).get("mediaType")
    if "subject" in document:
        manifest.subject = _descriptor(document["subject"], "subject")
    annotations = document.get("annotations")
    if annotations is not None and not isinstance(annotations, dict):
        raise _invalid("annotations must be an object")
    manifest.annotations = annotations
    return manifest


def _descriptor(value: Any, where: str) -> str:
    """The digest of a descriptor, checked to be one (a layer with `urls` lives elsewhere)."""
    if not isinstance(value, dict) or not isinstance(value.get("mediaType"), str) \
            or not isinstance(value.get("size"), int) or not digests.is_digest(str(value.get("digest"))):
        raise _invalid(f"{where} is not a valid descriptor")
    return str(value["digest"])


def _list(document: dict[str, Any], key: str) -> list[Any]:
    value = document.get(key, [])
    if not isinstance(value, list):
        raise _invalid(f"{key} must be a list")
    return value


def _string(document: dict[str, Any], key: str) -> str | None:
    value = document.get(key)
    if value is not None and not isinstance(value, str):
        raise _invalid(f"{key} must be a string")
    return value or None


def _invalid(message: str) -> RegistryError:
    return RegistryError(MANIFEST_INVALID, message)
