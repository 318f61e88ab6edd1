"""Hostile layer tars never write outside the directory they are unpacked into."""
from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from berth.layer import LayerError, apply_tar
from tests.layer.tarbuild import TarBuilder


@pytest.fixture
def sandbox(tmp_path):
    """(root to unpack into, a sibling directory that must stay untouched)."""
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (outside / "secret").write_text("keep me")
    return root, outside


def untouched(outside) -> bool:
    return sorted(os.listdir(outside)) == ["secret"] and (outside / "secret").read_text() == "keep me"


@pytest.mark.any_user
def test_dot_dot_names_are_refused(sandbox):
    root, outside = sandbox
    with pytest.raises(LayerError, match="escapes"):
        apply_tar(TarBuilder().file("../outside/evil", b"x").stream(), root)
    assert untouched(outside)


def test_absolute_names_land_inside_the_root(sandbox):
    root, outside = sandbox
    apply_tar(TarBuilder().file(f"{outside}/evil", b"x").stream(), root)
    assert untouched(outside)
    assert (root / str(outside).lstrip("/") / "evil").read_bytes() == b"x"


@pytest.mark.parametrize("target", ["ABSOLUTE", "../outside", "../../../../../../ABSOLUTE"])
def test_writing_through_a_symlink_to_outside_stays_inside(sandbox, target):
    root, outside = sandbox
    target = target.replace("ABSOLUTE", str(outside).lstrip("/"))
    if not target.startswith(".."):
        target = "/" + target
    tar = TarBuilder().symlink("link", target).file("link/evil", b"x").file("link/secret", b"overwritten")
    apply_tar(tar.stream(), root)
    assert untouched(outside)
    assert os.readlink(root / "link") == target


def test_a_symlink_replacing_a_directory_mid_archive_does_not_redirect_later_entries(sandbox):
    root, outside = sandbox
    tar = TarBuilder().dir("d").symlink("d", str(outside)).file("d/evil", b"x")
    apply_tar(tar.stream(), root)
    assert untouched(outside)


@pytest.mark.parametrize("target", ["../outside/secret", "ABSOLUTE"])
def test_hardlinks_to_files_outside_are_refused(sandbox, target):
    root, outside = sandbox
    target = target.replace("ABSOLUTE", str(outside / "secret"))
    with pytest.raises(LayerError):
        apply_tar(TarBuilder().hardlink("stolen", target).stream(), root)
    assert untouched(outside)
    assert not (root / "stolen").exists()


def test_a_hardlink_through_a_symlinked_directory_resolves_inside_the_root(sandbox):
    root, outside = sandbox
    tar = TarBuilder().symlink("out", str(outside)).hardlink("stolen", "out/secret")
    with pytest.raises(LayerError, match="does not exist"):
        apply_tar(tar.stream(), root)
    assert untouched(outside)


def test_symlink_loops_are_an_error_not_a_hang(sandbox):
    root, _ = sandbox
    tar = TarBuilder().symlink("a", "b").symlink("b", "a").file("a/x", b"x")
    with pytest.raises(LayerError, match="symbolic links"):
        apply_tar(tar.stream(), root)


def test_overlay_xattrs_smuggled_in_an_archive_are_dropped(sandbox):
    root, _ = sandbox
    tar = TarBuilder().dir("d", pax_headers={"SCHILY.xattr.trusted.overlay.redirect": "/etc"})
    apply_tar(tar.stream(), root)
    assert "trusted.overlay.redirect" not in os.listxattr(root / "d")


@pytest.mark.any_user
def test_a_truncated_archive_is_refused(sandbox):
    root, _ = sandbox
    data = TarBuilder().file("big", b"x" * 100_000).bytes()
    with pytest.raises(LayerError, match="unexpected end of data"):
        apply_tar(__import__("io").BytesIO(data[:50_000]), root)


def test_a_corrupt_header_after_the_first_entry_is_refused(sandbox):
    root, _ = sandbox
    data = bytearray(TarBuilder().file("a", b"x").file("b", b"y").bytes())
    data[1024 + 100] ^= 0xFF  # the second header's mode field: its checksum no longer matches
    with pytest.raises(LayerError, match="corrupt header"):
        apply_tar(__import__("io").BytesIO(bytes(data)), root)


components = st.sampled_from(["..", ".", "a", "b", "link", "", "etc"])


@settings(max_examples=60, deadline=None)
@given(names=st.lists(st.lists(components, min_size=1, max_size=6).map("/".join), min_size=1, max_size=5),
       link_target=st.sampled_from(["/", "..", "../..", "/etc", "a/../..", "../outside"]))
def test_no_sequence_of_names_and_symlinks_escapes(tmp_path_factory, names, link_target):
    base = tmp_path_factory.mktemp("prop")
    root, outside = base / "root", base / "outside"
    root.mkdir()
    outside.mkdir()
    (outside / "secret").write_text("keep me")
    tar = TarBuilder().symlink("link", link_target)
    for name in names:
        if name.strip("/."):
            tar.file(name, b"payload")
    try:
        apply_tar(tar.stream(), root)
    except LayerError:
        pass
    assert untouched(outside)
    assert sorted(os.listdir(base)) == ["outside", "root"]
