"""Interoperability: Debian's skopeo copies an OCI layout into berth's registry and back, unchanged."""
from __future__ import annotations

import gzip
import io
import json
import subprocess
import tarfile
from pathlib import Path

from tests.registry.conftest import OCI_CONFIG, OCI_INDEX, OCI_LAYER, OCI_MANIFEST, RunningRegistry, descriptor


def _blob(layout: Path, data: bytes, media_type: str) -> dict:
    found = descriptor(media_type, data)
    (layout / "blobs" / "sha256" / found["digest"][7:]).write_bytes(data)
    return found


def _layout(layout: Path) -> dict:
    """A one-layer image as an OCI layout; returns its manifest's descriptor."""
    (layout / "blobs" / "sha256").mkdir(parents=True)
    (layout / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w") as tar:
        content = b"hello from berth\n"
        info = tarfile.TarInfo("hello.txt")
        info.size, info.mtime = len(content), 0
        tar.addfile(info, io.BytesIO(content))
    layer = gzip.compress(archive.getvalue(), mtime=0)
    diff_id = descriptor("", archive.getvalue())["digest"]
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                         "rootfs": {"type": "layers", "diff_ids": [diff_id]}}).encode()
    manifest = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                           "config": _blob(layout, config, OCI_CONFIG),
                           "layers": [_blob(layout, layer, OCI_LAYER)]}).encode()
    found = _blob(layout, manifest, OCI_MANIFEST)
    (layout / "index.json").write_text(json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
        {**found, "annotations": {"org.opencontainers.image.ref.name": "v1"}}]}))
    return found


def _skopeo(*args: str) -> None:
    result = subprocess.run(["skopeo", "--insecure-policy", *args], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_skopeo_copies_an_oci_layout_into_the_registry_and_back(registry: RunningRegistry, tmp_path: Path) -> None:
    manifest = _layout(tmp_path / "source")
    target = f"docker://127.0.0.1:{registry.port}/berth/hello:v1"
    _skopeo("copy", "--dest-tls-verify=false", f"oci:{tmp_path / 'source'}:v1", target)
    client = registry.client()
    pushed = client.request("GET", "/v2/berth/hello/manifests/v1", headers={"Accept": OCI_MANIFEST})
    assert pushed.header("Docker-Content-Digest") == manifest["digest"]

    _skopeo("copy", "--src-tls-verify=false", target, f"oci:{tmp_path / 'back'}:v1")
    back = json.loads((tmp_path / "back" / "index.json").read_text())["manifests"][0]
    assert back["digest"] == manifest["digest"]
    for blob in (tmp_path / "source" / "blobs" / "sha256").iterdir():
        assert (tmp_path / "back" / "blobs" / "sha256" / blob.name).read_bytes() == blob.read_bytes()

    result = subprocess.run(["skopeo", "list-tags", "--tls-verify=false", f"docker://127.0.0.1:{registry.port}/berth/hello"],
                            capture_output=True, text=True, timeout=60, check=True)
    assert json.loads(result.stdout)["Tags"] == ["v1"]


def test_skopeo_pushes_docker_schema2_and_deletes(start_registry, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    registry = start_registry(delete_enabled=True)
    _layout(tmp_path / "source")
    target = f"docker://127.0.0.1:{registry.port}/berth/docker:v2"
    _skopeo("copy", "--dest-tls-verify=false", "--format", "v2s2", f"oci:{tmp_path / 'source'}:v1", target)
    pushed = registry.client().request("GET", "/v2/berth/docker/manifests/v2",
                                       headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"})
    assert pushed.header("Content-Type") == "application/vnd.docker.distribution.manifest.v2+json"
    _skopeo("delete", "--tls-verify=false", target)
    assert registry.client().request("GET", "/v2/berth/docker/manifests/v2").status == 404
