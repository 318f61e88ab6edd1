"""Manifests: the spec's "Pulling manifests", "Pushing Manifests", "Checking if content exists" and
"Deleting tags / manifests", for OCI and Docker schema2 manifests and indexes."""
from __future__ import annotations

import json
import threading

from tests.registry.conftest import (
    DOCKER_MANIFEST,
    OCI_CONFIG,
    OCI_INDEX,
    OCI_MANIFEST,
    Client,
    RunningRegistry,
    canonical,
    descriptor,
    digest_of,
)

DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"


def test_put_by_tag_then_get_by_tag_and_by_digest(client: Client) -> None:
    digest, document = client.push_image("app", "v1")
    for reference in ("v1", digest):
        reply = client.request("GET", f"/v2/app/manifests/{reference}", headers={"Accept": OCI_MANIFEST})
        assert reply.status == 200
        assert reply.body == canonical(document)  # the bytes as pushed
        assert reply.header("Docker-Content-Digest") == digest
        assert reply.header("Content-Type") == OCI_MANIFEST


def test_put_answers_201_with_location_and_digest(client: Client) -> None:
    config = client.push_blob("app", b"{}")
    document = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": descriptor(OCI_CONFIG, b"{}", config),
                "layers": []}
    reply = client.push_manifest("app", "latest", document)
    assert reply.status == 201
    assert reply.header("Docker-Content-Digest") == digest_of(canonical(document))
    assert reply.header("Location") == f"/v2/app/manifests/{digest_of(canonical(document))}"


def test_the_bytes_are_stored_exactly_as_pushed(client: Client) -> None:
    config = client.push_blob("app", b"{}")
    config_descriptor = json.dumps(descriptor(OCI_CONFIG, b"{}", config))
    raw = f'{{\n  "schemaVersion": 2,\n  "mediaType": "{OCI_MANIFEST}",\n  "config": {config_descriptor},\n  "layers": []\n}}\n'.encode()
    assert client.request("PUT", "/v2/app/manifests/pretty", raw, {"Content-Type": OCI_MANIFEST}).status == 201
    reply = client.request("GET", "/v2/app/manifests/pretty")
    assert reply.body == raw and reply.header("Docker-Content-Digest") == digest_of(raw)


def test_put_by_digest_stores_an_untagged_manifest(client: Client) -> None:
    digest, _ = client.push_image("app")
    assert client.request("GET", f"/v2/app/manifests/{digest}").status == 200
    assert client.request("GET", "/v2/app/tags/list").json()["tags"] == []


def test_put_by_a_digest_that_is_not_the_manifests_is_digest_invalid(client: Client) -> None:
    config = client.push_blob("app", b"{}")
    document = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": descriptor(OCI_CONFIG, b"{}", config),
                "layers": []}
    reply = client.push_manifest("app", digest_of(b"something else"), document)
    assert (reply.status, reply.error_codes) == (400, ["DIGEST_INVALID"])


def test_head_gives_digest_type_and_length(client: Client) -> None:
    digest, document = client.push_image("app", "v1")
    reply = client.request("HEAD", "/v2/app/manifests/v1")
    assert reply.status == 200 and reply.body == b""
    assert reply.header("Content-Length") == str(len(canonical(document)))
    assert reply.header("Docker-Content-Digest") == digest
    assert client.request("HEAD", "/v2/app/manifests/v2").status == 404


def test_an_unknown_manifest_is_manifest_unknown(client: Client) -> None:
    client.push_image("app", "v1")
    for reference in ("nope", digest_of(b"nope")):
        reply = client.request("GET", f"/v2/app/manifests/{reference}")
        assert (reply.status, reply.error_codes) == (404, ["MANIFEST_UNKNOWN"])


def test_a_reference_that_is_neither_tag_nor_digest_names_no_manifest_so_404(client: Client) -> None:
    """A pull by a reference no manifest can have (an invalid tag, a malformed digest) finds nothing:
    404 MANIFEST_UNKNOWN for GET and HEAD, as for any manifest the repository lacks, not a 400."""
    client.push_image("app", "v1")
    for reference in (".not-a-tag", "-v1", "sha256:nothex", "md5:abc"):
        for method in ("GET", "HEAD"):
            reply = client.request(method, f"/v2/app/manifests/{reference}")
            assert reply.status == 404, (method, reference)
        assert client.request("GET", f"/v2/app/manifests/{reference}").error_codes == ["MANIFEST_UNKNOWN"]


def test_a_manifest_naming_blobs_the_repository_lacks_is_manifest_blob_unknown(client: Client) -> None:
    config = client.push_blob("other", b"{}")  # in another repository only
    document = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": descriptor(OCI_CONFIG, b"{}", config),
                "layers": [descriptor("application/vnd.oci.image.layer.v1.tar", b"missing")]}
    reply = client.push_manifest("app", "v1", document)
    assert (reply.status, reply.error_codes) == (400, ["MANIFEST_BLOB_UNKNOWN"])
    assert set(reply.json()["errors"][0]["detail"]["digests"]) == {config, digest_of(b"missing")}


def test_invalid_json_or_a_wrong_shape_is_manifest_invalid(client: Client) -> None:
    for body, content_type in ((b"{not json", OCI_MANIFEST), (b"[]", OCI_MANIFEST),
                               (b'{"schemaVersion": 2, "mediaType": "%s", "layers": []}' % OCI_MANIFEST.encode(),
                                OCI_MANIFEST),
                               (b'{"schemaVersion": 2, "mediaType": "%s"}' % OCI_INDEX.encode(), OCI_MANIFEST)):
        reply = client.request("PUT", "/v2/app/manifests/bad", body, {"Content-Type": content_type})
        assert (reply.status, reply.error_codes) == (400, ["MANIFEST_INVALID"]), body


def test_docker_schema2_manifest_and_manifest_list(client: Client) -> None:
    config, layer = b'{"os":"linux"}', b"docker layer"
    manifest = {"schemaVersion": 2, "mediaType": DOCKER_MANIFEST,
                "config": descriptor(DOCKER_CONFIG, config, client.push_blob("app", config)),
                "layers": [descriptor(DOCKER_LAYER, layer, client.push_blob("app", layer))]}
    assert client.push_manifest("app", "amd64", manifest).status == 201
    manifest_list = {"schemaVersion": 2, "mediaType": DOCKER_LIST, "manifests": [
        {**descriptor(DOCKER_MANIFEST, canonical(manifest)), "platform": {"architecture": "amd64", "os": "linux"}}]}
    assert client.push_manifest("app", "multi", manifest_list).status == 201
    reply = client.request("GET", "/v2/app/manifests/multi", headers={"Accept": f"{DOCKER_LIST}, {DOCKER_MANIFEST}"})
    assert reply.header("Content-Type") == DOCKER_LIST and reply.body == canonical(manifest_list)


def test_an_index_naming_a_manifest_the_repository_lacks_is_manifest_blob_unknown(client: Client) -> None:
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [descriptor(OCI_MANIFEST, b"{}")]}
    reply = client.push_manifest("app", "index", index)
    assert reply.error_codes == ["MANIFEST_BLOB_UNKNOWN"]


def test_accept_negotiation_refuses_a_type_the_client_does_not_take(client: Client) -> None:
    client.push_image("app", "v1")
    accepted = client.request("GET", "/v2/app/manifests/v1",
                              headers={"Accept": f"{DOCKER_MANIFEST}, {OCI_MANIFEST};q=0.9"})
    assert accepted.status == 200 and accepted.header("Content-Type") == OCI_MANIFEST
    assert client.request("GET", "/v2/app/manifests/v1", headers={"Accept": "*/*"}).status == 200
    refused = client.request("GET", "/v2/app/manifests/v1", headers={"Accept": DOCKER_MANIFEST})
    assert (refused.status, refused.error_codes) == (404, ["MANIFEST_UNKNOWN"])


def test_accept_given_in_several_headers_counts_them_all(registry: RunningRegistry) -> None:
    import http.client

    registry.client().push_image("app", "v1")
    conn = http.client.HTTPConnection("127.0.0.1", registry.port)
    conn.putrequest("GET", "/v2/app/manifests/v1")
    conn.putheader("Accept", DOCKER_MANIFEST)
    conn.putheader("Accept", OCI_MANIFEST)
    conn.endheaders()
    assert conn.getresponse().status == 200
    conn.close()


def test_the_content_type_is_what_was_pushed(client: Client) -> None:
    config = client.push_blob("app", b"{}")
    document = {"schemaVersion": 2, "config": descriptor(OCI_CONFIG, b"{}", config), "layers": []}  # no mediaType
    assert client.push_manifest("app", "v1", document, OCI_MANIFEST).status == 201
    assert client.request("GET", "/v2/app/manifests/v1").header("Content-Type") == OCI_MANIFEST


def test_a_media_type_field_differing_from_content_type_is_manifest_invalid(client: Client) -> None:
    config = client.push_blob("app", b"{}")
    document = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": descriptor(OCI_CONFIG, b"{}", config),
                "layers": []}
    assert client.push_manifest("app", "v1", document, DOCKER_MANIFEST).error_codes == ["MANIFEST_INVALID"]


def test_retagging_moves_the_tag(client: Client) -> None:
    first, _ = client.push_image("app", "latest", layer=b"one")
    second, _ = client.push_image("app", "latest", layer=b"two")
    assert client.request("GET", "/v2/app/manifests/latest").header("Docker-Content-Digest") == second
    assert client.request("GET", f"/v2/app/manifests/{first}").status == 200


def test_delete_a_tag_keeps_the_manifest(client: Client) -> None:
    digest, _ = client.push_image("app", "v1")
    assert client.request("DELETE", "/v2/app/manifests/v1").status == 202
    assert client.request("GET", "/v2/app/manifests/v1").status == 404
    assert client.request("GET", f"/v2/app/manifests/{digest}").status == 200
    assert client.request("DELETE", "/v2/app/manifests/v1").error_codes == ["MANIFEST_UNKNOWN"]


def test_delete_a_manifest_by_digest_removes_its_tags(client: Client) -> None:
    digest, _ = client.push_image("app", "v1")
    assert client.request("DELETE", f"/v2/app/manifests/{digest}").status == 202
    assert client.request("GET", f"/v2/app/manifests/{digest}").status == 404
    assert client.request("GET", "/v2/app/manifests/v1").status == 404
    assert client.request("GET", "/v2/app/tags/list").json()["tags"] == []


def test_delete_in_an_unknown_repository_is_404(client: Client) -> None:
    reply = client.request("DELETE", f"/v2/nothing/manifests/{digest_of(b'x')}")
    assert (reply.status, reply.error_codes) == (404, ["NAME_UNKNOWN"])


def test_manifest_delete_is_unsupported_unless_enabled(start_registry) -> None:  # type: ignore[no-untyped-def]
    client = start_registry().client()
    client.push_image("app", "v1")
    assert client.request("DELETE", "/v2/app/manifests/v1").status == 405


def test_a_manifest_over_4_mib_is_413(client: Client) -> None:
    reply = client.request("PUT", "/v2/app/manifests/big", b"{" + b" " * (4 << 20) + b"}",
                           {"Content-Type": OCI_MANIFEST})
    assert reply.status == 413


def test_concurrent_pushes_of_one_tag_leave_one_whole_manifest(registry: RunningRegistry) -> None:
    client = registry.client()
    config = client.push_blob("app", b"{}")
    documents = [{"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": descriptor(OCI_CONFIG, b"{}", config),
                  "layers": [], "annotations": {"n": str(i)}} for i in range(8)]
    statuses: list[int] = []
    threads = [threading.Thread(target=lambda d=d: statuses.append(registry.client().push_manifest("app", "t", d).status))
               for d in documents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [201] * 8
    reply = client.request("GET", "/v2/app/manifests/t")
    assert reply.body in {canonical(d) for d in documents}
    assert reply.header("Docker-Content-Digest") == digest_of(reply.body)
