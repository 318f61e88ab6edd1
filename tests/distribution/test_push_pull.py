"""The course's publishing chapter against berth's registry: push an image, remove it, pull it back,
run it; with the progress, digests and errors a Docker user sees."""
from __future__ import annotations

import json
import re
import uuid

import pytest

from tests.daemon_harness import Daemon

DIGEST_LINE = re.compile(r"(\S+): digest: (sha256:[0-9a-f]{64}) size: (\d+)")


def new_image(daemon: Daemon, name: str) -> str:
    """An image of busybox plus one layer of its own (so pulling it downloads something)."""
    container = f"maker-{uuid.uuid4().hex[:8]}"
    daemon.berth("run", "--name", container, "busybox", "sh", "-c", f"echo {name} > /made-by-test")
    daemon.berth("commit", container, name)
    daemon.berth("rm", container)
    return name


def repo_digests(daemon: Daemon, name: str) -> list[str]:
    return json.loads(daemon.berth("image", "inspect", name).stdout)[0]["RepoDigests"]


def test_push_then_pull_brings_the_image_back_and_it_runs(daemon, registry):
    name = new_image(daemon, f"{registry}/course/helloworld")
    pushed = daemon.berth("push", name).stdout
    assert f"The push refers to repository [{name}]" in pushed
    assert "Pushed" in pushed
    tag, digest, _ = DIGEST_LINE.search(pushed).groups()
    assert tag == "latest"
    assert repo_digests(daemon, name) == [f"{name}@{digest}"]

    daemon.berth("rmi", name)
    pulled = daemon.berth("pull", name).stdout
    assert "latest: Pulling from course/helloworld" in pulled
    assert "Already exists" in pulled  # busybox's layer, which this daemon has
    assert "Pull complete" in pulled  # the committed layer, downloaded
    assert f"Digest: {digest}" in pulled
    assert f"Status: Downloaded newer image for {name}:latest" in pulled
    assert daemon.berth("run", "--rm", name, "cat", "/made-by-test").stdout == f"{name}\n"
    assert repo_digests(daemon, name) == [f"{name}@{digest}"]

    again = daemon.berth("pull", name).stdout
    assert f"Status: Image is up to date for {name}:latest" in again


def test_pull_by_digest_and_of_every_tag(daemon, registry):
    name = new_image(daemon, f"{registry}/tags/app:1.0")
    daemon.berth("tag", name, f"{registry}/tags/app:2.0")
    pushed = daemon.berth("push", "--all-tags", f"{registry}/tags/app").stdout
    digests = dict((tag, digest) for tag, digest, _ in DIGEST_LINE.findall(pushed))
    assert set(digests) == {"1.0", "2.0"}
    daemon.berth("rmi", name, f"{registry}/tags/app:2.0")

    by_digest = daemon.berth("pull", f"{registry}/tags/app@{digests['1.0']}").stdout
    assert f"Status: Downloaded newer image for {registry}/tags/app@{digests['1.0']}" in by_digest
    assert f"{registry}/tags/app:1.0" not in daemon.berth("images", "--format", "{{.Repository}}:{{.Tag}}").stdout

    every = daemon.berth("pull", "-a", f"{registry}/tags/app").stdout
    assert "1.0: Pulling from tags/app" in every and "2.0: Pulling from tags/app" in every
    listed = daemon.berth("images", "--format", "{{.Repository}}:{{.Tag}}", f"{registry}/tags/app").stdout.split()
    assert sorted(listed) == [f"{registry}/tags/app:1.0", f"{registry}/tags/app:2.0"]


def test_a_second_push_skips_what_the_registry_has_and_mounts_across_repositories(daemon, registry):
    name = new_image(daemon, f"{registry}/mount/first")
    daemon.berth("push", name)
    again = daemon.berth("push", name).stdout
    assert "Layer already exists" in again and "Pushed" not in again

    daemon.berth("tag", name, f"{registry}/mount/second")
    mounted = daemon.berth("push", f"{registry}/mount/second").stdout
    assert "Mounted from mount/first" in mounted and "Pushed" not in mounted


def test_run_pulls_an_image_it_does_not_have(daemon, registry):
    name = new_image(daemon, f"{registry}/auto/pull")
    daemon.berth("push", name)
    daemon.berth("rmi", name)
    result = daemon.berth("run", "--rm", name, "cat", "/made-by-test")
    assert result.stdout == f"{name}\n"
    assert f"Unable to find image '{name}:latest' locally" in result.stderr
    never = daemon.berth("run", "--rm", "--pull", "never", f"{registry}/auto/absent", "true", check=False)
    assert never.returncode == 125


def test_pulling_what_the_registry_does_not_have_says_so(daemon, registry):
    missing = daemon.berth("pull", f"{registry}/nobody/here", check=False)
    assert missing.returncode == 1
    assert f"repository {registry}/nobody/here not found" in missing.stderr
    name = new_image(daemon, f"{registry}/known/repo")
    daemon.berth("push", name)
    no_tag = daemon.berth("pull", f"{registry}/known/repo:nosuchtag", check=False)
    assert no_tag.returncode == 1
    assert f"manifest for {registry}/known/repo:nosuchtag not found: manifest unknown" in no_tag.stderr
    unknown = daemon.berth("push", f"{registry}/never/made", check=False)
    assert unknown.returncode == 1
    assert f"An image does not exist locally with the tag: {registry}/never/made" in unknown.stderr


@pytest.mark.docker_cli
def test_the_docker_cli_pushes_and_pulls_through_berthd(daemon, registry):
    from tests.compat.test_docker_cli import docker

    name = new_image(daemon, f"{registry}/docker/cli")
    pushed = docker(daemon, "push", name).stdout
    assert re.search(r"latest: digest: sha256:[0-9a-f]{64} size: \d+", pushed)
    docker(daemon, "rmi", name)
    pulled = docker(daemon, "pull", name).stdout
    assert f"Status: Downloaded newer image for {name}:latest" in pulled
    assert docker(daemon, "run", "--rm", name, "cat", "/made-by-test").stdout == f"{name}\n"
    missing = docker(daemon, "pull", f"{registry}/docker/absent", check=False)
    assert missing.returncode == 1 and "Error response from daemon" in missing.stderr


def test_build_pulls_a_base_image_it_does_not_have(daemon, registry, tmp_path):
    base = new_image(daemon, f"{registry}/bases/made")
    daemon.berth("push", base)
    daemon.berth("rmi", base)
    (tmp_path / "Dockerfile").write_text(f"FROM {base}\nRUN cat /made-by-test > /copied\n")
    built = daemon.berth("build", "-t", "built-on-pulled", str(tmp_path))
    assert f"Status: Downloaded newer image for {base}:latest" in built.stdout
    assert daemon.berth("run", "--rm", "built-on-pulled", "cat", "/copied").stdout == f"{base}\n"

    (tmp_path / "Dockerfile").write_text(f"FROM {registry}/bases/absent\n")
    missing = daemon.berth("build", str(tmp_path), check=False)
    assert missing.returncode == 1
    assert f"repository {registry}/bases/absent not found" in missing.stderr
    daemon.berth("rmi", "built-on-pulled")


def put_index(registry: str, namespace, repository: str, tag: str, entries: list[tuple[str, str]]) -> str:
    """An OCI index under `tag` whose entries are (platform, manifest digest) of pushed images."""
    import httpx

    from berth.network import netns

    with netns.entered(str(namespace)), httpx.Client(base_url=f"http://{registry}/v2/{repository}") as http:
        manifests = []
        for platform, digest in entries:
            manifest = http.get(f"/manifests/{digest}", headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"})
            os_name, architecture = platform.split("/")
            manifests.append({"mediaType": manifest.headers["content-type"], "digest": digest,
                              "size": len(manifest.content), "platform": {"os": os_name, "architecture": architecture}})
        index = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                            "manifests": manifests}).encode()
        put = http.put(f"/manifests/{tag}", content=index, headers={"Content-Type": "application/vnd.oci.image.index.v1+json"})
        assert put.status_code == 201, put.text
        return put.headers["docker-content-digest"]


def test_a_multi_platform_image_pulls_the_platform_asked_for(daemon, registry):
    from berth.image.config import host_architecture

    other = "arm64" if host_architecture() != "arm64" else "amd64"
    native = new_image(daemon, f"{registry}/multi/app:native")
    foreign = new_image(daemon, f"{registry}/multi/app:foreign")
    digests = {tag: DIGEST_LINE.search(daemon.berth("push", name).stdout).group(2)
               for tag, name in (("native", native), ("foreign", foreign))}
    index = put_index(registry, daemon.netns, "multi/app", "latest",
                      [(f"linux/{host_architecture()}", digests["native"]), (f"linux/{other}", digests["foreign"])])
    daemon.berth("rmi", native, foreign)

    daemon.berth("pull", f"{registry}/multi/app")
    assert daemon.berth("run", "--rm", f"{registry}/multi/app", "cat", "/made-by-test").stdout == f"{native}\n"
    assert repo_digests(daemon, f"{registry}/multi/app") == [f"{registry}/multi/app@{index}"]

    daemon.berth("pull", "--platform", f"linux/{other}", f"{registry}/multi/app")
    assert daemon.berth("run", "--rm", f"{registry}/multi/app", "cat", "/made-by-test").stdout == f"{foreign}\n"
    absent = daemon.berth("pull", "--platform", "linux/s390x", f"{registry}/multi/app", check=False)
    assert absent.returncode == 1 and "no matching manifest for linux/s390x in the manifest list entries" in absent.stderr
