"""Registries for the publishing tests (see tests/registries.py)."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.daemon_harness import Daemon
from tests.registries import berth_registry


@pytest.fixture(scope="session")
def session_registry(session_daemon: Daemon, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """berth's registry on 127.0.0.1 beside the shared daemon: `host:port`."""
    with berth_registry(session_daemon.netns, tmp_path_factory.mktemp("registry") / "storage") as address:
        yield address


@pytest.fixture
def registry(daemon: Daemon, session_registry: str) -> str:
    return session_registry
