"""berth's client with other registries and other clients: Debian's docker-registry both ways,
skopeo and docker-py reading what berth pushed, and tampered content refused on pull."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import docker as dockerpy

from tests.distribution.test_push_pull import DIGEST_LINE, new_image
from tests.registries import docker_registry


def test_berth_pushes_to_docker_registry_and_pulls_back(daemon, tmp_path):
    with docker_registry(daemon.netns, tmp_path / "distribution") as registry:
        name = new_image(daemon, f"{registry}/interop/app:v1")
        pushed = daemon.berth("push", name).stdout
        assert "Pushed" in pushed and DIGEST_LINE.search(pushed)
        daemon.berth("rmi", name)
        pulled = daemon.berth("pull", name).stdout
        assert "Pull complete" in pulled
        assert daemon.berth("run", "--rm", name, "cat", "/made-by-test").stdout == f"{name}\n"


def _blob_file(storage: Path, digest: str) -> Path:
    hex = digest.removeprefix("sha256:")
    return storage / "data" / "docker" / "registry" / "v2" / "blobs" / "sha256" / hex[:2] / hex / "data"


def test_a_tampered_layer_or_manifest_is_refused_and_leaves_no_image(daemon, tmp_path):
    storage = tmp_path / "distribution"
    with docker_registry(daemon.netns, storage) as registry:
        name = new_image(daemon, f"{registry}/tamper/layer")
        digest = DIGEST_LINE.search(daemon.berth("push", name).stdout).group(2)
        manifest = json.loads(_blob_file(storage, digest).read_bytes())
        layer = _blob_file(storage, manifest["layers"][-1]["digest"])
        original = layer.read_bytes()
        layer.write_bytes(original[:-8] + bytes(8))  # the gzip trailer (CRC and size) zeroed
        daemon.berth("rmi", name)
        refused = daemon.berth("pull", name, check=False)
        assert refused.returncode == 1
        assert "verification failed" in refused.stderr or "digest" in refused.stderr
        assert daemon.berth("image", "inspect", name, check=False).returncode == 1

        layer.write_bytes(original)
        _blob_file(storage, digest).write_bytes(json.dumps(manifest, indent=1).encode())  # same JSON, other bytes
        changed = daemon.berth("pull", name, check=False)
        assert changed.returncode == 1 and "digest mismatch" in changed.stderr
        assert daemon.berth("image", "inspect", name, check=False).returncode == 1


def test_skopeo_reads_what_berth_pushed(daemon, registry, tmp_path):
    name = new_image(daemon, f"{registry}/skopeo/reads")
    daemon.berth("push", name)
    from berth.network import netns

    with netns.entered(str(daemon.netns)):
        copied = subprocess.run(["skopeo", "copy", "--src-tls-verify=false", f"docker://{name}",
                                 f"oci:{tmp_path / 'layout'}:copy"], capture_output=True, text=True, timeout=60)
    assert copied.returncode == 0, copied.stderr
    index = json.loads((tmp_path / "layout" / "index.json").read_text())
    assert index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"] == "copy"


def test_docker_py_pulls_and_pushes_through_berthd(daemon, registry):
    client = dockerpy.DockerClient(base_url=daemon.host)
    name = new_image(daemon, f"{registry}/dockerpy/app")
    lines = list(client.images.push(name, stream=True, decode=True))
    assert any("aux" in line and line["aux"]["Tag"] == "latest" for line in lines)
    client.images.remove(name)
    image = client.images.pull(name, tag="latest")
    assert f"{name}:latest" in image.tags
    assert image.attrs["RepoDigests"][0].startswith(f"{name}@sha256:")
