"""A container's overlayfs upper directory as a layer: changes listed A/C/D, deletions written as
whiteouts, replaced directories as opaque, and the layer reproduces the container's view."""
from __future__ import annotations

import io
import shutil
import tarfile
from contextlib import contextmanager

from berth.layer import ADDED, DELETED, MODIFIED, Change, apply_tar, changes, write_tree
from berth.linux import syscalls
from tests.layer.test_roundtrip import describe


@contextmanager
def overlay(merged, lowers, upper=None, work=None):
    options = "lowerdir=" + ":".join(str(d) for d in lowers)
    if upper is not None:
        options += f",upperdir={upper},workdir={work}"
    merged.mkdir(exist_ok=True)
    syscalls.mount("overlay", str(merged), "overlay", 0, options)
    try:
        yield merged
    finally:
        syscalls.umount2(str(merged), syscalls.MNT_DETACH)


def make_lower(lower):
    (lower / "etc").mkdir(parents=True)
    (lower / "etc" / "passwd").write_text("root:x:0:0\n")
    (lower / "data").mkdir()
    (lower / "data" / "a").write_text("a")
    (lower / "data" / "b").write_text("b")
    (lower / "keep").mkdir()
    (lower / "keep" / "old").write_text("old")


def change_container(merged):
    (merged / "etc" / "new").write_text("new")
    with open(merged / "etc" / "passwd", "a") as passwd:
        passwd.write("user:x:1000:1000\n")
    (merged / "data" / "a").unlink()
    shutil.rmtree(merged / "keep")
    (merged / "keep").mkdir()
    (merged / "keep" / "fresh").write_text("fresh")


def test_commit_records_exactly_the_changes_and_reproduces_the_view(tmp_path):
    lower, upper, work = tmp_path / "lower", tmp_path / "upper", tmp_path / "work"
    for directory in (upper, work):
        directory.mkdir()
    make_lower(lower)
    with overlay(tmp_path / "merged", [lower], upper, work) as merged:
        change_container(merged)
        expected_view = describe(merged)

    assert changes(upper, [lower]) == [
        Change("/data", MODIFIED), Change("/data/a", DELETED),
        Change("/etc", MODIFIED), Change("/etc/new", ADDED), Change("/etc/passwd", MODIFIED),
        Change("/keep", MODIFIED), Change("/keep/fresh", ADDED),
    ]

    archive = io.BytesIO()
    write_tree(upper, archive, overlay=True)
    names = tarfile.open(fileobj=io.BytesIO(archive.getvalue())).getnames()
    assert names == ["data", "data/.wh.a", "etc", "etc/new", "etc/passwd", "keep", "keep/.wh..wh..opq",
                     "keep/fresh"]

    layer = tmp_path / "layer"
    layer.mkdir()
    archive.seek(0)
    apply_tar(archive, layer)
    with overlay(tmp_path / "check", [layer, lower]) as view:
        assert describe(view) == expected_view


def test_a_whiteout_in_a_lower_layer_makes_a_recreated_file_count_as_added(tmp_path):
    base, middle, upper = tmp_path / "base", tmp_path / "middle", tmp_path / "upper"
    for directory in (base, middle, upper):
        directory.mkdir()
    (base / "file").write_text("x")
    tar = io.BytesIO()
    with tarfile.open(fileobj=tar, mode="w") as writer:
        writer.addfile(tarfile.TarInfo(".wh.file"))
    tar.seek(0)
    apply_tar(tar, middle)
    (upper / "file").write_text("again")
    assert changes(upper, [middle, base]) == [Change("/file", ADDED)]
