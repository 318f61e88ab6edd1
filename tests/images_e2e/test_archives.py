"""save and load: round trips through berth, and archives exchanged with a real dockerd."""
from __future__ import annotations

import json
import subprocess
import tarfile
from pathlib import Path

import pytest

from tests.images_e2e.conftest import docker, image_id


@pytest.fixture
def saved_pair(daemon, tmp_path: Path):
    """Two tags of a committed image plus busybox, saved by berth into one archive."""
    daemon.berth("run", "--name", "to-save", "busybox", "sh", "-c", "echo saved > /saved; rm -rf /root")
    committed = daemon.berth("commit", "-c", 'CMD ["cat", "/saved"]', "to-save", "archived:1").stdout.strip()
    daemon.berth("tag", "archived:1", "example.com/team/archived:2")
    archive = tmp_path / "images.tar"
    daemon.berth("save", "-o", str(archive), "archived:1", "example.com/team/archived:2", "busybox")
    yield committed, archive
    daemon.berth("rmi", "archived:1", "example.com/team/archived:2", check=False)


def test_save_writes_a_docker_archive_that_is_also_an_oci_layout(saved_pair):
    committed, archive = saved_pair
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
        manifest = json.load(tar.extractfile("manifest.json"))
        index = json.load(tar.extractfile("index.json"))
    assert {"manifest.json", "index.json", "oci-layout", "repositories"} <= names
    by_config = {entry["Config"]: entry for entry in manifest}
    entry = by_config[f"blobs/sha256/{committed[7:]}"]
    assert sorted(entry["RepoTags"]) == ["archived:1", "example.com/team/archived:2"]
    assert all(layer in names for layer in entry["Layers"])
    assert len(index["manifests"]) == 3


def test_load_of_a_berth_archive_restores_ids_and_tags(daemon, saved_pair):
    committed, archive = saved_pair
    busybox = image_id(daemon, "busybox")
    daemon.berth("rmi", "archived:1", "example.com/team/archived:2")
    assert daemon.berth("image", "inspect", committed, check=False).returncode == 1
    loaded = daemon.berth("load", "-i", str(archive)).stdout.splitlines()
    assert "Loaded image: archived:1" in loaded
    assert "Loaded image: example.com/team/archived:2" in loaded
    assert image_id(daemon, "archived:1") == image_id(daemon, "example.com/team/archived:2") == committed
    assert image_id(daemon, "busybox") == busybox
    assert daemon.berth("run", "--rm", "archived:1").stdout == "saved\n"
    # the same archive through the docker CLI, from stdin, loads again without change
    again = docker(daemon, "load", input=archive.read_bytes()).stdout.decode()
    assert "Loaded image: archived:1" in again


def test_a_real_dockerd_loads_berth_save_output_keeping_ids_and_tags(daemon, saved_pair, real_dockerd):
    committed, archive = saved_pair
    loaded = real_dockerd.docker("load", "-i", str(archive)).stdout
    assert "Loaded image: archived:1" in loaded
    assert real_dockerd.image_id("archived:1") == committed
    assert real_dockerd.image_id("example.com/team/archived:2") == committed
    assert real_dockerd.image_id("busybox:latest") == image_id(daemon, "busybox")
    [theirs] = json.loads(real_dockerd.docker("image", "inspect", "archived:1").stdout)
    [ours] = json.loads(daemon.berth("image", "inspect", "archived:1").stdout)
    assert theirs["RootFS"] == ours["RootFS"]
    assert theirs["Config"]["Cmd"] == ["cat", "/saved"]


def test_berth_loads_what_a_real_dockerd_saves_keeping_ids_and_tags(daemon, real_dockerd, busybox_tar, tmp_path):
    made = real_dockerd.docker("import", "-c", "ENV MADE_BY=dockerd", "-c", 'CMD ["sh", "-c", "echo $MADE_BY"]',
                               str(busybox_tar), "from-dockerd:1").stdout.strip()
    real_dockerd.docker("tag", "from-dockerd:1", "from-dockerd:also")
    archive = tmp_path / "from-dockerd.tar"
    real_dockerd.docker("save", "-o", str(archive), "from-dockerd:1", "from-dockerd:also")
    try:
        loaded = daemon.berth("load", "-i", str(archive)).stdout.splitlines()
        assert sorted(loaded) == ["Loaded image: from-dockerd:1", "Loaded image: from-dockerd:also"]
        assert image_id(daemon, "from-dockerd:1") == image_id(daemon, "from-dockerd:also") == made
        assert daemon.berth("run", "--rm", "from-dockerd:1").stdout == "dockerd\n"
        assert daemon.berth("system", "check").stdout == "store OK\n"
    finally:
        daemon.berth("rmi", "from-dockerd:1", "from-dockerd:also", check=False)


def test_load_of_a_broken_archive_fails_and_leaves_the_store_as_it_was(daemon, saved_pair, tmp_path):
    _committed, archive = saved_pair
    before = daemon.berth("images", "-a", "-q", "--no-trunc").stdout
    truncated = tmp_path / "truncated.tar"
    truncated.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    failed = daemon.berth("load", "-i", str(truncated), check=False)
    assert failed.returncode == 1
    assert daemon.berth("images", "-a", "-q", "--no-trunc").stdout == before
    assert daemon.berth("system", "check").stdout == "store OK\n"


def test_umoci_and_skopeo_read_berths_save_as_an_oci_layout(daemon, tmp_path):
    archive = tmp_path / "busybox.tar"
    daemon.berth("save", "-o", str(archive), "busybox")
    layout = tmp_path / "layout"
    layout.mkdir()
    subprocess.run(["tar", "xf", str(archive), "-C", str(layout)], check=True)
    assert subprocess.run(["umoci", "ls", "--layout", str(layout)], capture_output=True, text=True,
                          check=True).stdout.split() == ["latest"]
    subprocess.run(["umoci", "unpack", "--image", f"{layout}:latest", str(tmp_path / "bundle")], check=True,
                   capture_output=True)
    assert (tmp_path / "bundle/rootfs/bin/busybox").is_file()
    inspected = subprocess.run(["skopeo", "inspect", f"oci-archive:{archive}"], capture_output=True, text=True,
                               check=True).stdout
    assert '"Architecture": "amd64"' in inspected
