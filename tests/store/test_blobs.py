"""The content store: blobs named by their sha256, written atomically, verified when read."""
from __future__ import annotations

import hashlib
import os
import time

import pytest

from berth.errdefs import Conflict
from berth.store import BlobNotFound, BlobStore, DigestMismatch


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def test_a_blob_is_stored_under_its_digest_and_read_back(tmp_path):
    store = BlobStore(tmp_path)
    digest = store.put(b"hello")
    assert digest == sha(b"hello")
    assert store.read(digest) == b"hello"
    assert store.size(digest) == 5
    assert list(store.digests()) == [digest]
    info = store.info(digest)
    assert (info.digest, info.size) == (digest, 5) and info.created <= time.time()
    with pytest.raises(BlobNotFound):
        store.info(sha(b"never stored"))


def test_streaming_writes_hash_while_writing(tmp_path):
    store = BlobStore(tmp_path)
    with store.writer() as writer:
        for part in (b"a" * 1000, b"b" * 5000):
            writer.write(part)
        digest = writer.commit()
    assert digest == sha(b"a" * 1000 + b"b" * 5000)
    with store.open(digest) as reader:
        assert reader.read() == b"a" * 1000 + b"b" * 5000


def test_content_that_does_not_match_the_announced_digest_is_refused_and_not_kept(tmp_path):
    store = BlobStore(tmp_path)
    with pytest.raises(DigestMismatch):
        store.put(b"evil", expected=sha(b"good"))
    assert list(store.digests()) == []
    assert os.listdir(store.ingest_dir) == []


def test_a_blob_corrupted_on_disk_is_detected_on_read(tmp_path):
    store = BlobStore(tmp_path)
    digest = store.put(b"x" * 10_000)
    path = store.path(digest)
    os.chmod(path, 0o644)
    path.write_bytes(b"y" * 10_000)
    with pytest.raises(DigestMismatch):
        store.read(digest)
    with pytest.raises(DigestMismatch):
        store.verify(digest)
    with pytest.raises(DigestMismatch), store.open(digest) as reader:
        reader.read()


def test_a_missing_blob_is_reported_by_name(tmp_path):
    store = BlobStore(tmp_path)
    with pytest.raises(BlobNotFound, match="sha256:0+ not found"):
        store.read("sha256:" + "0" * 64)


def test_an_aborted_write_leaves_nothing_behind(tmp_path):
    store = BlobStore(tmp_path)
    with store.writer() as writer:
        writer.write(b"partial")
    assert list(store.digests()) == []
    assert os.listdir(store.ingest_dir) == []


def test_writing_the_same_content_twice_keeps_one_blob(tmp_path):
    store = BlobStore(tmp_path)
    assert store.put(b"same") == store.put(b"same")
    assert len(list(store.digests())) == 1


def test_an_interrupted_ingest_resumes_where_it_stopped(tmp_path):
    store = BlobStore(tmp_path)
    content = b"layer " * 100_000
    with store.writer("pull-layer", expected=digest_of(content), total=len(content)) as first:
        first.write(content[:100_000])
        assert [(status.ref, status.offset) for status in store.ingests()] == [("pull-layer", 100_000)]
        first.write(content[100_000:250_000])  # the connection drops here: no commit
    status = store.status("pull-layer")
    assert (status.offset, status.total, status.expected) == (250_000, len(content), digest_of(content))
    assert status.started <= status.updated <= time.time()
    again = BlobStore(tmp_path).writer("pull-layer")  # after a daemon restart, too
    assert again.offset == 250_000
    again.write(content[250_000:])
    assert again.commit() == digest_of(content) and store.read(digest_of(content)) == content
    assert store.ingests() == []


def test_one_writer_at_a_time_per_ingest_and_abort_drops_it(tmp_path):
    store = BlobStore(tmp_path)
    with store.writer("load-x") as writer:
        writer.write(b"partial")
        with pytest.raises(Conflict, match="ingest load-x is being written by another writer"):
            store.writer("load-x")
    assert [status.ref for status in store.ingests()] == ["load-x"]
    store.abort("load-x")
    assert store.ingests() == [] and store.writer("load-x").offset == 0


def test_a_resumed_ingest_whose_content_is_not_what_was_expected_is_refused(tmp_path):
    store = BlobStore(tmp_path)
    with store.writer("pull-y", expected=digest_of(b"right")) as writer:
        writer.write(b"wro")
    resumed = store.writer("pull-y")
    resumed.write(b"ng")
    with pytest.raises(DigestMismatch):
        resumed.commit()
    assert list(store.digests()) == [] and store.ingests() == []


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()
