"""Mount option parsing and path resolution inside a rootfs (no container needed)."""
from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from berth.linux import syscalls as sc
from berth.runtime.mounts import parse_options, resolve_in_root

pytestmark = pytest.mark.any_user  # no container, no kernel: see tests/conftest.py


def test_options_split_into_flags_propagation_and_data():
    parsed = parse_options(["rbind", "ro", "nosuid", "rslave", "mode=755", "size=64k", "z"])
    assert parsed.flags == sc.MS_BIND | sc.MS_REC | sc.MS_RDONLY | sc.MS_NOSUID
    assert parsed.propagation == [sc.MS_SLAVE | sc.MS_REC]
    assert parsed.data == ["mode=755", "size=64k"]
    assert parse_options(["ro", "rw"]).flags == 0


def make_tree(root: str) -> None:
    os.makedirs(os.path.join(root, "etc/app"))
    os.symlink("../../..", os.path.join(root, "etc/up"))
    os.symlink("/etc", os.path.join(root, "abs"))
    os.symlink("loop", os.path.join(root, "loop"))


def test_symlinks_resolve_as_if_the_rootfs_were_root(tmp_path):
    root = str(tmp_path / "rootfs")
    make_tree(root)
    assert resolve_in_root(root, "/abs/app") == f"{root}/etc/app"
    assert resolve_in_root(root, "/etc/up/passwd") == f"{root}/passwd"
    assert resolve_in_root(root, "../../../etc/shadow") == f"{root}/etc/shadow"
    assert resolve_in_root(root, "/new/dir") == f"{root}/new/dir"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["..", ".", "etc", "app", "up", "abs", "x"]), max_size=12))
def test_no_path_leaves_the_rootfs(tmp_path_factory, parts):
    root = str(tmp_path_factory.getbasetemp() / "resolve-rootfs")
    if not os.path.exists(root):
        make_tree(root)
    resolved = resolve_in_root(root, "/".join(parts))
    assert resolved == root or resolved.startswith(root + "/")
