"""The daemon's image and container-file services called directly, as the builder and the registry
client will call them: no HTTP, no root, no kernel. A fake image store and a fake container service
stand in for berth.image and the containers; the event bus is the real one, so an event checked here
is the one `docker events` shows.
"""
from __future__ import annotations

import asyncio
import http.server
import io
import os
import tarfile
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any, BinaryIO

import pytest

from berth.daemon.container_files import ContainerFiles
from berth.daemon.events import EventBus
from berth.daemon.images import Images, fetch_url
from berth.errdefs import BerthError, Forbidden, InvalidArgument, NotFound

IMAGE_ID = "sha256:" + "a" * 64


class FakeStore:
    """berth.image.service.ImageService's methods the services call, recording what they were given."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.known = {"busybox": IMAGE_ID, "busybox:latest": IMAGE_ID, IMAGE_ID: IMAGE_ID}

    def resolve(self, ref: str) -> str:
        if ref not in self.known:
            raise NotFound(f"No such image: {ref}")
        return self.known[ref]

    def tag(self, source: str, repo: str, tag: str | None) -> None:
        self.resolve(source)
        self.known[f"{repo}:{tag or 'latest'}"] = self.known[source]

    def remove(self, ref: str, force: bool, prune: bool, users: Any) -> list[dict[str, str]]:
        self.calls.append(("remove", (ref, force, prune)))
        return [{"Untagged": "busybox:latest"}, {"Deleted": IMAGE_ID}]

    def load(self, stream: BinaryIO) -> list[str]:
        self.calls.append(("load", (stream.read(),)))
        return ["Loaded image: busybox:latest", f"Loaded image ID: {IMAGE_ID}"]

    def save(self, names: list[str], out: BinaryIO) -> None:
        self.calls.append(("save", (names,)))
        out.write(b"a tar of " + " ".join(names).encode())

    def import_image(self, stream: BinaryIO, repo_tag: str | None, changes: list[str], message: str,
                     source: str = "-") -> str:
        self.calls.append(("import", (stream.read(), repo_tag, changes, message, source)))
        return IMAGE_ID

    def commit(self, *args: Any) -> str:
        self.calls.append(("commit", args))
        return IMAGE_ID

    def diff(self, diff_dir: Path, image_id: str) -> list[dict[str, Any]]:
        self.calls.append(("diff", (diff_dir, image_id)))
        return [{"Path": "/tmp", "Kind": 0}]

    def export(self, root: Path, out: BinaryIO) -> None:
        self.calls.append(("export", (root,)))
        out.write(b"the whole filesystem")


class FakeContainers:
    """ContainerService's public methods the services use (get, directory, frozen, emit, users_of_image,
    mount_filesystem, binds, release_filesystem), over one container whose filesystem is `root`."""

    def __init__(self, tmp_path: Path, **host_config: Any) -> None:
        self.container = SimpleNamespace(id="c" * 64, image_id=IMAGE_ID, host_config=host_config,
                                         config={"Cmd": ["sh"], "Env": ["A=1"], "WorkingDir": "/"})
        self.home = tmp_path / "containers" / self.container.id
        self.root = tmp_path / "rootfs"
        self.root.mkdir()
        self.steps: list[str] = []
        self.emitted: list[tuple[str, dict[str, str]]] = []
        self.mounted = 0

    def get(self, ref: str) -> SimpleNamespace:
        if ref not in ("web", self.container.id):
            raise NotFound(f"No such container: {ref}")
        return self.container

    def directory(self, container: SimpleNamespace) -> Path:
        return self.home

    @asynccontextmanager
    async def frozen(self, ref: str) -> AsyncIterator[None]:
        self.steps.append("pause")
        yield
        self.steps.append("unpause")

    def emit(self, container: SimpleNamespace, action: str, **extra: str) -> None:
        self.steps.append(action)
        self.emitted.append((action, extra))

    def users_of_image(self, image_id: str) -> list[Any]:
        return []

    async def mount_filesystem(self, ref: str) -> Path:
        self.mounted += 1
        return self.root

    def binds(self, container: SimpleNamespace) -> list[tuple[str, str]]:
        return []

    def release_filesystem(self, container_id: str) -> None:
        self.mounted -= 1


def published(bus: EventBus, since: float) -> list[tuple[str, str, str, str]]:
    """(type, action, actor id, name) of the events on `bus` since `since`, as `docker events` gets them."""
    async def collect() -> list[dict[str, Any]]:
        return [event async for event in bus.stream(since, time.time(), {})]

    return [(e["Type"], e["Action"], e["Actor"]["ID"], e["Actor"]["Attributes"].get("name", ""))
            for e in asyncio.run(collect())]


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def joined(stream: AsyncIterator[bytes]) -> bytes:
    return b"".join([chunk async for chunk in stream])


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Images, FakeStore, FakeContainers, EventBus]:
    store, containers, bus = FakeStore(), FakeContainers(tmp_path), EventBus()
    return Images(store, bus, containers), store, containers, bus  # type: ignore[arg-type]


def test_commit_pauses_the_container_while_it_reads_the_layer_then_emits_commit(setup) -> None:
    images, store, containers, _ = setup
    image_id = asyncio.run(images.commit("web", {"Cmd": ["true"], "Env": None, "Labels": {}}, True,
                                         ["ENV B=2"], "a note", "me", "mine:1"))
    assert image_id == IMAGE_ID
    assert containers.steps == ["pause", "unpause", "commit"]
    assert containers.emitted == [("commit", {"comment": "a note"})]
    (name, args), = store.calls
    # what the request leaves empty keeps the container's own
    assert (name, args) == ("commit", (containers.home / "diff", IMAGE_ID,
                                       {"Cmd": ["true"], "Env": ["A=1"], "WorkingDir": "/"},
                                       ["ENV B=2"], "a note", "me", "mine:1", containers.container.id))


def test_commit_without_pause_leaves_the_container_running(setup) -> None:
    images, _, containers, _ = setup
    asyncio.run(images.commit("web", {}, False, [], "", "", None))
    assert containers.steps == ["commit"]
    with pytest.raises(NotFound, match="No such container: nope"):
        asyncio.run(images.commit("nope", {}, True, [], "", "", None))


def test_diff_reads_the_containers_writable_layer(setup) -> None:
    images, store, containers, _ = setup
    assert asyncio.run(images.changes("web")) == [{"Path": "/tmp", "Kind": 0}]
    assert store.calls == [("diff", (containers.home / "diff", IMAGE_ID))]


def test_every_image_write_publishes_its_event(setup) -> None:
    images, store, _, bus = setup
    since = time.time() - 1
    asyncio.run(images.tag("busybox", "mine", "2"))
    asyncio.run(images.tag("busybox", "bare", None))
    assert asyncio.run(images.load(chunks(b"a ", b"tar"))) == ["Loaded image: busybox:latest",
                                                               f"Loaded image ID: {IMAGE_ID}"]
    assert asyncio.run(images.import_image("-", chunks(b"rootfs"), "imported:1", ["WORKDIR /"], "hi")) == IMAGE_ID
    assert asyncio.run(joined(asyncio.run(images.save(["busybox:latest"])))) == b"a tar of busybox:latest"
    assert asyncio.run(images.remove("busybox", True, False)) == [{"Untagged": "busybox:latest"},
                                                                  {"Deleted": IMAGE_ID}]
    assert published(bus, since) == [
        ("image", "tag", IMAGE_ID, "mine:2"),
        ("image", "tag", IMAGE_ID, "bare"),
        ("image", "load", "busybox:latest", "busybox:latest"),
        ("image", "load", IMAGE_ID, IMAGE_ID),
        ("image", "import", IMAGE_ID, "imported:1"),
        ("image", "save", IMAGE_ID, IMAGE_ID),
        ("image", "untag", "busybox:latest", "busybox:latest"),
        ("image", "delete", IMAGE_ID, IMAGE_ID),
    ]
    assert ("load", (b"a tar",)) in store.calls and ("import", (b"rootfs", "imported:1", ["WORKDIR /"], "hi", "-")) \
        in store.calls and ("remove", ("busybox", True, False)) in store.calls


def test_save_resolves_every_name_before_it_publishes_or_writes_anything(setup) -> None:
    images, store, _, bus = setup
    since = time.time() - 1
    with pytest.raises(NotFound, match="No such image: nope"):
        asyncio.run(images.save(["busybox", "nope"]))
    assert published(bus, since) == [] and store.calls == []


@contextmanager
def web_server(status: int, body: bytes) -> Iterator[str]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/rootfs.tar"
    finally:
        server.shutdown()
        server.server_close()


def test_import_from_a_url_streams_its_body_into_the_store(setup) -> None:
    images, store, _, bus = setup
    since = time.time() - 1
    with web_server(200, b"a rootfs tar") as url:
        assert asyncio.run(images.import_image(url, None, None, [], "")) == IMAGE_ID
    assert store.calls == [("import", (b"a rootfs tar", None, [], "", url))]
    assert published(bus, since) == [("image", "import", IMAGE_ID, IMAGE_ID)]


def test_a_bad_url_is_the_clients_error_and_a_failed_fetch_the_daemons() -> None:
    with pytest.raises(InvalidArgument, match="invalid import source 'ftp://x/y': expected -, or an http or https URL"):
        fetch_url("ftp://x/y", lambda body: body.read())
    with web_server(404, b"") as url, pytest.raises(BerthError) as failed:
        fetch_url(url, lambda body: body.read())
    assert str(failed.value) == f'Get "{url}": 404 Not Found'
    assert type(failed.value) is BerthError  # a 500: neither a bad request nor a missing object


def test_an_error_in_an_import_publishes_nothing(setup) -> None:
    images, store, _, bus = setup
    since = time.time() - 1
    with pytest.raises(InvalidArgument):
        asyncio.run(images.import_image("file:///etc/passwd", None, None, [], ""))
    assert published(bus, since) == [] and store.calls == []


# --- a container's files -------------------------------------------------------------------------

def a_tar(name: str, data: bytes) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        info = tarfile.TarInfo(name)
        info.size, info.mode, info.uid, info.gid = len(data), 0o644, os.getuid(), os.getgid()
        tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def files_service(tmp_path: Path, **host_config: Any) -> tuple[ContainerFiles, FakeContainers, FakeStore]:
    containers, store = FakeContainers(tmp_path, **host_config), FakeStore()
    return ContainerFiles(containers, store), containers, store  # type: ignore[arg-type]


def test_copy_in_and_out_keeps_the_filesystem_mounted_only_while_it_copies(tmp_path: Path) -> None:
    files, containers, _ = files_service(tmp_path)
    (containers.root / "srv").mkdir()
    asyncio.run(files.write("web", "/srv", chunks(a_tar("note.txt", b"hello"))))
    assert (containers.root / "srv" / "note.txt").read_bytes() == b"hello" and containers.mounted == 0
    assert asyncio.run(files.stat("web", "srv/note.txt")) and containers.mounted == 0

    async def copy_out() -> tuple[str, bytes]:
        header, tar = await files.read("web", "/srv/note.txt")
        return header, await joined(tar)

    header, data = asyncio.run(copy_out())
    assert containers.mounted == 0
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        member = tar.extractfile("note.txt")
        assert member is not None and member.read() == b"hello"


def test_copy_errors_are_error_kinds_and_release_the_filesystem(tmp_path: Path) -> None:
    files, containers, _ = files_service(tmp_path)
    (containers.root / "file").write_text("x")
    with pytest.raises(NotFound, match="Could not find the file /nope in container web"):
        asyncio.run(files.stat("web", "/nope"))
    with pytest.raises(InvalidArgument, match="^extraction point is not a directory$"):
        asyncio.run(files.write("web", "/file", chunks(a_tar("a", b""))))
    with pytest.raises(InvalidArgument, match="^Error processing tar file: "):
        asyncio.run(files.write("web", "/", chunks(b"not a tar" * 100)))
    assert containers.mounted == 0
    with pytest.raises(NotFound, match="No such container: nope"):
        asyncio.run(files.stat("nope", "/"))


def test_copy_into_a_read_only_rootfs_is_forbidden_before_anything_is_mounted(tmp_path: Path) -> None:
    files, containers, _ = files_service(tmp_path, ReadonlyRootfs=True)
    with pytest.raises(Forbidden, match="^container rootfs is marked read-only$"):
        asyncio.run(files.write("web", "/", chunks(a_tar("a", b""))))
    assert containers.mounted == 0 and not any(containers.root.iterdir())


def test_export_streams_the_mounted_filesystem_then_releases_it(tmp_path: Path) -> None:
    files, containers, store = files_service(tmp_path)

    async def export() -> bytes:
        return await joined(await files.export("web"))

    assert asyncio.run(export()) == b"the whole filesystem"
    assert store.calls == [("export", (containers.root,))] and containers.mounted == 0
