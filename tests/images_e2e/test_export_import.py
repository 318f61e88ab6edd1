"""export a container's filesystem; import a tarball from a file, from stdin and from a URL."""
from __future__ import annotations

import http.server
import io
import json
import tarfile
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from berth.network import netns
from tests.daemon_harness import Daemon
from tests.images_e2e.conftest import docker, run


@pytest.fixture
def exported(daemon, tmp_path: Path) -> Path:
    """The filesystem of a container that added /hello and removed /bin/ls, exported to a file."""
    daemon.berth("run", "--name", "to-export", "busybox", "sh", "-c", "echo world > /hello; rm /bin/ls")
    path = tmp_path / "fs.tar"
    daemon.berth("export", "-o", str(path), "to-export")
    return path


@pytest.fixture
def web_server(tmp_path: Path, daemon: Daemon) -> Iterator[tuple[str, Path]]:
    """An HTTP server on the daemon's 127.0.0.1 serving the files of a directory: (base URL, directory)."""
    served = tmp_path / "served"
    served.mkdir()
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    with netns.entered(str(daemon.netns)):  # the daemon's host is a network namespace of its own
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", served
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def members(path: Path) -> set[str]:
    with tarfile.open(path) as tar:
        return {member.name.rstrip("/") for member in tar}


def test_export_writes_the_merged_filesystem_as_a_tar(daemon, exported):
    names = members(exported)
    assert {"hello", "bin/busybox", "bin/sh", "etc/passwd"} <= names
    assert "bin/ls" not in names
    assert not any(name.startswith(".wh.") or "/.wh." in name for name in names)
    with tarfile.open(exported) as tar:
        assert tar.extractfile("hello").read() == b"world\n"
    streamed = run(["docker", "export", "to-export"], env=daemon.env, input=b"").stdout
    with tarfile.open(fileobj=io.BytesIO(streamed)) as tar:
        assert {member.name.rstrip("/") for member in tar} == names
    listing = run(["tar", "-tf", str(exported)]).stdout.split()
    assert "hello" in listing
    # the init layer's entries, as in a dockerd export: /.dockerenv, mountpoints, /etc/mtab
    with tarfile.open(exported) as tar:
        assert tar.getmember(".dockerenv").isfile() and tar.getmember("etc/mtab").linkname == "/proc/mounts"
        assert {"dev/console", "dev/pts", "dev/shm", "etc/hostname"} <= names
        assert tar.getmember("proc").mode == 0o555


def test_import_of_a_file_and_of_stdin_with_changes_and_message(daemon, exported):
    try:
        file_id = daemon.berth("import", "-c", 'CMD ["cat", "/hello"]', "-c", "ENV FROM=file",
                               "-m", "from a file", str(exported), "imported:file").stdout.strip()
        assert file_id.startswith("sha256:")
        assert daemon.berth("run", "--rm", "imported:file").stdout == "world\n"
        [image] = json.loads(daemon.berth("image", "inspect", "imported:file").stdout)
        assert image["Comment"] == "from a file"
        assert image["Config"]["Env"] == ["FROM=file"]
        assert len(image["RootFS"]["Layers"]) == 1
        assert daemon.berth("history", "--format", "{{.Comment}}", "imported:file").stdout == "from a file\n"
        stdin_id = run(["docker", "import", "-c", "WORKDIR /tmp", "-", "imported:stdin"], env=daemon.env,
                       input=exported.read_bytes()).stdout.decode().strip()
        [image] = json.loads(daemon.berth("image", "inspect", "imported:stdin").stdout)
        assert image["Id"] == stdin_id
        assert image["Comment"] == "Imported from -"
        assert image["Config"]["WorkingDir"] == "/tmp"
        assert image["RootFS"]["Layers"] == json.loads(daemon.berth(
            "image", "inspect", "imported:file").stdout)[0]["RootFS"]["Layers"]
        assert daemon.berth("run", "--rm", "imported:stdin", "pwd").stdout == "/tmp\n"
    finally:
        daemon.berth("rmi", "imported:file", "imported:stdin", check=False)


def test_import_from_a_url_is_fetched_by_the_daemon(daemon, exported, web_server):
    base_url, served = web_server
    (served / "rootfs.tar").write_bytes(exported.read_bytes())
    url = f"{base_url}/rootfs.tar"
    try:
        image_id = daemon.berth("import", "-c", 'CMD ["cat", "/hello"]', url, "imported:url").stdout.strip()
        assert image_id.startswith("sha256:")
        assert daemon.berth("run", "--rm", "imported:url").stdout == "world\n"
        assert daemon.berth("image", "inspect", "-f", "{{.Comment}}", "imported:url").stdout == f"Imported from {url}\n"
        by_docker = docker(daemon, "import", "-m", "fetched", url, "imported:url2").stdout.strip()
        assert daemon.berth("image", "inspect", "-f", "{{.Id}} {{.Comment}}", "imported:url2").stdout == \
            f"{by_docker} fetched\n"
        missing = daemon.berth("import", f"{base_url}/nosuch.tar", check=False)
        assert missing.returncode == 1
        assert "404" in missing.stderr
    finally:
        daemon.berth("rmi", "imported:url", "imported:url2", check=False)


def test_import_of_something_that_is_not_a_tar_is_refused_and_leaves_nothing(daemon, tmp_path):
    before = daemon.berth("images", "-a", "-q").stdout
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"this is not a tar archive" * 100)
    refused = daemon.berth("import", str(junk), "junk:1", check=False)
    assert refused.returncode == 1
    assert "cannot import" in refused.stderr
    assert daemon.berth("images", "-a", "-q").stdout == before
    assert daemon.berth("system", "check").stdout == "store OK\n"
