"""Suite-wide isolation and shared fixtures.

As root, the whole test session runs in a private network namespace (only `lo`, up) and a private
mount namespace, both made here, so no test touches the host's network or leaves a mount behind.
Each daemon gets its own temporary data root, exec root and socket. As any other user, the tests
marked `root` are left out and the rest run.
"""
from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import system_files
from tests.daemon_harness import Daemon, isolate, running_daemon

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
BUSYBOX_SCRIPT = ROOT / "scripts" / "busybox_rootfs.py"


# Tests that need root or the kernel (namespaces, mounts, cgroups, a real daemon or runtime) are
# marked `root`: every test that uses one of ROOT_FIXTURES (or a fixture built on one), every test in
# ROOT_DIRECTORIES, and any test marked `root` by hand. As any other user, the rest run and these are
# deselected, with a line that says how many. A test in one of ROOT_DIRECTORIES that needs neither
# root nor the kernel (parsing, wire formats) says so with `any_user`, which a root fixture contradicts.
ROOT_FIXTURES = {"busybox_tar", "session_daemon", "daemon", "fresh_daemon"}
# layer: applying an archive gives its files their owners (root's, mostly), devices and xattrs; as
# another user that fails, and a test that accepts a refused archive would pass without testing anything
ROOT_DIRECTORIES = {"runtime", "engine", "monitor", "compat", "images_e2e", "layer"}
AS_ROOT = os.geteuid() == 0


def pytest_configure(config: pytest.Config) -> None:
    system_files.watch()
    config.addinivalue_line("markers", "root: needs root and the kernel (namespaces, mounts, cgroups, a daemon)")
    config.addinivalue_line("markers", "any_user: runs as any user, though its directory is one of ROOT_DIRECTORIES")
    if AS_ROOT:
        isolate()


def needs_root(item: pytest.Item) -> bool:
    fixtures = ROOT_FIXTURES & set(getattr(item, "fixturenames", ()))
    if item.get_closest_marker("any_user"):
        if fixtures or item.get_closest_marker("root"):
            raise pytest.UsageError(f"{item.nodeid} is marked any_user but needs root: "
                                    f"{', '.join(sorted(fixtures)) or 'marked root'}")
        return False
    directory = Path(item.path).relative_to(ROOT / "tests").parts[0]
    return bool(fixtures) or directory in ROOT_DIRECTORIES or item.get_closest_marker("root") is not None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if needs_root(item):
            item.add_marker(pytest.mark.root)
    if not AS_ROOT:
        needing_root = [item for item in items if item.get_closest_marker("root")]
        items[:] = [item for item in items if not item.get_closest_marker("root")]
        config.hook.pytest_deselected(items=needing_root)
        config.stash[NOT_RUN] = len(needing_root)


NOT_RUN = pytest.StashKey[int]()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    if not AS_ROOT:
        terminalreporter.write_line(f"{config.stash.get(NOT_RUN, 0)} tests marked `root` were not run: they need "
                                    "root (run the suite as root for all of them)", yellow=True)


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


def stray_state() -> list[str]:
    """What a finished session must not leave in its namespaces: interfaces other than `lo`, firewall
    tables, and mounts of test daemons (each daemon's own network namespace goes with its base)."""
    from nftables import Nftables
    from pyroute2 import IPRoute

    with IPRoute() as ipr:
        stray = [f"interface {link.get_attr('IFLA_IFNAME')}" for link in ipr.get_links()
                 if link.get_attr("IFLA_IFNAME") != "lo"]
    nft = Nftables()
    code, tables, _ = nft.cmd("list tables")
    stray += [f"nftables {line}" for line in tables.splitlines() if code == 0 and line.strip()]
    with open("/proc/self/mountinfo") as mounts:
        stray += [f"mount {line.split()[4]}" for line in mounts if "/berth-test-" in line.split()[4]]
    return stray


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """After the whole suite (as root): no stray interfaces, rules or mounts, or the session fails."""
    if session.testscollected and (gaps := system_files.unlisted()):
        sys.stderr.write("the tests read files of packages scripts/system-deps.sh does not install:\n"
                         + "".join(f"  {gap}\n" for gap in gaps))
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    if not AS_ROOT or session.testscollected == 0:
        return
    stray = stray_state()
    if stray:
        sys.stderr.write("the suite left behind:\n" + "".join(f"  {item}\n" for item in stray))
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
