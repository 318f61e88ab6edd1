"""`garbage-collect`: blobs nothing references go, what a tag (or, without --delete-untagged, any
manifest) needs stays, and a push in flight is not collected under it."""
from __future__ import annotations

import os
import time

from berth.registry import gc
from tests.registry.conftest import OCI_INDEX, OCI_MANIFEST, RunningRegistry, canonical, descriptor, digest_of


def _age(registry: RunningRegistry, seconds: float = 7200) -> None:
    """Make everything stored look `seconds` old (the collector spares what is newer than its grace)."""
    past = time.time() - seconds
    for directory, _dirs, files in os.walk(registry.config.root):
        for name in files:
            os.utime(os.path.join(directory, name), (past, past))


def test_blobs_no_manifest_references_are_removed(registry: RunningRegistry) -> None:
    client = registry.client()
    manifest, document = client.push_image("app", "v1", layer=b"kept layer")
    stray = client.push_blob("app", b"pushed, never referenced")
    _age(registry)
    report = gc.collect(registry.app.storage)
    assert report.blobs == [stray]
    assert report.links == {"app": [stray]}
    assert client.request("GET", f"/v2/app/blobs/{stray}").status == 404
    for needed in (manifest, document["config"]["digest"], document["layers"][0]["digest"]):
        assert registry.app.storage.blobs.exists(needed)
    assert client.request("GET", "/v2/app/manifests/v1").status == 200


def test_untagged_manifests_stay_unless_delete_untagged(registry: RunningRegistry) -> None:
    client = registry.client()
    old, old_document = client.push_image("app", "latest", layer=b"old")
    client.push_image("app", "latest", layer=b"new")
    _age(registry)
    assert gc.collect(registry.app.storage).blobs == []
    report = gc.collect(registry.app.storage, delete_untagged=True)
    assert report.manifests == {"app": [old]}
    assert set(report.blobs) == {old, old_document["layers"][0]["digest"]}
    assert client.request("GET", f"/v2/app/manifests/{old}").status == 404
    assert client.request("GET", "/v2/app/manifests/latest").status == 200


def test_delete_untagged_keeps_an_index_children_and_referrers(registry: RunningRegistry) -> None:
    client = registry.client()
    child, child_document = client.push_image("app")
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [descriptor(OCI_MANIFEST, canonical(child_document))]}
    assert client.push_manifest("app", "multi", index).status == 201
    referrer, _ = client.push_image("app", layer=b"signature", subject=descriptor(OCI_MANIFEST, canonical(child_document)))
    _age(registry)
    report = gc.collect(registry.app.storage, delete_untagged=True)
    assert report.manifests == {} and report.blobs == []
    assert client.request("GET", f"/v2/app/manifests/{child}").status == 200
    assert client.request("GET", f"/v2/app/manifests/{referrer}").status == 200


def test_a_recent_push_is_spared(registry: RunningRegistry) -> None:
    client = registry.client()
    digest = client.push_blob("app", b"manifest comes next")
    assert gc.collect(registry.app.storage).blobs == []
    assert client.request("GET", f"/v2/app/blobs/{digest}").status == 200


def test_a_blob_another_repository_needs_stays(registry: RunningRegistry) -> None:
    client = registry.client()
    _, document = client.push_image("keeper", "v1", layer=b"shared")
    layer = document["layers"][0]["digest"]
    assert client.request("POST", f"/v2/other/blobs/uploads/?mount={layer}&from=keeper").status == 201
    _age(registry)
    report = gc.collect(registry.app.storage)
    assert report.links == {"other": [layer]} and report.blobs == []
    assert client.request("GET", f"/v2/keeper/blobs/{layer}").status == 200


def test_dry_run_removes_nothing(registry: RunningRegistry) -> None:
    client = registry.client()
    stray = client.push_blob("app", b"stray")
    _age(registry)
    assert gc.collect(registry.app.storage, dry_run=True).blobs == [stray]
    assert client.request("GET", f"/v2/app/blobs/{stray}").status == 200


def test_idle_upload_sessions_expire(registry: RunningRegistry) -> None:
    client = registry.client()
    location = client.request("POST", "/v2/app/blobs/uploads/").header("Location") or ""
    client.request("PATCH", location, b"abandoned")
    registry.app.close_idle_uploads(0)
    _age(registry, 2 * 24 * 3600)
    report = gc.collect(registry.app.storage)
    assert report.uploads == [location.rsplit("/", 1)[1]]
    assert registry.app.storage.blobs.ingests() == []
    assert client.request("GET", location).status == 404
    assert digest_of(b"abandoned") not in list(registry.app.storage.blobs.digests())
