"""The container records' one writer: what is on disk is always a whole record, and the newest."""
from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from berth.daemon.container import Container, Status
from berth.daemon.records import ContainerRecords
from berth.errdefs import Conflict, InvalidArgument, NotFound


def a_container(container_id: str = "c0ffee" * 10 + "abcd", name: str = "web") -> Container:
    return Container(id=container_id, name=name, created="2026-12-05T00:00:00Z", image="busybox", image_id="sha256:1",
                     path="sh", args=[], config={}, host_config={"RestartPolicy": {"Name": "no"}})


def on_disk(records: ContainerRecords, container: Container) -> Container:
    return Container.load(records.directory(container.id))


def test_overlapping_saves_leave_the_newest_whole_record(tmp_path: Path) -> None:
    records = ContainerRecords(tmp_path)
    container = a_container()

    async def many_changes() -> None:
        saves = []
        for number in range(200):  # a pause, an exit, a rename... each saved while others are in flight
            container.state.exit_code = number
            container.state.status = Status.PAUSED if number % 2 else Status.RUNNING
            saves.append(asyncio.create_task(records.save(container)))
            if number % 7 == 0:
                await asyncio.sleep(0)
        await asyncio.gather(*saves)

    asyncio.run(many_changes())
    saved = on_disk(records, container)
    assert (saved.state.exit_code, saved.state.status) == (199, Status.PAUSED)
    assert [path.name for path in records.directory(container.id).iterdir()] == ["config.json"]  # no temp left


def test_a_save_returns_with_its_state_on_disk(tmp_path: Path) -> None:
    records = ContainerRecords(tmp_path)
    container = a_container()

    async def save_then_read() -> int:
        container.state.pid = 42
        await records.save(container)
        return on_disk(records, container).state.pid

    assert asyncio.run(save_then_read()) == 42


def test_no_save_lands_once_a_removal_began(tmp_path: Path) -> None:
    records = ContainerRecords(tmp_path)
    container = a_container()

    async def save_during_removal() -> None:
        await records.save(container)
        late = asyncio.create_task(records.save(container))  # e.g. an exit racing with `rm -f`
        await records.stop_writing(container.id)
        (records.directory(container.id) / "config.json").unlink()
        await late

    asyncio.run(save_during_removal())
    assert not (records.directory(container.id) / "config.json").exists()


def test_the_status_is_stored_as_docker_names_it(tmp_path: Path) -> None:
    records = ContainerRecords(tmp_path)
    container = a_container()
    container.state.status = Status.EXITED
    asyncio.run(records.save(container))
    assert json.loads((records.directory(container.id) / "config.json").read_text())["state"]["status"] == "exited"
    assert on_disk(records, container).state.status is Status.EXITED


def test_containers_are_found_as_docker_finds_them(tmp_path: Path) -> None:
    records = ContainerRecords(tmp_path)
    web, db = a_container("ab12" + "0" * 60, "web"), a_container("ab34" + "0" * 60, "db")
    records.add(web)
    records.add(db)
    assert records.get("web") is web and records.get("/db") is db and records.get("ab12") is web
    with pytest.raises(InvalidArgument, match="Multiple IDs found with provided prefix: ab"):
        records.get("ab")
    with pytest.raises(NotFound, match="No such container: nope"):
        records.get("nope")
    with pytest.raises(Conflict, match=f'The container name "/web" is already in use by container "{web.id}"'):
        records.hold_name("web", db.id)


def test_a_name_is_held_from_the_create_that_asks_for_it_until_it_fails_or_the_container_goes(tmp_path: Path) -> None:
    records = ContainerRecords(tmp_path)
    first, second = "a" * 64, "b" * 64
    assert records.hold_new_name("/web", first) == "web"
    with pytest.raises(Conflict, match=f'in use by container "{first}"'):
        records.hold_new_name("web", second)  # the first create has not finished yet
    records.release_name("web", first)  # it failed
    assert records.hold_new_name("web", second) == "web"
    records.add(a_container(second, "web"))
    records.discard(second)
    assert records.hold_new_name("web", first) == "web"
