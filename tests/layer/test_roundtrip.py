"""A tree written as a layer tar and unpacked again comes back the same: owners, modes, devices,
fifos, hardlinks, xattrs, sparse files, long names."""
from __future__ import annotations

import io
import os
import stat
import subprocess

import pytest

from berth.layer import apply_tar, write_tree

LONG_NAME = "n" * 200
DEEP_PATH = "/".join(["deep" + "d" * 60] * 6)


def make_tree(root):
    (root / "dir").mkdir()
    (root / "dir" / "file").write_bytes(b"content")
    os.chown(root / "dir" / "file", 1234, 5678)
    (root / "setuid").write_bytes(b"#!")
    os.chmod(root / "setuid", 0o4755)
    (root / "nothing").write_bytes(b"")
    os.chmod(root / "nothing", 0o000)
    (root / "sticky").mkdir()
    os.chmod(root / "sticky", 0o1777)
    os.link(root / "dir" / "file", root / "hardlink")
    os.symlink("dir/file", root / "symlink")
    os.symlink("/nonexistent/target", root / "dangling")
    os.mknod(root / "null", stat.S_IFCHR | 0o666, os.makedev(1, 3))
    os.mknod(root / "loop", stat.S_IFBLK | 0o660, os.makedev(7, 0))
    os.mkfifo(root / "fifo", 0o600)
    (root / LONG_NAME).write_bytes(b"long")
    (root / DEEP_PATH).mkdir(parents=True)
    (root / DEEP_PATH / "leaf").write_bytes(b"deep")
    os.setxattr(root / "dir" / "file", "user.note", b"hello")
    os.setxattr(root / "setuid", "security.capability",
                bytes.fromhex("0100000200200000000000000000000000000000"))
    with open(root / "sparse", "wb") as sparse:
        sparse.truncate(64 << 20)
        sparse.seek(32 << 20)
        sparse.write(b"middle")
    os.utime(root / "dir" / "file", (1_500_000_000, 1_500_000_000))


def describe(root) -> dict:
    """Everything a round trip must keep, per path (inode numbers replaced by hardlink groups)."""
    seen: dict[int, str] = {}
    result = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in sorted(dirnames + filenames):
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root)
            st = os.lstat(path)
            entry = {"mode": st.st_mode, "uid": st.st_uid, "gid": st.st_gid}
            if stat.S_ISREG(st.st_mode):
                entry["data"] = open(path, "rb").read()
                entry["mtime"] = int(st.st_mtime)
                entry["link"] = seen.setdefault(st.st_ino, rel)
            if stat.S_ISLNK(st.st_mode):
                entry["target"] = os.readlink(path)
            if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
                entry["rdev"] = st.st_rdev
            if not stat.S_ISLNK(st.st_mode):
                entry["xattrs"] = {k: os.getxattr(path, k) for k in os.listxattr(path)}
            result[rel] = entry
    return result


def test_a_tree_survives_a_trip_through_a_layer_tar(tmp_path):
    source, target = tmp_path / "source", tmp_path / "target"
    source.mkdir()
    target.mkdir()
    make_tree(source)
    archive = io.BytesIO()
    write_tree(source, archive)
    archive.seek(0)
    applied = apply_tar(archive, target)
    assert describe(target) == describe(source)
    # as Docker sizes a layer: files and symlinks (their targets' length), a hardlinked inode once
    assert applied.size == sum(os.lstat(source / p).st_size for p in ("dir/file", "setuid", "nothing", "sparse",
                                                                       LONG_NAME, DEEP_PATH + "/leaf",
                                                                       "symlink", "dangling"))
    sparse = os.stat(target / "sparse")
    assert sparse.st_size == 64 << 20 and sparse.st_blocks * 512 < (8 << 20), "holes stay holes"


def test_the_same_tree_always_gives_the_same_tar(tmp_path):
    make_tree(tmp_path)
    first, second = io.BytesIO(), io.BytesIO()
    write_tree(tmp_path, first)
    write_tree(tmp_path, second)
    assert first.getvalue() == second.getvalue()


@pytest.mark.any_user
def test_gnu_sparse_archives_unpack_with_their_holes(tmp_path):
    source, target = tmp_path / "source", tmp_path / "target"
    source.mkdir()
    target.mkdir()
    with open(source / "sparse", "wb") as sparse:
        sparse.truncate(16 << 20)
        sparse.seek(4 << 20)
        sparse.write(b"data")
    archive = tmp_path / "sparse.tar"
    subprocess.run(["tar", "--sparse", "--format=gnu", "-cf", archive, "-C", source, "sparse"], check=True)
    with open(archive, "rb") as stream:
        apply_tar(stream, target)
    assert (target / "sparse").read_bytes() == (source / "sparse").read_bytes()
    assert os.stat(target / "sparse").st_blocks * 512 <= (1 << 20), "holes stay holes"
