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
    refs = References(Database(tmp_path / "berth.db", SCHEMA))
    return refs, BlobStore(tmp_path, protect=refs.protect)


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


def test_a_collection_during_a_lease_keeps_its_content_and_removes_the_garbage_without_waiting(store):
    refs, blobs = store
    garbage = blobs.put(b"garbage")
    inside, release = threading.Event(), threading.Event()

    def writer():
        with refs.lease("load"):
            blobs.put(b"in flight")
            inside.set()
            release.wait(10)

    thread = threading.Thread(target=writer)
    thread.start()
    inside.wait(10)
    try:
        assert refs.collect({"blob": blobs.sweeper()}).removed == {"blob": [garbage]}  # at once, lease or not
        assert list(blobs.digests()) == [digest_of(b"in flight")]
        [lease] = refs.leases()
        assert lease.id.startswith("load-") and key("blob", digest_of(b"in flight")) in lease.resources
    finally:
        release.set()
        thread.join()
    assert refs.leases() == []  # the lease ended with its block: what it held is garbage now
    assert refs.collect({"blob": blobs.sweeper()}).removed == {"blob": [digest_of(b"in flight")]}


def test_a_named_lease_outlives_requests_until_deleted_or_its_holder_dies(store):
    refs, blobs = store
    lease_id = refs.create_lease("pull")
    digest = blobs.put(b"layer being pulled")
    refs.protect(key("blob", digest), lease_id=lease_id)
    assert refs.collect({"blob": blobs.sweeper()}).removed == {}
    refs.delete_lease(lease_id)
    assert refs.collect({"blob": blobs.sweeper()}).removed == {"blob": [digest]}
    orphan = refs.create_lease("pull")
    refs.protect(key("blob", blobs.put(b"left by a crash")), lease_id=orphan)
    with refs.db.transaction() as conn:  # the process that held it is gone
        conn.execute("UPDATE gc_leases SET pid = ? WHERE id = ?", (2**22 + 1, orphan))
    assert refs.collect({"blob": blobs.sweeper()}).removed == {"blob": [digest_of(b"left by a crash")]}
    assert refs.leases() == []


def test_ingest_files_left_by_a_crashed_writer_are_swept(store):
    refs, blobs = store
    writer = blobs.writer("pull-crashed")
    writer.write(b"never committed")  # the process "dies" here: no commit, no abort
    writer.close()
    refs.collect({"blob": blobs.sweeper()})
    assert list(blobs.ingest_dir.iterdir()) == []


def test_a_failed_transaction_changes_nothing(store):
    refs, _ = store
    with pytest.raises(RuntimeError):
        with refs.db.transaction() as conn:
            refs.add_root(conn, "image:one", [])
            raise RuntimeError("boom")
    assert refs.reachable() == set()
