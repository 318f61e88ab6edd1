"""The API's base endpoint, its errors' shape, and names (the spec's "Determining Support", "Error Codes")."""
from __future__ import annotations

from tests.registry.conftest import Client


def test_base_endpoint_answers_200_with_the_api_version_header(client: Client) -> None:
    reply = client.request("GET", "/v2/")
    assert reply.status == 200
    assert reply.header("Docker-Distribution-API-Version") == "registry/2.0"


def test_errors_have_the_specs_json_shape(client: Client) -> None:
    reply = client.request("GET", f"/v2/app/blobs/sha256:{'0' * 64}")
    assert reply.status == 404
    error = reply.json()["errors"][0]
    assert error["code"] == "BLOB_UNKNOWN" and isinstance(error["message"], str)
    assert error["detail"] == {"digest": f"sha256:{'0' * 64}"}


def test_a_name_outside_the_grammar_is_name_invalid(client: Client) -> None:
    for name in ("Upper/case", "a//b", "-lead", "trail-"):
        reply = client.request("POST", f"/v2/{name}/blobs/uploads/")
        assert (reply.status, reply.error_codes) == (400, ["NAME_INVALID"]), name


def test_an_unknown_repository_is_name_unknown(client: Client) -> None:
    reply = client.request("GET", "/v2/nothing/here/tags/list")
    assert (reply.status, reply.error_codes) == (404, ["NAME_UNKNOWN"])
    reply = client.request("GET", "/v2/nothing/here/manifests/latest")
    assert (reply.status, reply.error_codes) == (404, ["NAME_UNKNOWN"])


def test_a_method_the_endpoint_does_not_have_is_unsupported(client: Client) -> None:
    reply = client.request("PATCH", "/v2/app/manifests/latest", b"{}")
    assert (reply.status, reply.error_codes) == (405, ["UNSUPPORTED"])


def test_names_may_have_several_components(client: Client) -> None:
    digest = client.push_blob("team/project/app", b"data")
    assert client.request("HEAD", f"/v2/team/project/app/blobs/{digest}").status == 200
