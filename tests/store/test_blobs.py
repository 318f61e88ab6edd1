"""The content store: blobs named by their sha256, written atomically, verified when read."""
from __future__ import annotations

import hashlib
import os

import pytest

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
