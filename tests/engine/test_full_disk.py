"""A daemon whose data root is full: what it cannot write is said, and nothing waits forever."""
from __future__ import annotations

import errno
from collections.abc import Iterator
from pathlib import Path

import pytest

from berth.linux import syscalls
from tests.daemon_harness import Daemon, new_daemon


@pytest.fixture
def small_disk_daemon(busybox_tar: Path) -> Iterator[Daemon]:
    """A daemon whose data root is a 64 MB tmpfs."""
    daemon = new_daemon()
    try:
        daemon.data_root.mkdir(parents=True)
        syscalls.mount("tmpfs", str(daemon.data_root), "tmpfs", 0, "size=64m")
        daemon.start()
        daemon.berth("import", "-c", 'CMD ["sh"]', str(busybox_tar), "busybox:latest")
        yield daemon
    finally:
        daemon.cleanup()


def fill(directory: Path, leave: int = 0) -> None:
    """Write zeros into `directory` until the file system has no room left but `leave` bytes."""
    with open(directory / "filler", "wb") as filler:
        try:
            while True:
                filler.write(bytes(1 << 20))
                filler.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
        filler.truncate(max(filler.tell() - leave, 0))


def test_an_exit_the_daemon_cannot_record_still_reaches_the_waiting_client(small_disk_daemon):
    daemon = small_disk_daemon
    container_id = daemon.berth("run", "-d", "busybox", "sh", "-c", "sleep 2; exit 3").stdout.strip()
    fill(daemon.data_root)
    assert daemon.berth("wait", container_id, timeout=30).stdout == "3\n"
    assert daemon.berth("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", container_id).stdout.split() == ["exited", "3"]


def test_a_load_onto_a_full_disk_says_so(small_disk_daemon, tmp_path):
    daemon = small_disk_daemon
    daemon.berth("run", "--name", "maker", "busybox", "sh", "-c", "head -c 8000000 /dev/urandom > /data")
    daemon.berth("commit", "maker", "random:1")
    daemon.berth("rm", "maker")
    daemon.berth("save", "-o", str(tmp_path / "random.tar"), "random:1")
    daemon.berth("rmi", "random:1")
    fill(daemon.data_root, leave=2 << 20)  # room for the database, not for the layer
    refused = daemon.berth("load", "-i", str(tmp_path / "random.tar"), check=False)
    assert refused.returncode == 1
    assert "no space left on device" in refused.stderr and "invalid archive" not in refused.stderr


def test_the_daemon_starts_again_on_a_full_disk_or_says_why(small_disk_daemon):
    daemon = small_disk_daemon
    daemon.stop()
    fill(daemon.data_root)
    try:
        daemon.start()
    except RuntimeError:  # it did not start: its log says why in one line, no traceback
        log = daemon.log_file.read_text()
        assert "Traceback" not in log and "no space left on device" in log, log
    else:
        assert daemon.berth("images", "-q").stdout.strip()


def test_rm_f_on_a_full_disk_removes_the_container(small_disk_daemon):
    daemon = small_disk_daemon
    container_id = daemon.berth("run", "-d", "busybox", "sleep", "1000").stdout.strip()
    fill(daemon.data_root)
    removed = daemon.berth("rm", "-f", container_id, check=False)
    assert removed.returncode == 0, removed.stderr
    assert daemon.berth("ps", "-aq").stdout == ""
