"""A registry killed (SIGKILL) in the middle of an upload leaves no half-written blob visible, and the
upload session goes on from what reached the disk once the registry is back."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.registry.conftest import Client, digest_of
from tests.waiting import eventually

ROOT = Path(__file__).resolve().parents[2]


class RegistryProcess:
    """`python -m berth.registry serve` on 127.0.0.1:<any port>, in a process of its own."""

    def __init__(self, root: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "berth.registry", "serve", "--address", "127.0.0.1:0", "--root", str(root)],
            cwd=ROOT, env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line.startswith("listening on http://127.0.0.1:"), line
        self.port = int(line.rsplit(":", 1)[1])
        self.client = Client(self.port)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()


@pytest.fixture
def processes() -> Iterator[list[RegistryProcess]]:
    started: list[RegistryProcess] = []
    yield started
    for registry in started:
        if registry.process.poll() is None:
            registry.kill()


def _send_part(port: int, method: str, path: str, total: int, part: bytes) -> socket.socket:
    """A request announcing `total` bytes of body of which only `part` is sent (the rest never comes)."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(f"{method} {path} HTTP/1.1\r\nHost: registry\r\nContent-Length: {total}\r\n\r\n".encode() + part)
    return sock


def test_a_killed_registry_leaves_no_partial_blob_and_the_upload_resumes(tmp_path: Path,
                                                                         processes: list[RegistryProcess]) -> None:
    storage = tmp_path / "registry"
    data = os.urandom(4 << 20)
    first = RegistryProcess(storage)
    processes.append(first)
    location = first.client.request("POST", "/v2/app/blobs/uploads/").header("Location") or ""
    upload_id = location.rsplit("/", 1)[1]
    data_file = storage / "blobs" / "ingest" / f"upload-{upload_id}" / "data"
    sock = _send_part(first.port, "PUT", f"{location}?digest={digest_of(data)}", len(data), data[:3 << 20])
    eventually(lambda: data_file.exists() and data_file.stat().st_size >= 2 << 20, "part of the upload on disk")
    first.kill()
    sock.close()

    blobs = storage / "blobs" / "sha256"
    assert list(blobs.iterdir()) == []
    second = RegistryProcess(storage)
    processes.append(second)
    assert second.client.request("HEAD", f"/v2/app/blobs/{digest_of(data)}").status == 404
    status = second.client.request("GET", location)
    assert status.status == 204
    done = int((status.header("Range") or "").split("-")[1]) + 1
    assert 0 < done <= 3 << 20
    finished = second.client.request("PUT", f"{location}?digest={digest_of(data)}", data[done:],
                                     {"Content-Range": f"{done}-{len(data) - 1}"})
    assert finished.status == 201, finished.body
    assert second.client.request("GET", f"/v2/app/blobs/{digest_of(data)}").body == data


def test_a_monolithic_push_cut_by_a_kill_never_becomes_visible(tmp_path: Path,
                                                               processes: list[RegistryProcess]) -> None:
    storage = tmp_path / "registry"
    data = os.urandom(2 << 20)
    first = RegistryProcess(storage)
    processes.append(first)
    first.client.push_blob("app", b"present before")
    sock = _send_part(first.port, "POST", f"/v2/app/blobs/uploads/?digest={digest_of(data)}", len(data), data[:1 << 20])
    ingest = storage / "blobs" / "ingest"
    eventually(lambda: any((d / "data").exists() and (d / "data").stat().st_size > 0 for d in ingest.iterdir()),
               "part of the push on disk")
    first.kill()
    sock.close()
    second = RegistryProcess(storage)
    processes.append(second)
    assert second.client.request("HEAD", f"/v2/app/blobs/{digest_of(data)}").status == 404
    assert [p.name for p in (storage / "blobs" / "sha256").iterdir()] == [digest_of(b"present before")[7:]]
