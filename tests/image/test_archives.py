"""save and load: archives that Docker and skopeo read and write, OCI layouts in and out, bad
archives refused without changing anything, and a crash mid-load leaving a consistent store."""
from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import tarfile
import textwrap
import threading

import pytest

from berth.image import ImageService, InvalidImage
from tests.image.conftest import no_users
from tests.image.ocischema import validate
from tests.waiting import eventually


def saved(images, *refs) -> bytes:
    out = io.BytesIO()
    images.save(list(refs), out)
    return out.getvalue()


def members(archive: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar if m.isfile()}


def test_save_then_load_into_another_store_keeps_ids_diff_ids_and_tags(images, busybox, tmp_path):
    images.tag("busybox", "copy", "2")
    archive = saved(images, "busybox", "copy:2")
    other = ImageService(tmp_path / "other")
    assert other.load(io.BytesIO(archive)) == ["Loaded image: busybox:latest", "Loaded image: copy:2"]
    assert other.inspect("copy:2")["Id"] == busybox
    assert other.inspect(busybox)["RootFS"] == images.inspect(busybox)["RootFS"]
    assert other.check() == []


def test_saved_archives_are_docker_archives_and_valid_oci_layouts(images, busybox):
    files = members(saved(images, "busybox"))
    [entry] = json.loads(files["manifest.json"])
    assert entry["RepoTags"] == ["busybox:latest"] and entry["Config"] == f"blobs/sha256/{busybox[7:]}"
    assert json.loads(files["repositories"])["busybox"]["latest"]
    validate(json.loads(files["oci-layout"]), "image-layout-schema.json")
    index = json.loads(files["index.json"])
    validate(index, "image-index-schema.json")
    [descriptor] = index["manifests"]
    assert descriptor["annotations"]["io.containerd.image.name"] == "docker.io/library/busybox:latest"
    manifest = json.loads(files["blobs/sha256/" + descriptor["digest"][7:]])
    validate(manifest, "image-manifest-schema.json")
    validate(json.loads(files[entry["Config"]]), "config-schema.json")
    for layer in manifest["layers"]:
        assert len(files["blobs/sha256/" + layer["digest"][7:]]) == layer["size"]


def test_skopeo_reads_berth_archives_and_berth_reads_what_skopeo_writes(images, busybox, tmp_path):
    archive = tmp_path / "berth.tar"
    archive.write_bytes(saved(images, "busybox"))
    layout = tmp_path / "layout"
    subprocess.run(["skopeo", "copy", "-q", f"docker-archive:{archive}", f"oci:{layout}:busybox:latest"], check=True)
    subprocess.run(["skopeo", "copy", "-q", f"oci:{layout}:busybox:latest",
                    f"docker-archive:{tmp_path / 'skopeo.tar'}:busybox:skopeo"], check=True)
    subprocess.run(["skopeo", "copy", "-q", f"docker-archive:{archive}", f"oci-archive:{tmp_path / 'oci.tar'}"],
                   check=True)
    diff_ids = images.inspect(busybox)["RootFS"]["Layers"]
    other = ImageService(tmp_path / "other")
    assert other.load(open(tmp_path / "skopeo.tar", "rb")) == ["Loaded image: busybox:skopeo"]
    assert other.inspect("busybox:skopeo")["RootFS"]["Layers"] == diff_ids
    [message] = other.load(open(tmp_path / "oci.tar", "rb"))  # an OCI layout with gzip layers, no names
    assert message.startswith("Loaded image ID: sha256:")
    assert other.inspect(message.rsplit(" ", 1)[1])["RootFS"]["Layers"] == diff_ids
    assert other.check() == []


def test_loading_a_tag_that_exists_renames_the_old_image(images, busybox, busybox_tar, tmp_path):
    archive = saved(images, "busybox")
    other = ImageService(tmp_path / "other")
    with open(busybox_tar, "rb") as stream:
        old = other.import_image(stream, "busybox", ['CMD ["true"]'], "")
    assert other.load(io.BytesIO(archive)) == [
        f"The image busybox:latest already exists, renaming the old one with ID {old} to empty string",
        "Loaded image: busybox:latest"]


def corrupt_layer(archive: bytes) -> bytes:
    """Flip one byte inside busybox's binary in the saved layer."""
    data = bytearray(archive)
    position = data.find(b"BusyBox v")
    data[position] ^= 0x20
    return bytes(data)


@pytest.mark.parametrize("damage, message", [
    (lambda a: a[: len(a) // 2], "not found|unexpected end"),
    (corrupt_layer, "diff ID"),
    (lambda a: a.replace(b"manifest.json", b"manifest.jsoX"), "unreadable tar header"),
    (lambda a: b"garbage" * 1000, "invalid archive"),
])
def test_damaged_archives_are_refused_with_a_reason_and_change_nothing(images, busybox, tmp_path, damage, message):
    archive = damage(saved(images, "busybox"))
    other = ImageService(tmp_path / "other")
    with pytest.raises(InvalidImage, match=message):
        other.load(io.BytesIO(archive))
    assert other.list_images() == [] and other.check() == []
    other.refs.collect(other._sweepers())
    assert list(other.blobs.digests()) == [] and os.listdir(other.layers.dir) == []


LOADER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from berth.image import ImageService
    ImageService(Path(sys.argv[1])).load(open(sys.argv[2], "rb"))
""")


def test_a_load_killed_midway_leaves_a_consistent_store(images, busybox, tmp_path):
    big = tmp_path / "big"
    big.mkdir()
    (big / "random").write_bytes(os.urandom(64 << 20))
    upper = tmp_path / "upper"
    upper.mkdir()
    (upper / "random").write_bytes((big / "random").read_bytes())
    images.commit(upper, busybox, {"Cmd": ["sh"]}, [], "", "", "big:1", "c" * 64)
    archive = tmp_path / "big.tar"
    archive.write_bytes(saved(images, "big:1"))
    target = tmp_path / "target"
    ImageService(target)
    loader = subprocess.Popen([sys.executable, "-c", LOADER, str(target), str(archive)], cwd=os.getcwd())
    while not any(name.startswith(".tmp-") for name in os.listdir(target / "layers")) and loader.poll() is None:
        os.sched_yield()
    os.kill(loader.pid, signal.SIGKILL)
    loader.wait()
    store = ImageService(target)
    assert store.check() == []
    assert store.load(open(archive, "rb")) == ["Loaded image: big:1"]
    assert store.check() == []


def test_image_prune_completes_while_a_load_is_under_way_and_spares_what_it_loads(images, busybox, tmp_path):
    archive = saved(images, "busybox")
    other = ImageService(tmp_path / "other")
    read_end, write_end = os.pipe()
    loaded: list[list[str]] = []
    loader = threading.Thread(target=lambda: loaded.append(other.load(open(read_end, "rb"))))
    loader.start()
    with open(write_end, "wb") as feed:
        feed.write(archive[: len(archive) // 2])  # the load is half way through the archive
        feed.flush()
        eventually(lambda: other.refs.leases() and other.refs.leases()[0].resources, "the load to hold content")
        assert other.prune({"dangling": ["false"]}, no_users)["ImagesDeleted"] is None  # done, not waiting
        feed.write(archive[len(archive) // 2:])
    loader.join(30)
    assert loaded == [["Loaded image: busybox:latest"]] and other.inspect("busybox")["Id"] == busybox
    assert other.check() == []  # nothing the load needed was swept
