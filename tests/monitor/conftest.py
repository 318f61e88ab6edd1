"""Fixtures for driving the monitor zygote directly, as the daemon does."""
from __future__ import annotations

import os
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from berth.monitor import client
from tests.monitor.monitor_harness import CGROUP_PARENT, RUNTIMES, Zygote, cgroup_dirs


@pytest.fixture(scope="session")
def rootfs(busybox_tar: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The busybox root filesystem, extracted once and shared by every bundle."""
    path = tmp_path_factory.mktemp("busybox-rootfs")
    with tarfile.open(busybox_tar) as tar:
        tar.extractall(path, filter="fully_trusted")
    return path


@pytest.fixture(scope="session", autouse=True)
def cgroup_parent() -> Iterator[None]:
    """Remove the tests' parent cgroup once every container's cgroup is gone."""
    yield
    for directory in cgroup_dirs(CGROUP_PARENT):
        if os.path.isdir(directory):
            os.rmdir(directory)


@pytest.fixture(params=list(RUNTIMES), ids=list(RUNTIMES))
def zygote(request: pytest.FixtureRequest, tmp_path: Path, rootfs: Path) -> Iterator[Zygote]:
    """A zygote of the test's own, launching through berth.runtime, runc or crun."""
    socket_path = tmp_path / "zygote.sock"
    process = client.start_zygote(socket_path)
    zygote = Zygote(tmp_path, rootfs, RUNTIMES[request.param], process, socket_path)
    try:
        yield zygote
    finally:
        zygote.cleanup()
