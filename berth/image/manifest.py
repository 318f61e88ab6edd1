"""Media types and the JSON documents that describe an image: config, manifest, index, layout."""
from __future__ import annotations

import json
from dataclasses import dataclass

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar"

MANIFEST_TYPES = (OCI_MANIFEST, DOCKER_MANIFEST)
INDEX_TYPES = (OCI_INDEX, DOCKER_MANIFEST_LIST)
LAYOUT_VERSION = "1.0.0"
IMAGE_NAME_ANNOTATION = "io.containerd.image.name"
REF_NAME_ANNOTATION = "org.opencontainers.image.ref.name"

@dataclass(frozen=True)
class Descriptor:
    media_type: str
    digest: str
    size: int
    annotations: dict[str, str] | None = None

    def to_json(self) -> dict:
        out: dict = {"mediaType": self.media_type, "digest": self.digest, "size": self.size}
        if self.annotations:
            out["annotations"] = self.annotations
        return out


def canonical(document: dict) -> bytes:
    """The bytes berth writes for a JSON document it creates (compact, keys in insertion order)."""
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def manifest(config: Descriptor, layers: list[Descriptor], oci: bool = True) -> dict:
    return {"schemaVersion": 2, "mediaType": OCI_MANIFEST if oci else DOCKER_MANIFEST,
            "config": config.to_json(), "layers": [layer.to_json() for layer in layers]}


def index(manifests: list[Descriptor]) -> dict:
    return {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [m.to_json() for m in manifests]}


def layout() -> dict:
    return {"imageLayoutVersion": LAYOUT_VERSION}
