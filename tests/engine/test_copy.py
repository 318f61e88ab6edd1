"""berth cp: files and directories between a container and the host, as docker cp copies them."""
from __future__ import annotations

import io
import os
import tarfile


def test_cp_copies_a_tree_out_and_back_in(daemon, tmp_path):
    container = daemon.berth("run", "-d", "busybox", "sh", "-c",
                             "mkdir -p /data/sub && echo two > /data/sub/b && ln -s /data/sub/b /data/link; "
                             "sleep 100").stdout.strip()
    daemon.berth("exec", container, "sh", "-c", "while [ ! -e /data/link ]; do sleep 0.05; done")
    daemon.berth("cp", f"{container}:/data", str(tmp_path))  # into an existing directory: under its name
    assert (tmp_path / "data" / "sub" / "b").read_text() == "two\n"
    assert os.readlink(tmp_path / "data" / "link") == "/data/sub/b"
    daemon.berth("cp", f"{container}:/data/sub/b", str(tmp_path / "copy-of-b"))  # a new name
    assert (tmp_path / "copy-of-b").read_text() == "two\n"
    daemon.berth("cp", str(tmp_path / "data"), f"{container}:/tmp/")
    daemon.berth("cp", str(tmp_path / "copy-of-b"), f"{container}:/tmp/renamed")
    assert daemon.berth("exec", container, "cat", "/tmp/data/sub/b", "/tmp/renamed").stdout == "two\ntwo\n"


def test_cp_with_dash_streams_a_tar(daemon, tmp_path):
    container = daemon.berth("run", "-d", "busybox", "sleep", "100").stdout.strip()
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w") as tar:
        entry = tarfile.TarInfo("given.txt")
        entry.size = 6
        tar.addfile(entry, io.BytesIO(b"given\n"))
    daemon.berth("cp", "-", f"{container}:/tmp", input=archive.getvalue())
    out = daemon.berth("cp", f"{container}:/tmp/given.txt", "-", input=b"").stdout  # bytes in, bytes out
    with tarfile.open(fileobj=io.BytesIO(out)) as tar:
        assert tar.extractfile("given.txt").read() == b"given\n"


def test_cp_errors_are_dockers(daemon, tmp_path):
    container = daemon.berth("run", "-d", "--name", "errs", "busybox", "sleep", "100").stdout.strip()
    missing = daemon.berth("cp", "errs:/nosuch", str(tmp_path), check=False)
    assert missing.stderr.strip() == "Error response from daemon: Could not find the file /nosuch in container errs"
    both = daemon.berth("cp", f"{container}:/a", f"{container}:/b", check=False)
    assert both.stderr.strip() == "copying between containers is not supported"
    neither = daemon.berth("cp", str(tmp_path), str(tmp_path / "x"), check=False)
    assert neither.stderr.strip() == "must specify at least one container source"
