"""Building images (issue 9) as a user does: `berth build` and `docker build` against berthd, each
instruction with Docker's behaviour, stages, the cache, `.dockerignore`, and failures that leave
nothing behind."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.daemon_harness import Daemon

DOCKER = shutil.which("docker")


def context(tmp_path: Path, dockerfile: str, **files: str) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = tmp_path / name.replace("__", "/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    (tmp_path / "Dockerfile").write_text(dockerfile)
    return tmp_path


def config_of(daemon: Daemon, image: str) -> dict:
    return json.loads(daemon.berth("image", "inspect", image).stdout)[0]["Config"]


def test_a_dockerfile_builds_an_image_that_runs_as_written(daemon: Daemon, tmp_path: Path) -> None:
    built = daemon.berth("build", "-t", "course/hello:1", str(context(tmp_path, """\
FROM busybox
LABEL maintainer="course" version=1
ENV GREETING=hello TARGET=world
ARG SUFFIX=!
WORKDIR /app
COPY greeting.txt ./
COPY conf /app/conf/
RUN echo "$GREETING $TARGET$SUFFIX" > built.txt
EXPOSE 8080 53/udp
VOLUME /data
USER 1000:1000
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=5s --retries=2 CMD ["true"]
CMD ["cat", "/app/built.txt"]
""", **{"greeting.txt": "hi\n", "conf__a.conf": "a\n", "conf__sub__b.conf": "b\n"}))).stdout
    assert "Step 1/14 : FROM busybox" in built and "Step 8/14 : RUN" in built
    assert "Successfully tagged course/hello:1" in built
    assert daemon.berth("run", "--rm", "course/hello:1").stdout == "hello world!\n"
    listing = daemon.berth("run", "--rm", "course/hello:1", "sh", "-c", "id -u; pwd; find /app | sort").stdout
    assert listing.split() == ["1000", "/app", "/app", "/app/built.txt", "/app/conf", "/app/conf/a.conf",
                               "/app/conf/sub", "/app/conf/sub/b.conf", "/app/greeting.txt"]
    config = config_of(daemon, "course/hello:1")
    assert config["Labels"] == {"maintainer": "course", "version": "1"}
    assert "GREETING=hello" in config["Env"] and not any(e.startswith("SUFFIX=") for e in config["Env"])
    assert config["ExposedPorts"] == {"8080/tcp": {}, "53/udp": {}} and config["Volumes"] == {"/data": {}}
    assert (config["User"], config["WorkingDir"], config["StopSignal"]) == ("1000:1000", "/app", "SIGTERM")
    assert config["Healthcheck"] == {"Test": ["CMD", "true"], "Interval": 5_000_000_000, "Retries": 2}
    history = json.loads(daemon.berth("history", "--no-trunc", "--format", "{{json .}}", "course/hello:1").stdout
                         .splitlines()[0])
    assert history["CreatedBy"] == '/bin/sh -c #(nop)  CMD ["cat", "/app/built.txt"]'


def test_a_rebuild_with_nothing_changed_uses_the_cache_and_a_changed_file_invalidates_from_its_copy(
        daemon: Daemon, tmp_path: Path) -> None:
    root = context(tmp_path, "FROM busybox\nRUN echo one > /one\nCOPY file /file\nRUN cat /file > /two\n", file="v1\n")
    first = daemon.berth("build", "-q", str(root)).stdout.strip()
    again = daemon.berth("build", str(root)).stdout
    assert again.count("Using cache") == 3 and f"Successfully built {first[7:19]}" in again
    (root / "file").write_text("v2\n")
    changed = daemon.berth("build", str(root)).stdout
    assert changed.count("Using cache") == 1  # the first RUN only
    assert "Using cache" not in daemon.berth("build", "--no-cache", str(root)).stdout


def test_cache_from_takes_only_the_history_of_the_images_it_names(daemon: Daemon, tmp_path: Path) -> None:
    root = context(tmp_path, "FROM busybox\nENV FOO=bar\nCOPY f /f\nRUN touch /baz\n", f="x\n")
    daemon.berth("build", "-t", "cache-source:1", str(root))
    reused = daemon.berth("build", "--cache-from", "cache-source:1", str(root)).stdout
    assert reused.count("Using cache") == 3
    history = daemon.berth("history", "--no-trunc", "--format", "{{.CreatedBy}}", "cache-source:1").stdout
    assert "/bin/sh -c #(nop) COPY file:" in history  # the copied content's checksum, as Docker writes it
    elsewhere = daemon.berth("build", "--cache-from", "nosuch:1", str(root)).stdout
    assert "Using cache" not in elsewhere


def test_stages_copy_from_each_other_and_target_stops_the_build(daemon: Daemon, tmp_path: Path) -> None:
    root = context(tmp_path, """\
ARG BASE=busybox
FROM ${BASE} AS compile
ARG FLAVOUR=plain
RUN echo "made $FLAVOUR" > /artifact
FROM scratch AS release
COPY --from=compile /artifact /out/
COPY --from=compile /bin/busybox /bin/sh
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["cat /out/artifact"]
FROM busybox
RUN exit 7
""")
    daemon.berth("build", "--target", "release", "--build-arg", "FLAVOUR=spicy", "-t", "release:1", str(root))
    assert daemon.berth("run", "--rm", "release:1").stdout == "made spicy\n"
    failed = daemon.berth("build", str(root), check=False)
    assert failed.returncode == 7 and "The command '/bin/sh -c exit 7' returned a non-zero code: 7" in failed.stderr
    unknown = daemon.berth("build", "--target", "nosuch", str(root), check=False)
    assert unknown.returncode == 1 and "failed to reach build target nosuch in Dockerfile" in unknown.stderr


def test_stages_without_names_are_found_by_their_number(daemon: Daemon, tmp_path: Path) -> None:
    root = context(tmp_path, """\
FROM busybox
RUN echo first > /made
FROM busybox
RUN echo second > /made
FROM busybox
COPY --from=0 /made /from-0
COPY --from=1 /made /from-1
CMD cat /from-0 /from-1
""")
    daemon.berth("build", "-t", "numbered:1", str(root))
    assert daemon.berth("run", "--rm", "numbered:1").stdout == "first\nsecond\n"


def test_dockerignore_leaves_files_out_of_the_context(daemon: Daemon, tmp_path: Path) -> None:
    root = context(tmp_path, "FROM busybox\nCOPY . /ctx/\nCMD find /ctx -type f\n",
                   **{".dockerignore": "secret*\n**/*.log\n!keep.log\nbuild\n", "secret.key": "k", "app.py": "",
                      "logs__a.log": "", "keep.log": "", "build__out.bin": ""})
    daemon.berth("build", "-t", "ignored:1", str(root))
    files = sorted(daemon.berth("run", "--rm", "ignored:1").stdout.split())
    assert files == ["/ctx/.dockerignore", "/ctx/Dockerfile", "/ctx/app.py", "/ctx/keep.log"]


def test_add_unpacks_local_archives_and_copy_sets_owner_and_mode(daemon: Daemon, tmp_path: Path) -> None:
    import tarfile

    payload = tmp_path / "payload"
    (payload / "inner").mkdir(parents=True)
    (payload / "inner" / "file.txt").write_text("packed\n")
    with tarfile.open(tmp_path / "bundle.tar.gz", "w:gz") as archive:
        archive.add(payload / "inner", arcname="inner")
    shutil.rmtree(payload)
    root = context(tmp_path, """\
FROM busybox
ADD bundle.tar.gz /opt/
COPY bundle.tar.gz /kept/
COPY --chown=nobody:nogroup --chmod=600 script.sh /usr/local/bin/
CMD cat /opt/inner/file.txt; ls /kept; stat -c '%U:%G %a' /usr/local/bin/script.sh
""", **{"script.sh": "#!/bin/sh\n"})
    daemon.berth("build", "-t", "added:1", str(root))
    assert daemon.berth("run", "--rm", "added:1").stdout == "packed\nbundle.tar.gz\nnobody:nogroup 600\n"


def test_add_fetches_a_url_and_keeps_an_archive_packed(daemon: Daemon, tmp_path: Path) -> None:
    import functools
    import http.server
    import tarfile
    import threading

    from berth.network import netns

    served = tmp_path / "served"
    served.mkdir()
    with tarfile.open(served / "bundle.tar", "w") as archive:
        archive.add(__file__, arcname="inside.py")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    with netns.entered(str(daemon.netns)):  # on the daemon's host: its loopback
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        root = context(tmp_path / "ctx", f"FROM busybox\nADD {url}/bundle.tar /fetched/\n"
                                        "CMD stat -c '%n %a' /fetched/*\n")
        daemon.berth("build", "-t", "fetched:1", str(root))
        assert daemon.berth("run", "--rm", "fetched:1").stdout == "/fetched/bundle.tar 600\n"
        missing = daemon.berth("build", str(context(tmp_path / "ctx2", f"FROM busybox\nADD {url}/nosuch /x\n")),
                               check=False)
        assert missing.returncode == 1 and f"failed to GET {url}/nosuch" in missing.stderr
        # a whole context from a URL: a tar, or a Dockerfile alone
        with tarfile.open(served / "context.tar.gz", "w:gz") as archive:
            archive.add(context(tmp_path / "ctx3", "FROM busybox\nCOPY note /note\nCMD cat /note\n",
                                note="from afar\n"), arcname=".")
        daemon.berth("build", "-t", "remote:1", f"{url}/context.tar.gz")
        assert daemon.berth("run", "--rm", "remote:1").stdout == "from afar\n"
        (served / "Dockerfile.txt").write_text("FROM busybox\nCMD echo alone\n")
        daemon.berth("build", "-t", "remote:2", f"{url}/Dockerfile.txt")
        assert daemon.berth("run", "--rm", "remote:2").stdout == "alone\n"
    finally:
        server.shutdown()


def test_source_date_epoch_makes_a_build_reproducible(daemon: Daemon, tmp_path: Path) -> None:
    root = context(tmp_path, "FROM busybox\nENV A=1\nWORKDIR /w\nCOPY f /w/\nRUN echo made > /w/made && mkdir -p /w/d\n",
                   f="content\n")
    env_build = ["build", "-q", "--no-cache", str(root)]
    first = daemon.berth("build", "-q", "--no-cache", "--build-arg", "SOURCE_DATE_EPOCH=1700000000", str(root))
    (root / "f").touch()  # a newer file time, clamped to the epoch all the same
    second = daemon.berth("build", "-q", "--no-cache", "--build-arg", "SOURCE_DATE_EPOCH=1700000000", str(root))
    assert first.stdout == second.stdout
    assert json.loads(daemon.berth("image", "inspect", first.stdout.strip()).stdout)[0]["Created"] \
        == "2023-11-14T22:13:20Z"
    assert daemon.berth(*env_build).stdout != daemon.berth(*env_build).stdout  # without it, times differ


@pytest.mark.parametrize(("dockerfile", "line", "message"), [
    ("FROM busybox\nFROBNICATE x\n", 2, "unknown instruction: FROBNICATE"),
    ("RUN true\n", 1, "Please provide a source image with `from` prior to commit"),
    ('FROM busybox\nCMD ["sh", ["nested"]]\n', 2, "only strings allowed in a JSON array"),
    ("FROM busybox\nENV PATH\n", 2, "ENV must have two arguments"),
    ("FROM busybox\nENV X=\"${UNSET?must be set}\"\n", 2, "UNSET: must be set"),
])
def test_a_bad_dockerfile_names_its_line_and_leaves_no_image(daemon: Daemon, tmp_path: Path, dockerfile: str,
                                                              line: int, message: str) -> None:
    before = daemon.berth("image", "ls", "-aq").stdout
    refused = daemon.berth("build", "-t", "never:1", str(context(tmp_path, dockerfile)), check=False)
    assert refused.returncode != 0 and message in refused.stderr
    assert f"line {line}" in refused.stderr
    assert daemon.berth("image", "ls", "-aq").stdout == before


def test_copy_refuses_paths_outside_or_missing_from_the_context(daemon: Daemon, tmp_path: Path) -> None:
    missing = daemon.berth("build", str(context(tmp_path, "FROM busybox\nCOPY nosuch /x\n")), check=False)
    assert "file not found in build context or excluded by .dockerignore: stat nosuch" in missing.stderr
    outside = daemon.berth("build", str(context(tmp_path, "FROM busybox\nCOPY ../etc/passwd /x\n")), check=False)
    assert "forbidden path outside the build context" in outside.stderr
    assert daemon.berth("ps", "-aq").stdout == ""  # no container left by a refused COPY


# Observed with dockerd 20.10's classic builder: FROM busybox (whose CMD is ["sh"]), then the
# ENTRYPOINT and CMD lines; what the image's config holds and what `create` runs.
ENTRYPOINT_AND_CMD = [
    ("", "", None, ["sh"], ["sh"]),
    ("", 'CMD ["c1", "c2"]', None, ["c1", "c2"], ["c1", "c2"]),
    ("", "CMD c1 c2", None, ["/bin/sh", "-c", "c1 c2"], ["/bin/sh", "-c", "c1 c2"]),
    ("ENTRYPOINT echo e1", "", ["/bin/sh", "-c", "echo e1"], None, ["/bin/sh", "-c", "echo e1"]),
    ("ENTRYPOINT echo e1", 'CMD ["c1"]', ["/bin/sh", "-c", "echo e1"], ["c1"], ["/bin/sh", "-c", "echo e1", "c1"]),
    ("ENTRYPOINT echo e1", "CMD c1", ["/bin/sh", "-c", "echo e1"], ["/bin/sh", "-c", "c1"],
     ["/bin/sh", "-c", "echo e1", "/bin/sh", "-c", "c1"]),
    ('ENTRYPOINT ["echo", "e1"]', "", ["echo", "e1"], None, ["echo", "e1"]),
    ('ENTRYPOINT ["echo", "e1"]', 'CMD ["c1"]', ["echo", "e1"], ["c1"], ["echo", "e1", "c1"]),
    ('ENTRYPOINT ["echo", "e1"]', "CMD c1", ["echo", "e1"], ["/bin/sh", "-c", "c1"],
     ["echo", "e1", "/bin/sh", "-c", "c1"]),
]


@pytest.mark.parametrize(("entrypoint", "cmd", "config_entrypoint", "config_cmd", "runs"), ENTRYPOINT_AND_CMD)
def test_entrypoint_and_cmd_combine_as_docker_s(daemon: Daemon, tmp_path: Path, entrypoint: str, cmd: str,
                                                 config_entrypoint: list | None, config_cmd: list | None,
                                                 runs: list) -> None:
    image = daemon.berth("build", "-q", str(context(tmp_path, f"FROM busybox\n{entrypoint}\n{cmd}\n"))).stdout.strip()
    config = config_of(daemon, image)
    assert (config["Entrypoint"], config["Cmd"]) == (config_entrypoint, config_cmd)
    container = daemon.berth("create", image).stdout.strip()
    created = json.loads(daemon.berth("inspect", container).stdout)[0]
    assert [created["Path"], *created["Args"]] == runs
    replaced = json.loads(daemon.berth("inspect", daemon.berth("create", image, "x").stdout.strip()).stdout)[0]
    assert [replaced["Path"], *replaced["Args"]] == [*(config_entrypoint or []), "x"]


@pytest.mark.docker_cli
def test_docker_build_against_berthd(daemon: Daemon, tmp_path: Path) -> None:
    assert DOCKER, "the docker CLI is part of these machines; install docker.io"
    import subprocess

    root = context(tmp_path, "FROM busybox\nCOPY hello.txt /\nCMD cat /hello.txt\n", **{"hello.txt": "from docker\n"})
    env = {**daemon.env, "DOCKER_BUILDKIT": "0"}
    built = subprocess.run([DOCKER, "build", "-t", "from-docker:1", str(root)], capture_output=True, text=True,
                           env=env, timeout=120)
    assert built.returncode == 0, built.stderr
    assert "Successfully tagged from-docker:1" in built.stdout
    assert daemon.berth("run", "--rm", "from-docker:1").stdout == "from docker\n"
