"""Many clients at once, each on a connection of its own: a name goes to exactly one container, and
the names the daemon makes up never collide."""
from __future__ import annotations

import asyncio
import os
import signal
import socket

import httpx

from tests.engine_api import async_client

BODY = {"Image": "busybox", "Cmd": ["true"]}


def create_at_once(daemon, count: int, name: str | None = None) -> list[httpx.Response]:
    async def creates() -> list[httpx.Response]:
        async with async_client(daemon) as api:
            params = {"name": name} if name else {}
            return await asyncio.gather(*(api.post("/containers/create", params=params, json=BODY)
                                          for _ in range(count)))

    return asyncio.run(creates())


def test_one_of_forty_creates_with_one_name_wins_and_the_rest_get_dockerds_conflict(daemon):
    answers = create_at_once(daemon, 40, "contested")
    created = [answer for answer in answers if answer.status_code == 201]
    assert len(created) == 1, [answer.status_code for answer in answers]
    winner = created[0].json()["Id"]
    refused = [answer for answer in answers if answer is not created[0]]
    assert {answer.status_code for answer in refused} == {409}
    assert {answer.json()["message"] for answer in refused} == {
        f'Conflict. The container name "/contested" is already in use by container "{winner}". '
        "You have to remove (or rename) that container to be able to reuse that name."}
    assert daemon.berth("ps", "-aq", "--no-trunc").stdout.split() == [winner]


def test_unnamed_creates_at_once_all_get_names_of_their_own(daemon):
    # 150 names drawn at once from berth's ~1,250 make a repeated draw all but certain.
    answers = create_at_once(daemon, 150)
    assert [answer.status_code for answer in answers] == [201] * 150, {a.text for a in answers if a.status_code != 201}
    names = daemon.berth("ps", "-a", "--format", "{{.Names}}").stdout.split()
    assert len(names) == len(set(names)) == 150


def test_a_burst_of_connections_waits_for_the_daemon_rather_than_being_refused(daemon):
    burst = []
    os.kill(daemon.process.pid, signal.SIGSTOP)  # accepts nothing meanwhile: every connection queues
    try:
        for _ in range(500):
            sock = socket.socket(socket.AF_UNIX)
            sock.setblocking(False)
            burst.append(sock)
            sock.connect(str(daemon.socket))  # BlockingIOError (EAGAIN) once the queue is full
    finally:
        os.kill(daemon.process.pid, signal.SIGCONT)
        for sock in burst:
            sock.close()
