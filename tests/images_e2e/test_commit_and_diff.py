"""`commit` and `diff` of exited and running containers, through berth and the real docker CLI."""
from __future__ import annotations

import json

from tests.images_e2e.conftest import docker, lines

CHANGES = ("echo new > /added; echo more >> /etc/passwd; rm /bin/ls; rm -rf /root; "
           "rm -rf /home; mkdir /home; echo kept > /home/only")


def test_diff_prints_added_changed_and_deleted_paths_like_docker(daemon):
    daemon.berth("run", "--name", "changer", "busybox", "sh", "-c", CHANGES)
    expected = ["C /bin", "D /bin/ls", "C /etc", "C /etc/passwd", "C /home", "A /home/only", "A /added",
                "D /root"]
    berth_lines = lines(daemon.berth("diff", "changer"))
    assert sorted(berth_lines) == sorted(expected)
    assert lines(docker(daemon, "diff", "changer")) == lines(daemon.berth("diff", "changer"))


def test_commit_of_an_exited_container_makes_an_image_with_exactly_its_changes(daemon):
    daemon.berth("run", "--name", "to-commit", "busybox", "sh", "-c", CHANGES)
    new_id = daemon.berth("commit", "-m", "my message", "-a", "Jane <jane@example.com>",
                          "-c", 'CMD ["cat", "/added"]', "-c", "ENV GREETING=hello", "-c", "EXPOSE 8080",
                          "-c", "WORKDIR /srv", "to-commit", "committed:exited").stdout.strip()
    try:
        assert new_id.startswith("sha256:")
        assert daemon.berth("run", "--rm", "committed:exited").stdout == "new\n"
        shown = daemon.berth("run", "--rm", "committed:exited", "sh", "-c",
                             "pwd; echo $GREETING; tail -n 1 /etc/passwd; ls /home; "
                             "test -e /bin/ls || echo no-ls; test -e /root || echo no-root").stdout
        assert shown.splitlines() == ["/srv", "hello", "more", "only", "no-ls", "no-root"]
        [image] = json.loads(daemon.berth("image", "inspect", "committed:exited").stdout)
        assert image["Id"] == new_id
        assert image["Comment"] == "my message"
        assert image["Author"] == "Jane <jane@example.com>"
        assert image["Config"]["Cmd"] == ["cat", "/added"]
        assert "GREETING=hello" in image["Config"]["Env"]
        assert image["Config"]["ExposedPorts"] == {"8080/tcp": {}}
        assert image["Config"]["WorkingDir"] == "/srv"
        assert image["Parent"] == daemon.berth("image", "inspect", "-f", "{{.Id}}", "busybox").stdout.strip()
        assert len(image["RootFS"]["Layers"]) == 2
    finally:
        daemon.berth("rmi", "committed:exited", check=False)


def test_a_replaced_directory_hides_what_the_image_had_there(daemon):
    daemon.berth("run", "--name", "replacer", "busybox", "sh", "-c",
                 "mkdir -p /data/old && touch /data/old/a")
    daemon.berth("commit", "replacer", "with-data:1")
    daemon.berth("run", "--name", "opaque", "with-data:1", "sh", "-c", "rm -rf /data; mkdir /data; touch /data/new")
    daemon.berth("commit", "opaque", "with-data:2")
    try:
        listing = daemon.berth("run", "--rm", "with-data:2", "sh", "-c", "cd /data && ls -a").stdout.split()
        assert listing == [".", "..", "new"]
        with_old = daemon.berth("run", "--rm", "with-data:1", "ls", "/data").stdout.split()
        assert with_old == ["old"]
    finally:
        daemon.berth("rmi", "with-data:2", "with-data:1", check=False)


def test_commit_of_a_running_container_with_pause_through_docker(daemon):
    daemon.berth("run", "-d", "--name", "runner", "busybox", "sh", "-c", "echo live > /live; sleep 300")
    daemon.berth("exec", "runner", "sh", "-c", "test -e /live || sleep 1")
    new_id = docker(daemon, "commit", "--pause", "-c", "ENV MODE=running", "runner", "committed:running").stdout
    try:
        assert new_id.strip().startswith("sha256:")
        assert daemon.berth("inspect", "-f", "{{.State.Status}}", "runner").stdout.strip() == "running"
        output = daemon.berth("run", "--rm", "committed:running", "sh", "-c", "cat /live; echo $MODE").stdout
        assert output.splitlines() == ["live", "running"]
        [image] = json.loads(docker(daemon, "image", "inspect", "committed:running").stdout)
        assert image["Config"]["Cmd"] == ["sh", "-c", "echo live > /live; sleep 300"]
        assert image["Container"] == daemon.berth("inspect", "-f", "{{.Id}}", "runner").stdout.strip()
    finally:
        daemon.berth("rmi", "committed:running", check=False)


def test_commit_of_an_unchanged_container_adds_an_empty_layer_marked_in_history(daemon):
    daemon.berth("create", "--name", "untouched", "busybox", "true")
    daemon.berth("commit", "untouched", "unchanged:1")
    try:
        [image] = json.loads(daemon.berth("image", "inspect", "unchanged:1").stdout)
        [base] = json.loads(daemon.berth("image", "inspect", "busybox").stdout)
        assert image["RootFS"]["Layers"] == base["RootFS"]["Layers"]
        assert image["Size"] == base["Size"]
    finally:
        daemon.berth("rmi", "unchanged:1", check=False)


def test_commit_refuses_a_missing_container_and_a_bad_reference(daemon):
    missing = daemon.berth("commit", "nosuch", "x:1", check=False)
    assert missing.returncode == 1
    assert "No such container: nosuch" in missing.stderr
    daemon.berth("create", "--name", "ref-check", "busybox", "true")
    bad = daemon.berth("commit", "ref-check", "Bad:Name", check=False)
    assert bad.returncode == 1
    assert "invalid reference format" in bad.stderr
