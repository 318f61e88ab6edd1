"""Suite-wide isolation and shared fixtures.

The whole test session runs in a private network namespace (only `lo`, up) and a private mount
namespace, both made here, so no test touches the host's network or leaves a mount behind. Each
daemon gets its own temporary data root, exec root and socket.
"""
from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.daemon_harness import Daemon, isolate, running_daemon

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
BUSYBOX_SCRIPT = ROOT / "scripts" / "busybox_rootfs.py"


def pytest_configure(config: pytest.Config) -> None:
    if os.geteuid() != 0:
        raise pytest.UsageError("berth's tests run as root (namespaces, mounts, cgroups)")
    isolate()


@pytest.fixture(autouse=True)
def host_dev_null_survives() -> Iterator[None]:
    """Containers share the host's devtmpfs until they pivot: a runtime slip there would show here."""
    yield
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode), "this test replaced the host's /dev/null"


@pytest.fixture(scope="session")
def busybox_tar(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A busybox root filesystem tarball made from Debian's busybox-static."""
    path = tmp_path_factory.mktemp("fixtures") / "busybox.tar"
    subprocess.run([sys.executable, str(BUSYBOX_SCRIPT), str(path)], check=True)
    return path


@pytest.fixture(scope="session")
def session_daemon(busybox_tar: Path) -> Iterator[Daemon]:
    """One daemon shared by the tests that do not restart it, with busybox:latest imported."""
    with running_daemon(busybox_tar) as daemon:
        yield daemon


@pytest.fixture
def daemon(session_daemon: Daemon) -> Iterator[Daemon]:
    """The shared daemon; containers a test leaves behind are removed after it."""
    yield session_daemon
    ids = session_daemon.berth("ps", "-aq", check=False).stdout.split()
    if ids:
        session_daemon.berth("rm", "-f", *ids, check=False)


@pytest.fixture
def fresh_daemon(busybox_tar: Path) -> Iterator[Daemon]:
    """A daemon of the test's own (for restarts and crashes), with busybox:latest imported."""
    with running_daemon(busybox_tar) as daemon:
        yield daemon
