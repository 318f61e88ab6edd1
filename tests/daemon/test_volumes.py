"""docker volume through the volume service and the local driver: create, list, inspect, rm, prune."""
from __future__ import annotations

from pathlib import Path

import pytest

from berth.daemon.volumes import VolumeService
from berth.errdefs import Conflict, InvalidArgument, NotFound


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
    with pytest.raises(NotFound, match='plugin "nfs" not found'):
        volumes.create({"Name": "x", "Driver": "nfs"})
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
    assert [v["Name"] for v in volumes.list_volumes({})["Volumes"]] == ["busy", "labelled"]
    volumes.remove("labelled")
    assert not (tmp_path / "volumes" / "labelled").exists()
