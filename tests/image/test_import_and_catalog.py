"""Importing root filesystems, and listing, inspecting, tagging and removing images as Docker does."""
from __future__ import annotations

import bz2
import hashlib
import io
import lzma
import os

import pytest
import zstandard
from isal import igzip

from berth.image import ContainerUse, ImageConflict, ImageNotFound, InvalidImage, InvalidReference
from tests.image.conftest import no_users
from tests.image.ocischema import validate


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


COMPRESSORS = {"plain": lambda data: data, "gzip": igzip.compress, "xz": lzma.compress, "bzip2": bz2.compress,
               "zstd": zstandard.ZstdCompressor().compress}


@pytest.mark.parametrize("compression", COMPRESSORS)
def test_import_accepts_plain_and_compressed_tars_and_gives_the_same_layer(images, busybox_tar, compression):
    data = COMPRESSORS[compression](busybox_tar.read_bytes())
    image_id = images.import_image(io.BytesIO(data), None, [], "")
    assert images.inspect(image_id)["RootFS"]["Layers"] == [sha256(busybox_tar.read_bytes())]
    assert (images.layer_dirs(image_id)[0] / "bin" / "busybox").is_file()


def test_imported_image_id_is_the_digest_of_its_config_and_the_config_is_valid_oci(images, busybox):
    assert busybox == sha256(images.blobs.read(busybox))
    validate(images.image_config(busybox), "config-schema.json")


def test_import_applies_changes_with_dockerfile_rules(images, busybox_tar):
    changes = ['CMD echo hi', 'ENTRYPOINT ["/bin/sh", "-c"]', "ENV A=1 B=\"two words\"", "ENV C $A-x",
               "WORKDIR /app", "WORKDIR sub", "EXPOSE 80 53/udp 8000-8001", "USER nobody", "LABEL a=b 'c d'=e",
               "VOLUME /data", 'VOLUME ["/logs"]', "STOPSIGNAL SIGTERM", "ONBUILD RUN echo"]
    with open(busybox_tar, "rb") as stream:
        image_id = images.import_image(stream, "custom", changes, "my message")
    config = images.inspect("custom")["Config"]
    assert config["Entrypoint"] == ["/bin/sh", "-c"] and config["Cmd"] is None  # ENTRYPOINT resets CMD
    assert config["Env"] == ["A=1", "B=two words", "C=1-x"]
    assert config["WorkingDir"] == "/app/sub"
    assert config["ExposedPorts"] == {"80/tcp": {}, "53/udp": {}, "8000/tcp": {}, "8001/tcp": {}}
    assert config["User"] == "nobody"
    assert config["Labels"] == {"a": "b", "c d": "e"}
    assert config["Volumes"] == {"/data": {}, "/logs": {}}
    assert config["StopSignal"] == "SIGTERM" and config["OnBuild"] == ["RUN echo"]
    assert images.inspect(image_id)["Comment"] == "my message"
    assert images.history(image_id)[0]["Comment"] == "my message"


def test_shell_form_cmd_runs_through_sh(images, busybox_tar):
    with open(busybox_tar, "rb") as stream:
        image_id = images.import_image(stream, None, ["CMD echo hi"], "")
    assert images.image_config(image_id)["config"]["Cmd"] == ["/bin/sh", "-c", "echo hi"]
    assert images.history(image_id)[0]["Comment"] == "Imported from -"


def test_bad_imports_are_refused_and_leave_the_store_as_it_was(images, busybox):
    before = images.list_images()
    with pytest.raises(InvalidImage):
        images.import_image(io.BytesIO(b"this is not a tar" * 100), None, [], "")
    with pytest.raises(InvalidImage, match="FROM is not a valid change command"):
        images.import_image(io.BytesIO(b""), None, ["FROM scratch"], "")
    with pytest.raises(InvalidReference, match="invalid reference format: repository name must be lowercase"):
        images.import_image(io.BytesIO(b""), "BusyBox", [], "")
    assert images.list_images() == before
    assert images.check() == []
    images.refs.collect(images._sweepers())
    assert len(os.listdir(images.layers.dir)) == 1


def test_inspect_has_dockers_shape(images, busybox):
    view = images.inspect("busybox")
    assert list(view) == ["Id", "RepoTags", "RepoDigests", "Parent", "Comment", "Created", "Container",
                          "ContainerConfig", "DockerVersion", "Author", "Config", "Architecture", "Os", "Size",
                          "VirtualSize", "GraphDriver", "RootFS", "Metadata"]
    assert view["Id"] == busybox and view["RepoTags"] == ["busybox:latest"] and view["RepoDigests"] == []
    assert view["Config"]["Cmd"] == ["sh"] and view["Config"]["Hostname"] == ""
    assert view["RootFS"]["Type"] == "layers" and len(view["RootFS"]["Layers"]) == 1
    assert view["Size"] == view["VirtualSize"] > 1_000_000
    assert view["GraphDriver"]["Name"] == "overlay2"
    assert view["GraphDriver"]["Data"]["UpperDir"] == str(images.layer_dirs(busybox)[0])


def test_images_are_found_by_name_id_and_unique_id_prefix(images, busybox):
    hex_id = busybox.removeprefix("sha256:")
    for ref in ("busybox", "busybox:latest", "docker.io/library/busybox", busybox, hex_id, hex_id[:12], hex_id[:3],
                f"sha256:{hex_id[:10]}"):
        assert images.resolve(ref) == busybox
    with pytest.raises(ImageNotFound, match="^No such image: nothere:latest$"):
        images.resolve("nothere")
    with pytest.raises(ImageNotFound, match="^No such image: busybox:1.0$"):
        images.resolve("busybox:1.0")


def test_tagging_adds_names_and_removing_one_of_several_only_untags(images, busybox):
    images.tag("busybox", "mine/box", "v1")
    images.tag(busybox[7:19], "localhost:5000/box", None)
    assert images.inspect(busybox)["RepoTags"] == ["busybox:latest", "mine/box:v1", "localhost:5000/box:latest"]
    assert images.remove("mine/box:v1", force=False, prune=True, users=no_users) == [{"Untagged": "mine/box:v1"}]
    assert images.resolve("busybox") == busybox
    with pytest.raises(InvalidReference, match="invalid tag format"):
        images.tag("busybox", "x", "-bad")


def test_removing_the_last_tag_deletes_the_image_and_its_layers(images, busybox):
    layer = images.inspect(busybox)["RootFS"]["Layers"][0]
    assert images.remove("busybox", force=False, prune=True, users=no_users) == [
        {"Untagged": "busybox:latest"}, {"Deleted": busybox}, {"Deleted": layer}]
    assert images.list_images() == []
    assert not any(name.startswith("sha256") for name in os.listdir(images.layers.dir))
    assert list(images.blobs.digests()) == []
    with pytest.raises(ImageNotFound):
        images.inspect(busybox)


def test_removing_by_id_a_multiply_tagged_image_must_be_forced(images, busybox):
    images.tag("busybox", "other", None)
    with pytest.raises(ImageConflict) as error:
        images.remove(busybox[7:19], force=False, prune=True, users=no_users)
    assert str(error.value) == (f"conflict: unable to delete {busybox[7:19]} (must be forced) - "
                                "image is referenced in multiple repositories")
    records = images.remove(busybox[7:19], force=True, prune=True, users=no_users)
    assert records[:3] == [{"Untagged": "busybox:latest"}, {"Untagged": "other:latest"}, {"Deleted": busybox}]


def test_an_image_used_by_a_container_is_kept_unless_forced(images, busybox):
    stopped = lambda image_id: [ContainerUse("1a2b3c4d5e6f7a8b9c", running=False)]  # noqa: E731
    with pytest.raises(ImageConflict) as error:
        images.remove("busybox", force=False, prune=True, users=stopped)
    assert str(error.value) == ('conflict: unable to remove repository reference "busybox" (must force) - '
                                f"container 1a2b3c4d5e6f is using its referenced image {busybox[7:19]}")
    with pytest.raises(ImageConflict, match=r"\(must be forced\) - image is being used by stopped container"):
        images.remove(busybox, force=False, prune=True, users=stopped)
    running = lambda image_id: [ContainerUse("1a2b3c4d5e6f7a8b9c", running=True)]  # noqa: E731
    images.tag("busybox", "extra", None)
    assert images.remove("extra", force=False, prune=True, users=running) == [{"Untagged": "extra:latest"}]
    with pytest.raises(ImageConflict, match=r"\(cannot be forced\) - image is being used by running container"):
        images.remove(busybox, force=True, prune=True, users=running)
    assert images.remove("busybox", force=True, prune=True, users=stopped)[1] == {"Deleted": busybox}


def test_a_retagged_name_leaves_the_old_image_dangling(images, busybox, busybox_tar):
    with open(busybox_tar, "rb") as stream:
        newer = images.import_image(stream, "busybox:latest", ["CMD [\"true\"]"], "")
    listed = {item["Id"]: item for item in images.list_images()}
    assert listed[busybox]["RepoTags"] == ["<none>:<none>"] and listed[busybox]["RepoDigests"] == ["<none>@<none>"]
    assert [i["Id"] for i in images.list_images(filters={"dangling": ["true"]})] == [busybox]
    assert [i["Id"] for i in images.list_images(filters={"dangling": ["false"]})] == [newer]
    assert len(os.listdir(images.layers.dir)) == 1, "both images share one unpacked layer"


def test_list_filters_by_reference_label_before_and_since(images, busybox_tar):
    ids = []
    for name, label in (("app/one:1", "tier=web"), ("app/two:1", "tier=db"), ("other:2", "x=y")):
        with open(busybox_tar, "rb") as stream:
            ids.append(images.import_image(stream, name, [f"LABEL {label}"], ""))
        with images.db.transaction() as conn:  # distinct creation seconds without sleeping
            conn.execute("UPDATE images SET created = ? WHERE id = ?", (1000 + len(ids), ids[-1]))

    def listed(**filters):
        return [item["RepoTags"][0] for item in images.list_images(filters={k: [v] for k, v in filters.items()})]

    assert listed(reference="app/*") == ["app/two:1", "app/one:1"]
    assert listed(reference="other:2") == ["other:2"]
    assert listed(label="tier") == ["app/two:1", "app/one:1"]
    assert listed(label="tier=db") == ["app/two:1"]
    assert listed(before="app/two:1") == ["app/one:1"]
    assert listed(since="app/one:1") == ["other:2", "app/two:1"]
    with pytest.raises(ValueError, match="Invalid filter 'bogus'"):
        images.list_images(filters={"bogus": ["1"]})


def test_prune_removes_dangling_images_and_with_all_every_unused_one(images, busybox, busybox_tar):
    with open(busybox_tar, "rb") as stream:
        images.import_image(stream, "busybox:latest", ['CMD ["true"]'], "")
    with open(busybox_tar, "rb") as stream:
        used = images.import_image(stream, "used:1", ['CMD ["x"]'], "")
    users = lambda image_id: [ContainerUse("c" * 64, False)] if image_id == used else []  # noqa: E731
    report = images.prune(filters=None, users=users)
    assert report["ImagesDeleted"] == [{"Deleted": busybox}]
    report = images.prune(filters={"dangling": ["false"]}, users=users)
    assert {"Untagged": "busybox:latest"} in report["ImagesDeleted"]
    assert [item["Id"] for item in images.list_images()] == [used]
    assert images.check() == []


def test_disk_usage_counts_shared_layers(images, busybox, busybox_tar):
    with open(busybox_tar, "rb") as stream:
        images.import_image(stream, "twin", ['CMD ["true"]'], "")
    usage = images.disk_usage(users=lambda image_id: [])
    size = images.inspect(busybox)["Size"]
    assert usage["LayersSize"] == size
    assert [item["SharedSize"] for item in usage["Images"]] == [size, size]
    assert [item["Containers"] for item in usage["Images"]] == [0, 0]


def test_history_lists_newest_first_with_ids_along_the_parent_chain(images, busybox):
    [entry] = images.history("busybox")
    assert entry["Id"] == busybox and entry["Tags"] == ["busybox:latest"] and entry["Size"] > 0
