"""tag, rmi, image ls, inspect, history, image prune and system df, as a user sees them."""
from __future__ import annotations

import json

import pytest

from tests.images_e2e.conftest import docker, image_id, lines


@pytest.fixture
def layered(daemon):
    """parent:1 (busybox + /p) and child:1 (parent + /c), removed afterwards."""
    daemon.berth("run", "--name", "make-parent", "busybox", "touch", "/p")
    parent = daemon.berth("commit", "make-parent", "parent:1").stdout.strip()
    daemon.berth("run", "--name", "make-child", "parent:1", "touch", "/c")
    child = daemon.berth("commit", "make-child", "child:1").stdout.strip()
    daemon.berth("rm", "make-parent", "make-child")
    yield parent, child
    for name in ("child:1", "parent:1", child, parent):
        daemon.berth("rmi", "-f", name, check=False)


def test_tag_adds_a_name_and_rmi_of_one_of_several_names_only_untags(daemon):
    busybox = image_id(daemon, "busybox")
    daemon.berth("tag", "busybox", "mine:v1")
    docker(daemon, "tag", "busybox", "localhost:5000/team/mine:v2")
    assert image_id(daemon, "mine:v1") == image_id(daemon, "localhost:5000/team/mine:v2") == busybox
    assert daemon.berth("rmi", "mine:v1").stdout == "Untagged: mine:v1\n"
    assert docker(daemon, "rmi", "localhost:5000/team/mine:v2").stdout == "Untagged: localhost:5000/team/mine:v2\n"
    assert image_id(daemon, "busybox") == busybox
    missing = daemon.berth("rmi", "mine:v1", check=False)
    assert missing.returncode == 1
    assert "No such image: mine:v1" in missing.stderr
    bad = daemon.berth("tag", "busybox", "UPPER:case", check=False)
    assert bad.returncode == 1 and "invalid reference format" in bad.stderr


def test_rmi_of_an_image_a_container_uses(daemon, layered):
    _parent, child = layered
    daemon.berth("create", "--name", "user-of-child", "child:1", "true")
    refused = daemon.berth("rmi", "child:1", check=False)
    assert refused.returncode == 1
    assert 'unable to remove repository reference "child:1" (must force) - container' in refused.stderr
    forced = lines(daemon.berth("rmi", "-f", "child:1"))
    assert forced == ["Untagged: child:1", f"Deleted: {child}"]
    # the stopped container still runs on the layers of the deleted image
    daemon.berth("start", "-a", "user-of-child")
    assert daemon.berth("run", "--rm", "parent:1", "ls", "/p").stdout == "/p\n"
    daemon.berth("rm", "user-of-child")
    assert daemon.berth("system", "check").stdout == "store OK\n"


def test_rmi_of_an_image_a_running_container_uses_is_refused_even_with_force(daemon, layered, request):
    _parent, child = layered
    daemon.berth("run", "-d", "--name", "runs-child", "child:1", "sleep", "300")
    request.addfinalizer(lambda: daemon.berth("rm", "-f", "runs-child"))
    by_id = daemon.berth("rmi", "-f", child[7:19], check=False)
    assert by_id.returncode == 1
    assert f"unable to delete {child[7:19]} (cannot be forced) - image is being used by running container" in by_id.stderr
    # by name, -f only drops the name; the image stays for the running container
    assert daemon.berth("rmi", "-f", "child:1").stdout == "Untagged: child:1\n"
    assert child in daemon.berth("images", "-a", "-q", "--no-trunc").stdout.split()


def test_rmi_by_id_prefix_and_no_prune_keeps_the_untagged_parent(daemon, layered):
    parent, child = layered
    daemon.berth("rmi", "parent:1")  # child:1 still needs it: it turns into an intermediate image
    assert parent not in daemon.berth("images", "-q", "--no-trunc").stdout.split()
    assert parent in daemon.berth("images", "-a", "-q", "--no-trunc").stdout.split()
    parent_refused = daemon.berth("rmi", parent[7:19], check=False)
    assert "image has dependent child images" in parent_refused.stderr
    removed = lines(daemon.berth("rmi", "--no-prune", child[7:17]))
    assert removed[:2] == ["Untagged: child:1", f"Deleted: {child}"]
    assert parent in daemon.berth("images", "-q", "--no-trunc", "--filter", "dangling=true").stdout.split()
    # without --no-prune, removing a child removes its untagged parents too
    daemon.berth("tag", parent, "parent:again")
    daemon.berth("run", "--name", "make-child2", "parent:again", "true")
    daemon.berth("commit", "make-child2", "child:2")
    daemon.berth("rm", "make-child2")
    daemon.berth("rmi", "parent:again")
    pruned = lines(daemon.berth("rmi", "child:2"))
    assert f"Deleted: {parent}" in pruned


def test_image_ls_flags_filters_and_format(daemon, layered):
    parent, child = layered
    daemon.berth("run", "--name", "labeller", "busybox", "true")
    labelled = daemon.berth("commit", "-c", "LABEL team=blue", "labeller", "labelled:1").stdout.strip()
    daemon.berth("rm", "labeller")
    try:
        table = lines(daemon.berth("images", "--filter", "reference=child"))
        assert table[0].split() == ["REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE"]
        assert table[1].split()[:3] == ["child", "1", child[7:19]]
        assert daemon.berth("images", "-q", "child:1").stdout == child[7:19] + "\n"
        assert daemon.berth("images", "-q", "--no-trunc", "child").stdout == child + "\n"
        assert daemon.berth("images", "-q", "--filter", "label=team=blue").stdout == labelled[7:19] + "\n"
        assert daemon.berth("images", "-q", "--filter", "label=team=red").stdout == ""
        daemon.berth("tag", "labelled:1", "labelled:2")  # as docker: one ID per row, so twice
        assert daemon.berth("images", "-q", "labelled").stdout == (labelled[7:19] + "\n") * 2
        daemon.berth("rmi", "labelled:2")
        before = daemon.berth("images", "-q", "--no-trunc", "--filter", "before=child:1").stdout.split()
        assert parent in before and child not in before and labelled not in before
        since = daemon.berth("images", "-q", "--no-trunc", "--filter", "since=parent:1").stdout.split()
        assert child in since and labelled in since and parent not in since
        digests = lines(daemon.berth("images", "--digests", "child"))
        assert digests[0].split()[:3] == ["REPOSITORY", "TAG", "DIGEST"]
        assert digests[1].split()[:3] == ["child", "1", "<none>"]
        formatted = daemon.berth("images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}", "child").stdout
        assert formatted == f"child:1 {child[7:19]}\n"
        as_json = json.loads(daemon.berth("images", "--format", "json", "child").stdout)
        assert as_json["Repository"] == "child" and as_json["ID"] == child[7:19]
        # the real docker CLI sees the same list
        assert docker(daemon, "images", "-q", "--filter", "reference=child*").stdout == \
            daemon.berth("images", "-q", "--filter", "reference=child*").stdout
        assert docker(daemon, "images", "--format", "{{.Repository}}:{{.Tag}}", "--filter",
                      "dangling=false", "labelled").stdout == "labelled:1\n"
    finally:
        daemon.berth("rmi", "labelled:1", check=False)


def test_dangling_images_show_as_none(daemon):
    # the shared daemon may hold dangling images of other tests: this one speaks of its own
    others = set(daemon.berth("images", "-q", "--filter", "dangling=true").stdout.split())
    daemon.berth("run", "--name", "first", "busybox", "touch", "/one")
    first = daemon.berth("commit", "first", "moving:1").stdout.strip()
    daemon.berth("run", "--name", "second", "busybox", "touch", "/two")
    second = daemon.berth("commit", "second", "moving:1").stdout.strip()  # takes the name from `first`
    try:
        dangling = lines(daemon.berth("images", "--filter", "dangling=true"))
        assert [row.split()[:3] for row in dangling[1:] if row.split()[2] not in others] == \
            [["<none>", "<none>", first[7:19]]]
        assert set(docker(daemon, "images", "-q", "--filter", "dangling=true").stdout.split()) - others == \
            {first[7:19]}
        assert f"<none>:<none> {first[7:19]}" in docker(
            daemon, "images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}").stdout
        [record] = json.loads(daemon.berth("image", "inspect", first).stdout)
        assert record["RepoTags"] == []
    finally:
        daemon.berth("rmi", second, first, check=False)


def test_inspect_has_docker_shape(daemon):
    [berth_view] = json.loads(daemon.berth("image", "inspect", "busybox").stdout)
    [docker_view] = json.loads(docker(daemon, "image", "inspect", "busybox").stdout)
    assert berth_view == docker_view
    for field in ("Id", "RepoTags", "RepoDigests", "Parent", "Comment", "Created", "Container",
                  "ContainerConfig", "DockerVersion", "Author", "Config", "Architecture", "Os", "Size",
                  "GraphDriver", "RootFS", "Metadata"):
        assert field in berth_view
    assert berth_view["RootFS"]["Type"] == "layers"
    assert berth_view["GraphDriver"]["Name"] == "overlay2"
    assert daemon.berth("image", "inspect", "-f", "{{.Os}}/{{.Architecture}}", "busybox").stdout == "linux/amd64\n"
    missing = daemon.berth("image", "inspect", "nosuch:tag", check=False)
    assert missing.returncode == 1 and "No such image: nosuch:tag" in missing.stderr


def test_history_lists_each_step_with_sizes_and_comments(daemon, layered):
    parent, child = layered
    rows = lines(daemon.berth("history", "child:1"))
    assert rows[0].split() == ["IMAGE", "CREATED", "CREATED", "BY", "SIZE", "COMMENT"]
    assert [row.split()[0] for row in rows[1:]] == [child[7:19], parent[7:19], image_id(daemon, "busybox")[7:19]]
    assert "touch /c" in rows[1]
    assert rows[3].rstrip().endswith("Imported from -")
    full = lines(docker(daemon, "history", "--no-trunc", "-H=false", "child:1"))
    assert full[0].split()[:3] == ["IMAGE", "CREATED", "AT"]
    assert full[1].startswith(child)
    assert lines(daemon.berth("history", "--no-trunc", "--no-human", "child:1"))[1:] == full[1:]
    assert daemon.berth("history", "-q", "child:1").stdout.split()[0] == child[7:19]


def test_image_prune_removes_dangling_then_with_all_every_unused_image(daemon):
    daemon.berth("run", "--name", "old", "busybox", "touch", "/old")
    old = daemon.berth("commit", "old", "prunable:1").stdout.strip()
    daemon.berth("run", "--name", "new", "busybox", "touch", "/new")
    daemon.berth("commit", "new", "prunable:1")
    daemon.berth("rm", "old", "new")
    daemon.berth("run", "--name", "keeper", "busybox", "true")
    try:
        pruned = daemon.berth("image", "prune", "-f").stdout
        assert f"deleted: {old}" in pruned
        assert "Total reclaimed space:" in pruned
        assert old not in daemon.berth("images", "-a", "-q", "--no-trunc").stdout
        assert "prunable" in daemon.berth("images").stdout
        everything = docker(daemon, "image", "prune", "-a", "-f").stdout
        assert "untagged: prunable:1" in everything
        assert "busybox" in daemon.berth("images").stdout  # the container `keeper` uses it
    finally:
        daemon.berth("rm", "keeper")
        daemon.berth("rmi", "prunable:1", check=False)


def test_system_df_counts_images_and_their_use(daemon):
    report = lines(daemon.berth("system", "df"))
    assert report[0].split() == ["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"]
    images_row = report[1].split()
    assert images_row[0] == "Images"
    assert int(images_row[1]) == len(daemon.berth("images", "-a", "-q").stdout.split())
    assert lines(docker(daemon, "system", "df"))[:2] == report[:2]
    for template in ("{{json .}}", "table {{.Type}}\t{{.Reclaimable}}", "{{.Type}}={{.TotalCount}}"):
        assert daemon.berth("system", "df", "--format", template).stdout == \
            docker(daemon, "system", "df", "--format", template).stdout
