"""Pushing and pulling blobs: the spec's "Pulling blobs", "Pushing blobs" (monolithic, single POST,
chunked), "Mounting a blob", "Deleting Blobs", and what must never become visible."""
from __future__ import annotations

import threading

from tests.registry.conftest import Client, RunningRegistry, digest_of


def test_post_then_put_pushes_a_blob_monolithically(client: Client) -> None:
    started = client.request("POST", "/v2/app/blobs/uploads/")
    assert started.status == 202
    location = started.header("Location")
    assert location and started.header("Docker-Upload-UUID") in location
    data = b"hello blob"
    done = client.request("PUT", f"{location}?digest={digest_of(data)}", data)
    assert done.status == 201
    assert done.header("Location") == f"/v2/app/blobs/{digest_of(data)}"
    assert done.header("Docker-Content-Digest") == digest_of(data)
    pulled = client.request("GET", done.header("Location") or "")
    assert (pulled.status, pulled.body) == (200, data)
    assert pulled.header("Docker-Content-Digest") == digest_of(data)


def test_a_single_post_with_the_digest_pushes_a_blob(client: Client) -> None:
    data = b"one request"
    reply = client.request("POST", f"/v2/app/blobs/uploads/?digest={digest_of(data)}", data)
    assert reply.status == 201
    assert reply.header("Location") == f"/v2/app/blobs/{digest_of(data)}"
    assert client.request("GET", f"/v2/app/blobs/{digest_of(data)}").body == data


def test_head_gives_digest_and_length_without_a_body(client: Client) -> None:
    digest = client.push_blob("app", b"x" * 1000)
    reply = client.request("HEAD", f"/v2/app/blobs/{digest}")
    assert reply.status == 200 and reply.body == b""
    assert reply.header("Content-Length") == "1000"
    assert reply.header("Docker-Content-Digest") == digest


def test_an_unknown_blob_is_404_blob_unknown(client: Client) -> None:
    client.push_blob("app", b"something")
    for method in ("GET", "HEAD"):
        reply = client.request(method, f"/v2/app/blobs/{digest_of(b'other')}")
        assert reply.status == 404
    assert client.request("GET", f"/v2/app/blobs/{digest_of(b'other')}").error_codes == ["BLOB_UNKNOWN"]


def test_a_blob_is_visible_only_in_the_repository_that_linked_it(client: Client) -> None:
    digest = client.push_blob("one", b"private")
    client.push_blob("two", b"else")
    assert client.request("GET", f"/v2/two/blobs/{digest}").status == 404


def test_chunks_in_order_make_the_blob(client: Client) -> None:
    data = bytes(range(256)) * 1000
    location = client.request("POST", "/v2/app/blobs/uploads/", b"", {"Content-Length": "0"}).header("Location")
    chunks = [data[:100_000], data[100_000:200_000], data[200_000:]]
    offset = 0
    for chunk in chunks:
        reply = client.request("PATCH", location or "", chunk, {
            "Content-Type": "application/octet-stream", "Content-Range": f"{offset}-{offset + len(chunk) - 1}"})
        assert reply.status == 202, reply.body
        offset += len(chunk)
        assert reply.header("Range") == f"0-{offset - 1}"
        location = reply.header("Location")
    done = client.request("PUT", f"{location}?digest={digest_of(data)}")
    assert done.status == 201
    assert client.request("GET", f"/v2/app/blobs/{digest_of(data)}").body == data


def test_the_last_chunk_may_come_with_the_closing_put(client: Client) -> None:
    data = b"abcdefghij"
    location = client.request("POST", "/v2/app/blobs/uploads/").header("Location")
    client.request("PATCH", location or "", data[:4], {"Content-Range": "0-3"})
    done = client.request("PUT", f"{location}?digest={digest_of(data)}", data[4:], {"Content-Range": "4-9"})
    assert done.status == 201
    assert client.request("GET", f"/v2/app/blobs/{digest_of(data)}").body == data


def test_a_chunk_without_content_range_is_appended(client: Client) -> None:
    location = client.request("POST", "/v2/app/blobs/uploads/").header("Location")
    for part in (b"stream", b"ed"):
        assert client.request("PATCH", location or "", part).status == 202
    assert client.request("PUT", f"{location}?digest={digest_of(b'streamed')}").status == 201


def test_an_out_of_order_chunk_is_416_and_the_status_tells_where_to_go_on(client: Client) -> None:
    location = client.request("POST", "/v2/app/blobs/uploads/").header("Location") or ""
    client.request("PATCH", location, b"12345", {"Content-Range": "0-4"})
    skipped = client.request("PATCH", location, b"abc", {"Content-Range": "10-12"})
    assert skipped.status == 416
    status = client.request("GET", location)
    assert status.status == 204
    assert status.header("Range") == "0-4"
    assert status.header("Location") == location
    assert status.header("Docker-Upload-UUID") in location
    assert client.request("PATCH", location, b"678", {"Content-Range": "5-7"}).status == 202


def test_a_new_upload_reports_range_0_0(client: Client) -> None:
    location = client.request("POST", "/v2/app/blobs/uploads/").header("Location") or ""
    assert client.request("GET", location).header("Range") == "0-0"


def test_an_unknown_or_cancelled_upload_is_blob_upload_unknown(client: Client) -> None:
    assert client.request("GET", f"/v2/app/blobs/uploads/{'a' * 32}").error_codes == ["BLOB_UPLOAD_UNKNOWN"]
    location = client.request("POST", "/v2/app/blobs/uploads/").header("Location") or ""
    client.request("PATCH", location, b"data")
    assert client.request("DELETE", location).status == 204
    reply = client.request("PATCH", location, b"more")
    assert (reply.status, reply.error_codes) == (404, ["BLOB_UPLOAD_UNKNOWN"])


def test_an_upload_belongs_to_its_repository(client: Client) -> None:
    location = client.request("POST", "/v2/app/blobs/uploads/").header("Location") or ""
    other = location.replace("/v2/app/", "/v2/other/")
    assert client.request("PATCH", other, b"data").error_codes == ["BLOB_UPLOAD_UNKNOWN"]


def test_a_wrong_digest_is_digest_invalid_and_the_blob_never_visible(registry: RunningRegistry, client: Client) -> None:
    claimed = digest_of(b"what the client claims")
    location = client.request("POST", "/v2/app/blobs/uploads/").header("Location")
    reply = client.request("PUT", f"{location}?digest={claimed}", b"something else")
    assert (reply.status, reply.error_codes) == (400, ["DIGEST_INVALID"])
    single = client.request("POST", f"/v2/app/blobs/uploads/?digest={claimed}", b"something else")
    assert (single.status, single.error_codes) == (400, ["DIGEST_INVALID"])
    assert client.request("HEAD", f"/v2/app/blobs/{claimed}").status == 404
    store = registry.app.storage.blobs
    assert not store.exists(claimed) and not store.exists(digest_of(b"something else"))
    assert store.ingests() == []


def test_a_malformed_digest_is_400(client: Client) -> None:
    location = client.request("POST", "/v2/app/blobs/uploads/").header("Location")
    assert client.request("PUT", f"{location}?digest=sha256:nothex", b"x").status == 400
    assert client.request("GET", "/v2/app/blobs/md5:abc").error_codes == ["DIGEST_INVALID"]


def test_range_requests_give_206_and_out_of_range_416(client: Client) -> None:
    data = bytes(range(100))
    digest = client.push_blob("app", data)
    part = client.request("GET", f"/v2/app/blobs/{digest}", headers={"Range": "bytes=10-19"})
    assert (part.status, part.body) == (206, data[10:20])
    assert part.header("Content-Range") == "bytes 10-19/100"
    assert client.request("GET", f"/v2/app/blobs/{digest}", headers={"Range": "bytes=90-"}).body == data[90:]
    assert client.request("GET", f"/v2/app/blobs/{digest}", headers={"Range": "bytes=-5"}).body == data[95:]
    beyond = client.request("GET", f"/v2/app/blobs/{digest}", headers={"Range": "bytes=100-200"})
    assert beyond.status == 416
    assert beyond.header("Content-Range") == "bytes */100"


def test_mount_from_another_repository_is_201(client: Client) -> None:
    digest = client.push_blob("source", b"shared layer")
    reply = client.request("POST", f"/v2/target/blobs/uploads/?mount={digest}&from=source")
    assert reply.status == 201
    assert reply.header("Location") == f"/v2/target/blobs/{digest}"
    assert reply.header("Docker-Content-Digest") == digest
    assert client.request("GET", f"/v2/target/blobs/{digest}").body == b"shared layer"


def test_a_mount_that_cannot_be_made_starts_an_upload_instead(client: Client) -> None:
    client.push_blob("source", b"present")
    reply = client.request("POST", f"/v2/target/blobs/uploads/?mount={digest_of(b'absent')}&from=source")
    assert reply.status == 202 and reply.header("Location")
    data = b"absent"
    assert client.request("PUT", f"{reply.header('Location')}?digest={digest_of(data)}", data).status == 201


def test_delete_unlinks_a_blob(client: Client) -> None:
    digest = client.push_blob("app", b"to delete")
    assert client.request("DELETE", f"/v2/app/blobs/{digest}").status == 202
    assert client.request("GET", f"/v2/app/blobs/{digest}").status == 404
    assert client.request("DELETE", f"/v2/app/blobs/{digest}").status == 404


def test_delete_is_unsupported_unless_enabled(start_registry) -> None:  # type: ignore[no-untyped-def]
    client = start_registry().client()
    digest = client.push_blob("app", b"kept")
    reply = client.request("DELETE", f"/v2/app/blobs/{digest}")
    assert (reply.status, reply.error_codes) == (405, ["UNSUPPORTED"])


def test_concurrent_uploads_of_the_same_blob_all_succeed(registry: RunningRegistry) -> None:
    data = b"same content" * 100_000
    results: list[int] = []

    def push(name: str) -> None:
        client = registry.client()
        location = client.request("POST", f"/v2/{name}/blobs/uploads/").header("Location")
        results.append(client.request("PUT", f"{location}?digest={digest_of(data)}", data).status)

    threads = [threading.Thread(target=push, args=(f"repo{i % 2}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [201] * 8
    for name in ("repo0", "repo1"):
        assert registry.client().request("GET", f"/v2/{name}/blobs/{digest_of(data)}").body == data
    assert registry.app.storage.blobs.ingests() == []
