"""Garbage collection: what a root reaches stays, the rest goes; leases protect work in progress."""
from __future__ import annotations

import hashlib
import threading

import pytest

from berth.store import BlobStore, Database, References
from berth.store.gc import SCHEMA, key


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.fixture
def store(tmp_path):
    db = Database(tmp_path / "berth.db", SCHEMA)
    return References(db, tmp_path / "gc.lock"), BlobStore(tmp_path)


def test_blobs_reachable_from_a_root_survive_and_the_rest_is_swept(store):
    refs, blobs = store
    kept, child, garbage = blobs.put(b"kept"), blobs.put(b"child"), blobs.put(b"garbage")
    with refs.db.transaction() as conn:
        refs.add_root(conn, "image:one", [key("blob", kept)])
        refs.add_edges(conn, key("blob", kept), [key("blob", child)])
    result = refs.collect({"blob": blobs.sweeper()})
    assert result.removed == {"blob": [garbage]}
    assert result.reclaimed == len(b"garbage")
    assert set(blobs.digests()) == {kept, child}


def test_removing_the_root_frees_everything_it_held(store):
    refs, blobs = store
    digest = blobs.put(b"data")
    with refs.db.transaction() as conn:
        refs.add_root(conn, "image:one", [key("blob", digest)])
    with refs.db.transaction() as conn:
        refs.remove_root(conn, "image:one")
    refs.collect({"blob": blobs.sweeper()})
    assert list(blobs.digests()) == []


def test_collection_waits_for_leases_or_gives_up_when_asked_not_to_wait(store):
    refs, blobs = store
    inside, release = threading.Event(), threading.Event()

    def writer():
        with refs.lease():
            blobs.put(b"in flight")
            inside.set()
            release.wait(10)

    thread = threading.Thread(target=writer)
    thread.start()
    inside.wait(10)
    try:
        assert refs.collect({"blob": blobs.sweeper()}, wait=False) is None
        assert len(list(blobs.digests())) == 1
    finally:
        release.set()
        thread.join()
    assert refs.collect({"blob": blobs.sweeper()}).removed == {"blob": [digest_of(b"in flight")]}


def test_ingest_files_left_by_a_crashed_writer_are_swept(store):
    refs, blobs = store
    writer = blobs.writer()
    writer.write(b"never committed")  # the process "dies" here: no commit, no abort
    writer._file.close()
    refs.collect({"blob": blobs.sweeper()})
    assert list(blobs.ingest_dir.iterdir()) == []


def test_a_failed_transaction_changes_nothing(store):
    refs, _ = store
    with pytest.raises(RuntimeError):
        with refs.db.transaction() as conn:
            refs.add_root(conn, "image:one", [])
            raise RuntimeError("boom")
    assert refs.reachable() == set()
