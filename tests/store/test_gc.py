"""Garbage collection: what a root reaches stays, the rest goes; leases protect work in progress."""
from __future__ import annotations

import hashlib
import os
import threading
import time

import pytest

from berth.store import BlobStore, Database, References
from berth.store.blobs import INGEST_EXPIRY
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


def test_a_writer_that_leases_a_blob_to_reuse_it_during_a_sweep_either_keeps_it_or_finds_it_gone(store):
    refs, blobs = store
    digest = blobs.put(b"no root holds this, but a load is about to reuse it")
    lease_id = refs.create_lease("load")
    sweeping, looked = threading.Event(), threading.Event()
    seen: list[bool] = []

    class Sweeping:  # the collection has decided and is about to remove when the writer comes
        def names(self):
            return blobs.sweeper().names()

        def remove(self, name):
            sweeping.set()
            looked.wait(0.5)
            return blobs.sweeper().remove(name)

    def reuse():
        sweeping.wait(10)
        refs.protect(key("blob", digest), lease_id=lease_id)  # lease it, then look (as BlobStore.put)
        seen.append(blobs.exists(digest))
        looked.set()

    writer = threading.Thread(target=reuse)
    writer.start()
    refs.collect({"blob": Sweeping()})
    writer.join(10)
    assert seen == [blobs.exists(digest)]  # what the writer saw is what there is: it makes it again if gone


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


def test_what_a_lease_releases_is_collected_and_what_it_still_holds_is_kept(store):
    refs, blobs = store
    lease_id = refs.create_lease("build")
    kept, dropped = blobs.put(b"the result"), blobs.put(b"a step thrown away")
    refs.protect(key("blob", kept), key("blob", dropped), lease_id=lease_id)
    refs.release(key("blob", dropped), lease_id=lease_id)
    assert refs.collect({"blob": blobs.sweeper()}).removed == {"blob": [dropped]}
    assert list(blobs.digests()) == [kept]


def test_an_anonymous_ingest_left_by_a_crashed_writer_is_swept(store):
    refs, blobs = store
    writer = blobs.writer()
    writer.write(b"never committed")  # the process "dies" here: no commit, no abort
    writer._file.close()
    refs.collect({"blob": blobs.sweeper()})
    assert list(blobs.ingest_dir.iterdir()) == []


def test_a_named_ingest_no_lease_holds_waits_a_day_to_be_resumed_then_is_swept(store):
    refs, blobs = store
    writer = blobs.writer("pull-crashed")
    writer.write(b"never committed")  # the process "dies" here: no commit, no abort
    writer.close()
    assert refs.collect({"blob": blobs.sweeper()}).removed == {}
    assert blobs.status("pull-crashed").offset == len(b"never committed")  # a pull can go on from here
    a_day_ago = time.time() - INGEST_EXPIRY - 60
    for path in [*blobs.ingest_path("pull-crashed").iterdir(), blobs.ingest_path("pull-crashed")]:
        os.utime(path, (a_day_ago, a_day_ago))
    assert refs.collect({"blob": blobs.sweeper()}).removed == {"blob": ["pull-crashed"]}
    assert blobs.ingests() == [] and list(blobs.ingest_dir.iterdir()) == []


def test_a_failed_transaction_changes_nothing(store):
    refs, _ = store
    with pytest.raises(RuntimeError):
        with refs.db.transaction() as conn:
            refs.add_root(conn, "image:one", [])
            raise RuntimeError("boom")
    assert refs.reachable() == set()
