"""Volumes in containers (issue 11): named and anonymous volumes are mounted, filled from the image
at their first use, outlive their containers (and a daemon killed), and go with `rm -v` or `--rm`."""
from __future__ import annotations

import json
from pathlib import Path

from tests.daemon_harness import Daemon


def mounts(daemon: Daemon, container: str) -> list[dict]:
    return json.loads(daemon.berth("inspect", "-f", "{{json .Mounts}}", container).stdout)


def volume_names(daemon: Daemon) -> set[str]:
    return set(daemon.berth("volume", "ls", "-q").stdout.split())


def test_data_in_a_named_volume_outlives_its_containers_and_a_killed_daemon(fresh_daemon: Daemon) -> None:
    daemon = fresh_daemon
    daemon.berth("run", "--rm", "-v", "keep:/data", "busybox", "sh", "-c", "echo kept > /data/file")
    assert "keep" in volume_names(daemon)  # made on first use
    daemon.kill9()
    daemon.start()
    assert daemon.berth("run", "--rm", "-v", "keep:/data:ro", "busybox", "cat", "/data/file").stdout == "kept\n"
    refused = daemon.berth("run", "--rm", "-v", "keep:/data:ro", "busybox", "touch", "/data/x", check=False)
    assert refused.returncode != 0 and "Read-only file system" in refused.stderr
    user = daemon.berth("run", "-d", "-v", "keep:/data", "busybox", "sleep", "100").stdout.strip()
    listed = [line.split() for line in daemon.berth("system", "df", "-v").stdout.splitlines()]
    assert ["keep", "1", "5B"] in listed  # system df counts it, and the container using it
    copied_in = Path(daemon.base) / "copied"
    copied_in.write_text("via cp\n")
    daemon.berth("cp", str(copied_in), f"{user}:/data/")  # docker cp reaches into a volume
    assert daemon.berth("exec", user, "cat", "/data/copied").stdout == "via cp\n"
    in_use = daemon.berth("volume", "rm", "keep", check=False)
    assert in_use.returncode == 1 and f"remove keep: volume is in use - [{user}]" in in_use.stderr
    daemon.berth("rm", "-f", user)
    daemon.berth("volume", "rm", "keep")


def test_a_new_volume_takes_the_image_s_content_unless_nocopy(daemon: Daemon) -> None:
    filled = daemon.berth("run", "--rm", "-v", "filled:/var", "busybox", "sh", "-c",
                          "ls /var && stat -c '%U %a' /var/spool").stdout
    assert filled.split() == ["spool", "www", "root", "755"]  # what busybox's /var holds
    empty = daemon.berth("run", "--rm", "--mount", "type=volume,source=empty,target=/var,volume-nocopy", "busybox",
                         "ls", "-A", "/var").stdout
    assert empty == ""
    daemon.berth("volume", "rm", "filled", "empty")


def test_anonymous_volumes_are_mounted_and_go_with_rm_v(daemon: Daemon, tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM busybox\nRUN mkdir /seeded && echo seed > /seeded/s\nVOLUME /seeded\n")
    daemon.berth("build", "-t", "with-volume:1", str(tmp_path))
    before = volume_names(daemon)
    box = daemon.berth("run", "-d", "-v", "/scratch", "with-volume:1", "sleep", "100").stdout.strip()
    shown = {mount["Destination"]: mount for mount in mounts(daemon, box)}
    assert set(shown) == {"/scratch", "/seeded"} and all(m["Type"] == "volume" and m["Mode"] == "" for m in shown.values())
    assert daemon.berth("exec", box, "cat", "/seeded/s").stdout == "seed\n"  # the image's content, copied in
    assert volume_names(daemon) - before == {m["Name"] for m in shown.values()}
    friend = daemon.berth("run", "--rm", "--volumes-from", box, "busybox", "cat", "/seeded/s").stdout
    assert friend == "seed\n"
    daemon.berth("rm", "-f", "-v", box)
    assert volume_names(daemon) == before
    daemon.berth("run", "--rm", "-v", "/gone", "busybox", "true")  # --rm takes its anonymous volumes too
    assert volume_names(daemon) == before


def test_a_volume_can_be_backed_by_a_tmpfs_or_a_bind_and_removing_it_keeps_the_bound_files(
        daemon: Daemon, tmp_path: Path) -> None:
    daemon.berth("volume", "create", "-o", "type=tmpfs", "-o", "device=tmpfs", "-o", "o=size=1m,uid=1000", "small")
    shown = daemon.berth("run", "--rm", "-v", "small:/data", "busybox", "sh", "-c",
                         "df /data | tail -1; stat -c %u /data").stdout.split()
    assert shown[0] == "tmpfs" and shown[1] == "1024" and shown[-1] == "1000"
    source = tmp_path / "shared"
    source.mkdir()
    (source / "host-file").write_text("from the host\n")
    daemon.berth("volume", "create", "-o", "type=none", "-o", f"device={source}", "-o", "o=bind", "bound")
    for _ in range(2):  # mounted once, whatever the number of starts
        assert daemon.berth("run", "--rm", "-v", "bound:/b", "busybox", "cat", "/b/host-file").stdout == \
            "from the host\n"
    mounted = daemon.berth("run", "--rm", "--mount", "type=volume,source=asked,target=/d,volume-opt=type=tmpfs,"
                           "volume-opt=device=tmpfs,volume-label=course=docker", "busybox", "df", "/d").stdout
    assert mounted.splitlines()[-1].startswith("tmpfs")  # --mount's volume options make the new volume
    assert daemon.berth("volume", "inspect", "-f", "{{json .Labels}}", "asked").stdout == '{"course":"docker"}\n'
    daemon.berth("volume", "rm", "small", "bound", "asked")
    assert (source / "host-file").read_text() == "from the host\n"  # unmounted before its directory went
