"""Content discovery: the spec's "Listing Tags" (with n, last and Link), the catalog, and "Listing
Referrers" (with the artifactType filter, and OCI-Subject on push)."""
from __future__ import annotations

from tests.registry.conftest import OCI_INDEX, OCI_MANIFEST, Client, canonical, descriptor

TAGS = ["v1", "B", "a", "latest", "v10", "v2"]


def _tagged(client: Client) -> None:
    digest, _ = client.push_image("app")
    manifest = client.request("GET", f"/v2/app/manifests/{digest}")
    for tag in TAGS:
        assert client.request("PUT", f"/v2/app/manifests/{tag}", manifest.body,
                              {"Content-Type": OCI_MANIFEST}).status == 201


def test_tags_are_listed_in_lexical_order(client: Client) -> None:
    _tagged(client)
    reply = client.request("GET", "/v2/app/tags/list")
    assert reply.status == 200
    assert reply.json() == {"name": "app", "tags": ["a", "B", "latest", "v1", "v10", "v2"]}


def test_n_limits_the_list_and_link_leads_to_the_next_page(client: Client) -> None:
    _tagged(client)
    pages, path = [], "/v2/app/tags/list?n=4"
    while path:
        reply = client.request("GET", path)
        pages.append(reply.json()["tags"])
        link = reply.header("Link")
        path = link[1:link.index(">")] if link else ""
        assert not link or link.endswith('rel="next"')
    assert pages == [["a", "B", "latest", "v1"], ["v10", "v2"]]


def test_n_exactly_the_count_has_no_link_and_n_zero_is_empty(client: Client) -> None:
    _tagged(client)
    whole = client.request("GET", "/v2/app/tags/list?n=6")
    assert len(whole.json()["tags"]) == 6 and whole.header("Link") is None
    zero = client.request("GET", "/v2/app/tags/list?n=0")
    assert zero.json()["tags"] == [] and zero.header("Link") is None


def test_last_starts_after_that_tag(client: Client) -> None:
    _tagged(client)
    assert client.request("GET", "/v2/app/tags/list?last=latest").json()["tags"] == ["v1", "v10", "v2"]
    assert client.request("GET", "/v2/app/tags/list?n=1&last=v1").json()["tags"] == ["v10"]


def test_an_invalid_n_is_400(client: Client) -> None:
    _tagged(client)
    assert client.request("GET", "/v2/app/tags/list?n=-1").status == 400


def test_catalog_lists_repositories_with_pagination(client: Client) -> None:
    for name in ("zeta", "alpha/one", "alpha/two", "mid"):
        client.push_blob(name, b"x")
    assert client.request("GET", "/v2/_catalog").json() == {"repositories": ["alpha/one", "alpha/two", "mid", "zeta"]}
    first = client.request("GET", "/v2/_catalog?n=2")
    assert first.json()["repositories"] == ["alpha/one", "alpha/two"]
    assert first.header("Link") == '</v2/_catalog?n=2&last=alpha/two>; rel="next"'
    assert client.request("GET", "/v2/_catalog?n=2&last=alpha/two").json()["repositories"] == ["mid", "zeta"]


def _artifact(client: Client, subject: dict, artifact_type: str, note: str) -> str:
    """An untagged artifact manifest whose subject is `subject`; its digest."""
    digest, _ = client.push_image("app", layer=note.encode(), artifactType=artifact_type, subject=subject,
                                  annotations={"note": note})
    return digest


def test_put_with_a_subject_answers_oci_subject(client: Client) -> None:
    subject_digest, subject = client.push_image("app", "v1")
    config = client.push_blob("app", b"{}")
    referrer = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "artifactType": "application/vnd.example.sbom",
                "config": descriptor("application/vnd.oci.empty.v1+json", b"{}", config), "layers": [],
                "subject": descriptor(OCI_MANIFEST, canonical(subject))}
    reply = client.push_manifest("app", "sbom", referrer)
    assert reply.status == 201 and reply.header("OCI-Subject") == subject_digest


def test_referrers_lists_the_manifests_whose_subject_is_the_digest(client: Client) -> None:
    subject_digest, subject = client.push_image("app", "v1")
    sbom = _artifact(client, descriptor(OCI_MANIFEST, canonical(subject)), "application/vnd.example.sbom", "s")
    signature = _artifact(client, descriptor(OCI_MANIFEST, canonical(subject)), "application/vnd.example.sig", "g")
    reply = client.request("GET", f"/v2/app/referrers/{subject_digest}")
    assert reply.status == 200 and reply.header("Content-Type") == OCI_INDEX
    index = reply.json()
    assert index["schemaVersion"] == 2 and index["mediaType"] == OCI_INDEX
    by_digest = {d["digest"]: d for d in index["manifests"]}
    assert set(by_digest) == {sbom, signature}
    assert by_digest[sbom]["artifactType"] == "application/vnd.example.sbom"
    assert by_digest[sbom]["annotations"] == {"note": "s"}
    assert by_digest[sbom]["mediaType"] == OCI_MANIFEST
    size = int(client.request("HEAD", f"/v2/app/manifests/{sbom}").header("Content-Length") or 0)
    assert by_digest[sbom]["size"] == size


def test_referrers_filtered_by_artifact_type_say_so(client: Client) -> None:
    subject_digest, subject = client.push_image("app", "v1")
    sbom = _artifact(client, descriptor(OCI_MANIFEST, canonical(subject)), "application/vnd.example.sbom", "s")
    _artifact(client, descriptor(OCI_MANIFEST, canonical(subject)), "application/vnd.example.sig", "g")
    reply = client.request("GET", f"/v2/app/referrers/{subject_digest}?artifactType=application/vnd.example.sbom")
    assert reply.header("OCI-Filters-Applied") == "artifactType"
    assert [d["digest"] for d in reply.json()["manifests"]] == [sbom]


def test_referrers_may_be_pushed_before_their_subject(client: Client) -> None:
    absent = descriptor(OCI_MANIFEST, b'{"not":"pushed"}')
    referrer = _artifact(client, absent, "application/vnd.example.sbom", "early")
    reply = client.request("GET", f"/v2/app/referrers/{absent['digest']}")
    assert [d["digest"] for d in reply.json()["manifests"]] == [referrer]


def test_no_referrers_is_an_empty_index_not_404(client: Client) -> None:
    digest, _ = client.push_image("app", "v1")
    for name in ("app", "unknown"):
        reply = client.request("GET", f"/v2/{name}/referrers/{digest}")
        assert reply.status == 200 and reply.json()["manifests"] == []


def test_referrers_of_an_invalid_digest_is_400(client: Client) -> None:
    assert client.request("GET", "/v2/app/referrers/sha256:xyz").status == 400


def test_a_deleted_referrer_leaves_the_list(client: Client) -> None:
    subject_digest, subject = client.push_image("app", "v1")
    sbom = _artifact(client, descriptor(OCI_MANIFEST, canonical(subject)), "application/vnd.example.sbom", "s")
    assert client.request("DELETE", f"/v2/app/manifests/{sbom}").status == 202
    assert client.request("GET", f"/v2/app/referrers/{subject_digest}").json()["manifests"] == []
