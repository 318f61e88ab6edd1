"""Committing a container: its overlayfs upper directory becomes one new layer on top of its image."""
from __future__ import annotations

import shutil

import pytest

from berth.layer import ADDED, DELETED, MODIFIED
from tests.image.conftest import no_users
from tests.layer.test_overlay import overlay
from tests.layer.test_roundtrip import describe

CONTAINER_ID = "c0ffee" * 10 + "abcd"


@pytest.fixture
def container(images, busybox, tmp_path):
    """A 'container' of busybox: an overlay mount whose upper directory the test changes."""
    upper, work = tmp_path / "upper", tmp_path / "work"
    upper.mkdir()
    work.mkdir()
    with overlay(tmp_path / "rootfs", images.layer_dirs(busybox), upper, work) as rootfs:
        (rootfs / "root" / "note").write_text("hello")
        (rootfs / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
        (rootfs / "bin" / "ls").unlink()
        shutil.rmtree(rootfs / "var")
        (rootfs / "var").mkdir()
        yield rootfs, upper


def test_diff_lists_added_changed_and_deleted_paths(images, busybox, container):
    _, upper = container
    changes = {item["Path"]: item["Kind"] for item in images.diff(upper, busybox)}
    assert changes["/root/note"] == ADDED and changes["/root"] == MODIFIED
    assert changes["/etc/passwd"] == MODIFIED and changes["/bin/ls"] == DELETED
    assert changes["/var"] == MODIFIED


def test_commit_makes_an_image_whose_layers_reproduce_the_container(images, busybox, container, tmp_path):
    rootfs, upper = container
    config = dict(images.image_config(busybox)["config"], Cmd=["sh", "-c", "echo hi"])
    image_id = images.commit(upper, busybox, config, ["ENV COMMITTED=yes"], "a message", "someone <a@b>",
                             "snap:1", CONTAINER_ID)
    view = images.inspect("snap:1")
    assert view["Parent"] == busybox and view["Container"] == CONTAINER_ID
    assert view["Comment"] == "a message" and view["Author"] == "someone <a@b>"
    assert view["Config"]["Env"] == ["COMMITTED=yes"] and view["ContainerConfig"]["Cmd"] == ["sh", "-c", "echo hi"]
    assert view["RootFS"]["Layers"][0] == images.inspect(busybox)["RootFS"]["Layers"][0]
    assert len(view["RootFS"]["Layers"]) == 2
    history = images.history(image_id)
    assert [h["Id"] for h in history] == [image_id, busybox]
    assert history[0]["CreatedBy"] == "sh -c echo hi" and history[0]["Tags"] == ["snap:1"]
    with overlay(tmp_path / "check", images.layer_dirs(image_id)) as committed:
        assert describe(committed) == describe(rootfs)


def test_committing_an_unchanged_container_adds_an_empty_history_entry_but_no_layer(images, busybox, tmp_path):
    upper = tmp_path / "empty-upper"
    upper.mkdir()
    image_id = images.commit(upper, busybox, {"Cmd": ["sh"]}, [], "", "", None, CONTAINER_ID)
    config = images.image_config(image_id)
    assert config["rootfs"]["diff_ids"] == images.image_config(busybox)["rootfs"]["diff_ids"]
    assert config["history"][-1]["empty_layer"] is True


def test_the_parent_cannot_be_removed_while_a_committed_child_exists(images, busybox, container):
    _, upper = container
    child = images.commit(upper, busybox, {"Cmd": ["sh"]}, [], "", "", "child", CONTAINER_ID)
    images.remove("busybox", force=False, prune=True, users=no_users)  # only untags: busybox has a child
    assert any(item["Id"] == busybox for item in images.list_images(all=True))
    assert not any(item["Id"] == busybox for item in images.list_images())  # intermediate: hidden
    records = images.remove("child", force=False, prune=True, users=no_users)
    assert {"Deleted": child} in records and {"Deleted": busybox} in records
    assert images.list_images(all=True) == []
    assert images.check() == []


def test_export_writes_the_flattened_filesystem(images, container, tmp_path):
    import io
    import tarfile

    rootfs, _ = container
    out = io.BytesIO()
    images.export(rootfs, out)
    names = set(tarfile.open(fileobj=io.BytesIO(out.getvalue())).getnames())
    assert {"root/note", "bin/busybox", "etc/passwd"} <= names
    assert "bin/ls" not in names and not any(".wh." in name for name in names)
