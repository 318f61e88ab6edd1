"""`berth system check`, and a daemon killed with -9 in the middle of a load or a commit."""
from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

from tests.daemon_harness import BIN, Daemon
from tests.waiting import eventually

BIG_MB = 150


def problems(daemon: Daemon) -> list[str]:
    result = daemon.berth("system", "check", check=False)
    return [] if result.stdout == "store OK\n" and result.returncode == 0 else result.stdout.splitlines()


def assert_consistent(daemon: Daemon) -> None:
    """The store is clean and every name in `image ls` refers to an image that inspects and runs."""
    assert problems(daemon) == []
    for name in daemon.berth("images", "--format", "{{.Repository}}:{{.Tag}}").stdout.split():
        [image] = json.loads(daemon.berth("image", "inspect", name).stdout)
        assert image["RootFS"]["Layers"]
        assert daemon.berth("run", "--rm", name, "true").returncode == 0


def work_in_progress(daemon: Daemon) -> bool:
    """True once the daemon has started writing content it has not recorded yet."""
    layers = daemon.data_root / "layers"
    ingest = daemon.data_root / "blobs" / "ingest"
    return any(entry.name.startswith(".tmp-") for entry in layers.iterdir()) or \
        any(ingest.iterdir() if ingest.exists() else [])


def kill_during(daemon: Daemon, argv: list[str]) -> None:
    """Run a berth command, and kill -9 the daemon as soon as it is writing new content."""
    client = subprocess.Popen([str(BIN / "berth"), *argv], env=daemon.env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        def writing() -> bool:
            assert client.poll() is None, "the command finished before the daemon could be killed"
            return work_in_progress(daemon)

        eventually(writing, "the daemon to write new content", timeout=60, interval=0.005)
        daemon.kill9()
    finally:
        client.kill()
        client.wait()


def big_image(daemon: Daemon, name: str) -> None:
    daemon.berth("run", "--name", f"make-{name.replace(':', '-')}", "busybox", "sh", "-c",
                 f"head -c {BIG_MB}000000 /dev/urandom > /big")
    daemon.berth("commit", f"make-{name.replace(':', '-')}", name)


def test_check_reports_a_healthy_store_and_then_a_corrupt_blob(fresh_daemon):
    daemon = fresh_daemon
    assert daemon.berth("system", "check").stdout == "store OK\n"
    config = daemon.data_root / "blobs" / "sha256" / daemon.berth(
        "image", "inspect", "-f", "{{.Id}}", "busybox").stdout.strip().removeprefix("sha256:")
    os.chmod(config, 0o644)
    config.write_bytes(config.read_bytes().replace(b'"sh"', b'"ls"'))
    result = daemon.berth("system", "check", check=False)
    assert result.returncode == 1
    assert f"sha256:{config.name}" in result.stdout
    assert "1 problem(s) found" in result.stderr or "problem" in result.stdout + result.stderr


def test_check_reports_a_changed_file_in_an_unpacked_layer(fresh_daemon):
    daemon = fresh_daemon
    [image] = json.loads(daemon.berth("image", "inspect", "busybox").stdout)
    upper = Path(image["GraphDriver"]["Data"]["UpperDir"])
    victim = upper / "etc" / "passwd"
    victim.write_text(victim.read_text() + "intruder:x:0:0::/:/bin/sh\n")
    report = problems(daemon)
    assert any(image["RootFS"]["Layers"][0] in line for line in report), report


def test_kill_9_during_a_big_load_leaves_a_consistent_store(fresh_daemon, tmp_path):
    daemon = fresh_daemon
    big_image(daemon, "big:load")
    archive = tmp_path / "big.tar"
    daemon.berth("save", "-o", str(archive), "big:load")
    daemon.berth("rm", "make-big-load")
    daemon.berth("rmi", "big:load")
    kill_during(daemon, ["load", "-i", str(archive)])
    daemon.start()
    assert_consistent(daemon)
    daemon.berth("load", "-i", str(archive))  # and the load can simply be done again
    assert_consistent(daemon)
    assert daemon.berth("run", "--rm", "big:load", "sh", "-c", "wc -c < /big").stdout.strip() == f"{BIG_MB}000000"


def test_kill_9_during_a_commit_leaves_a_consistent_store(fresh_daemon):
    daemon = fresh_daemon
    daemon.berth("run", "--name", "writer", "busybox", "sh", "-c", f"head -c {BIG_MB}000000 /dev/urandom > /big")
    kill_during(daemon, ["commit", "writer", "big:commit"])
    daemon.start()
    assert_consistent(daemon)
    daemon.berth("commit", "writer", "big:commit")
    assert_consistent(daemon)


def test_kill_9_during_an_rmi_leaves_a_consistent_store(fresh_daemon):
    daemon = fresh_daemon
    for delay in (0.0, 0.01, 0.05):
        big_image(daemon, "big:rmi")
        daemon.berth("rm", "make-big-rmi")
        client = subprocess.Popen([str(BIN / "berth"), "rmi", "big:rmi"], env=daemon.env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)  # the moment of the crash: the behaviour under test
        daemon.kill9()
        client.wait()
        daemon.start()
        assert_consistent(daemon)  # the image is either whole (and runs) or gone
        if daemon.berth("image", "inspect", "big:rmi", check=False).returncode == 0:
            daemon.berth("rmi", "big:rmi")
        assert_consistent(daemon)


def test_prune_counts_and_removes_what_a_load_cut_short_left(fresh_daemon):
    daemon = fresh_daemon
    leftover = daemon.data_root / "layers" / ".tmp-left-by-a-crash" / "diff"
    leftover.mkdir(parents=True)
    (leftover / "big").write_bytes(os.urandom(12_000_000))
    pruned = daemon.berth("image", "prune", "-f").stdout
    assert "Total reclaimed space: 12MB" in pruned
    assert not leftover.parent.exists()


def test_a_container_removal_cut_short_does_not_keep_its_image_s_layers(fresh_daemon):
    daemon = fresh_daemon
    big_image(daemon, "big:held")
    daemon.berth("rm", "make-big-held")
    container_id = daemon.berth("create", "big:held").stdout.strip()
    daemon.kill9()
    (daemon.data_root / "containers" / container_id / "config.json").unlink()  # where `rm` was when it died
    daemon.start()
    assert daemon.berth("ps", "-aq").stdout == ""
    layers_before = len(list((daemon.data_root / "layers").iterdir()))
    daemon.berth("rmi", "big:held")
    assert len(list((daemon.data_root / "layers").iterdir())) == layers_before - 1
    assert_consistent(daemon)
