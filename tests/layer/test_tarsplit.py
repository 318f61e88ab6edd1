"""A layer keeps its files and a tar-split; the exact tar it came from is made again from them."""
from __future__ import annotations

import gzip
import hashlib
import io
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from berth.layer import LayerError
from berth.layer.store import LayerStore
from berth.store import BlobStore, Database, DigestMismatch, References
from berth.store.gc import SCHEMA
from tests.layer.tarbuild import TarBuilder


@pytest.fixture
def layers(tmp_path: Path) -> LayerStore:
    root = tmp_path / "store"
    db = Database(root / "berth.db", SCHEMA)
    return LayerStore(root, BlobStore(root), References(db))


def stored_and_read_back(layers: LayerStore, archive: bytes) -> bytes:
    layer = layers.create(None, io.BytesIO(archive))
    assert layer.diff_id == "sha256:" + hashlib.sha256(archive).hexdigest()
    with layers.open_tar(layer.chain_id) as tar:
        return tar.read()


def test_an_ordinary_tar_comes_back_byte_for_byte_and_is_not_stored_twice(layers):
    archive = (TarBuilder().dir("etc").file("etc/passwd", b"root:x:0:0\n" * 100).symlink("link", "etc/passwd")
               .hardlink("etc/again", "etc/passwd").file("big", bytes(range(256)) * 9000)
               .file("empty").file("x" * 150 + "/long-name", b"pax path", uid=12345678).bytes())
    assert stored_and_read_back(layers, archive) == archive
    assert list(layers.blobs.digests()) == []  # no copy of the tar as a blob


def test_entries_replaced_or_whited_out_later_in_the_same_tar_still_come_back(layers):
    archive = (TarBuilder().file("dup", b"first version").file("dup", b"second").dir("d").file("d/inner", b"in d")
               .file("d", b"d is a file now").file("gone", b"soon deleted").file(".wh.gone").bytes())
    assert stored_and_read_back(layers, archive) == archive


@pytest.mark.any_user
def test_trailing_zeros_and_gnu_sparse_files_come_back(layers, tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    with open(source / "sparse", "wb") as sparse:
        sparse.truncate(8 << 20)
        sparse.seek(2 << 20)
        sparse.write(b"data")
    archive = tmp_path / "sparse.tar"
    subprocess.run(["tar", "--sparse", "--format=gnu", "-cf", archive, "-C", source, "sparse"], check=True)
    data = archive.read_bytes() + bytes(10240)
    assert stored_and_read_back(layers, data) == data


def test_a_compressed_archive_is_kept_as_its_blob_and_the_plain_tar_comes_back(layers):
    plain = TarBuilder().file("a", b"hello" * 1000).bytes()
    layer = layers.create(None, io.BytesIO(gzip.compress(plain)))
    assert layer.compression == "gzip" and layers.blobs.exists(layer.blob)
    with layers.open_tar(layer.chain_id) as tar:
        assert tar.read() == plain


def test_a_changed_file_makes_reading_the_tar_fail_and_verify_report_it(layers):
    layer = layers.create(None, TarBuilder().file("a", b"original").stream())
    assert layers.verify(layer.chain_id) == []
    (layers.diff_dir(layer.chain_id) / "a").write_bytes(b"tampered")
    with pytest.raises(DigestMismatch):
        with layers.open_tar(layer.chain_id) as tar:
            tar.read()
    [problem] = layers.verify(layer.chain_id)
    assert "does not match its diff ID" in problem


names = st.sampled_from(["a", "b", "d/a", "d/b", "d", "d/e/f"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(entries=st.lists(st.tuples(st.sampled_from(["file", "dir", "whiteout", "hardlink"]), names,
                                  st.binary(max_size=2000)), max_size=12))
def test_any_sequence_of_entries_comes_back_exactly(layers, entries):
    builder = TarBuilder()
    written: list[str] = []
    for kind, name, data in entries:
        if kind == "file":
            builder.file(name, data)
            written.append(name)
        elif kind == "dir":
            builder.dir(name)
        elif kind == "whiteout":
            parent, _, base = name.rpartition("/")
            builder.file(f"{parent}/.wh.{base}" if parent else f".wh.{base}")
        elif written:
            builder.hardlink(name, written[-1])
    archive = builder.bytes()
    try:
        layer = layers.create(None, io.BytesIO(archive))
    except LayerError:
        return  # archives the layer store refuses (a file where a directory must be) are not the point
    with layers.open_tar(layer.chain_id) as tar:
        assert tar.read() == archive
