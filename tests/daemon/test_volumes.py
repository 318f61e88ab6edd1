"""docker volume through the volume service and the local driver: create, list, inspect, rm, prune."""
from __future__ import annotations

from pathlib import Path

import pytest

from berth.daemon.volumes import VolumeService
from berth.errdefs import Conflict, InvalidArgument, NotFound
from berth.volume.drivers import LocalDriver


def service(tmp_path: Path, in_use: dict[str, list[str]] | None = None) -> VolumeService:
    return VolumeService(tmp_path, lambda name: (in_use or {}).get(name, []))


def test_a_volume_is_a_directory_under_the_data_root_that_survives_a_restart(tmp_path: Path) -> None:
    created = service(tmp_path).create({"Name": "data", "Labels": {"tier": "db"}})
    assert created["Mountpoint"] == str(tmp_path / "volumes" / "data" / "_data")
    assert (created["Name"], created["Driver"], created["Scope"], created["Labels"]) == ("data", "local", "local",
                                                                                        {"tier": "db"})
    assert Path(created["Mountpoint"]).is_dir() and created["CreatedAt"].endswith("Z")
    again = service(tmp_path)
    assert again.inspect("data") == created
    assert again.create({"Name": "data"}) == created  # creating it again gives the same volume
    assert [v["Name"] for v in again.list_volumes({})["Volumes"]] == ["data"]


def test_a_volume_without_a_name_gets_a_random_one(tmp_path: Path) -> None:
    name = service(tmp_path).create({})["Name"]
    assert len(name) == 64 and int(name, 16) >= 0


def test_bad_names_unknown_drivers_and_missing_volumes(tmp_path: Path) -> None:
    volumes = service(tmp_path)
    with pytest.raises(InvalidArgument, match='create a/b: "a/b" includes invalid characters for a local volume'):
        volumes.create({"Name": "a/b"})
    with pytest.raises(InvalidArgument, match="^create v: volume name is too short, names should be at least two "
                                              "alphanumeric characters$"):
        volumes.create({"Name": "v"})
    with pytest.raises(NotFound, match='^create x: error looking up volume plugin nfs: plugin "nfs" not found$'):
        volumes.create({"Name": "x", "Driver": "nfs"})
    for name in ("v", "a/b", "../up"):  # names no volume can have are simply not there
        with pytest.raises(NotFound, match=f"get {name}: no such volume"):
            volumes.inspect(name)
    with pytest.raises(NotFound, match="get nope: no such volume"):
        volumes.inspect("nope")
    with pytest.raises(NotFound, match="get nope: no such volume"):
        volumes.remove("nope")
    volumes.remove("nope", force=True)  # `volume rm -f` of nothing is no error


def test_a_volume_in_use_is_neither_removed_nor_pruned(tmp_path: Path) -> None:
    volumes = service(tmp_path, {"busy": ["c0ffee"]})
    for name in ("busy", "idle", "labelled"):
        volumes.create({"Name": name, "Labels": {"keep": "yes"} if name == "labelled" else {}})
    (tmp_path / "volumes" / "idle" / "_data" / "file").write_bytes(b"x" * 1000)
    with pytest.raises(Conflict, match=r"remove busy: volume is in use - \[c0ffee\]"):
        volumes.remove("busy")
    assert [v["Name"] for v in volumes.list_volumes({"dangling": ["true"]})["Volumes"]] == ["idle", "labelled"]
    assert volumes.prune({"label!": ["keep"]}) == {"VolumesDeleted": ["idle"], "SpaceReclaimed": 1000}
    assert volumes.prune({"label!": ["keep"]}) == {"VolumesDeleted": [], "SpaceReclaimed": 0}  # [], as dockerd
    assert [v["Name"] for v in volumes.list_volumes({})["Volumes"]] == ["busy", "labelled"]
    volumes.remove("labelled")
    assert not (tmp_path / "volumes" / "labelled").exists()


def test_the_local_driver_takes_dockerd_s_mount_options(tmp_path: Path) -> None:
    volumes = service(tmp_path)
    made = volumes.create({"Name": "scratch", "DriverOpts": {"type": "tmpfs", "device": "tmpfs", "o": "size=1m"}})
    assert made["Options"] == {"type": "tmpfs", "device": "tmpfs", "o": "size=1m"}
    assert volumes.create({"Name": "scratch", "DriverOpts": {"colour": "red"}}) == made  # there already: as it is
    refusals = [
        ({"colour": "red"}, 'invalid option: "colour"'),
        ({"type": "tmpfs"}, 'missing required option: "device"'),
        ({"o": "bind"}, 'missing required option: "device"'),
        ({"device": "/srv", "o": "bind"}, 'missing required option: "type"'),
        ({"size": "10m"}, "quota size requested but no quota support"),
        ({"size": "lots"}, "invalid size: 'lots'"),
    ]
    for options, message in refusals:
        with pytest.raises(InvalidArgument) as refused:
            volumes.create({"Name": "other", "DriverOpts": options})
        assert str(refused.value) == f"create other: {message}"
    assert not (tmp_path / "volumes" / "other").exists()
    assert volumes.prune({}) == {"VolumesDeleted": [], "SpaceReclaimed": 0}  # its data lives elsewhere: kept


def test_a_volume_s_path_and_mount_are_its_data_directory(tmp_path: Path) -> None:
    volumes = service(tmp_path)
    volumes.create({"Name": "data"})
    data = tmp_path / "volumes" / "data" / "_data"
    assert volumes.path("data") == data == volumes.mount("data", "c0ffee")
    volumes.unmount("data", "c0ffee")
    with pytest.raises(NotFound):
        volumes.mount("gone", "c0ffee")
    assert LocalDriver(tmp_path / "volumes").size("data") == 0


def test_the_dangling_filter_takes_only_true_or_false(tmp_path: Path) -> None:
    volumes = service(tmp_path)
    with pytest.raises(InvalidArgument, match=r"^Invalid filter 'dangling=\[maybe\]'$"):
        volumes.list_volumes({"dangling": ["maybe"]})
    assert volumes.list_volumes({"dangling": ["0"]}) == {"Volumes": [], "Warnings": None}
