"""The real docker CLI, unchanged, against berthd (DOCKER_HOST=unix://...)."""
from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import tarfile
from typing import IO

import pytest

from tests.waiting import eventually

DOCKER = shutil.which("docker")
pytestmark = pytest.mark.docker_cli


@pytest.fixture(scope="module", autouse=True)
def docker_is_installed():
    assert DOCKER, "the docker CLI is part of these machines; install docker.io"


def docker(daemon, *args: str, input: str | bytes | None = None, stdin: IO[bytes] | None = None,
           check: bool = True) -> subprocess.CompletedProcess:
    """Text in, text out (bytes with bytes `input` or a `stdin` file)."""
    text = stdin is None and not isinstance(input, bytes)
    result = subprocess.run([DOCKER, *args], input=input, stdin=stdin, capture_output=True, text=text,
                            env=daemon.env, timeout=60)
    if check and result.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} exited {result.returncode}:\n{result.stdout}{result.stderr}")
    return result


def test_docker_run_prints_output_and_exit_code(daemon):
    assert docker(daemon, "run", "--rm", "busybox", "echo", "hello from docker").stdout == "hello from docker\n"
    assert docker(daemon, "run", "--rm", "--network", "none", "busybox", "sh", "-c", "exit 3",
                  check=False).returncode == 3
    missing = docker(daemon, "run", "--rm", "busybox", "nosuch", check=False)
    assert missing.returncode == 127


def test_docker_ps_inspect_logs_exec_stop_rm(daemon):
    container_id = docker(daemon, "run", "-d", "--name", "dockerish", "busybox", "sh", "-c",
                          "echo logged; sleep 100").stdout.strip()
    assert docker(daemon, "ps", "-q", "--no-trunc").stdout.split() == [container_id]
    [record] = json.loads(docker(daemon, "inspect", "dockerish").stdout)
    assert record["State"]["Running"] is True
    assert docker(daemon, "exec", "dockerish", "echo", "inside").stdout == "inside\n"
    stranger = docker(daemon, "exec", "-u", "nosuch", "dockerish", "id", check=False)  # refused as dockerd does
    assert (stranger.returncode, stranger.stdout.rstrip()) == (126, "unable to find user nosuch: no matching entries in passwd file")
    assert docker(daemon, "logs", "dockerish").stdout == "logged\n"
    docker(daemon, "stop", "-t", "1", "dockerish")
    assert docker(daemon, "ps", "-a", "--format", "{{.Names}} {{.State}}").stdout.strip() == "dockerish exited"
    docker(daemon, "rm", "dockerish")
    assert "No such container: dockerish" in docker(daemon, "rm", "dockerish", check=False).stderr


def test_docker_run_with_stdin(daemon):
    assert docker(daemon, "run", "--rm", "-i", "busybox", "cat", input="through docker\n").stdout == "through docker\n"


def test_docker_run_with_stdin_from_a_file_and_a_pipe_ends_the_input(daemon, tmp_path):
    data = bytes(range(256)) * 64 + b"\x10\x11 and on\n"  # Ctrl-P Ctrl-Q detach a terminal only
    source = tmp_path / "input"
    source.write_bytes(data)
    with source.open("rb") as stdin:
        assert docker(daemon, "run", "--rm", "-i", "busybox", "cat", stdin=stdin).stdout == data
    assert docker(daemon, "run", "-i", "busybox", "cat", input=data).stdout == data


def test_docker_images_and_version(daemon):
    images = docker(daemon, "images", "--format", "{{.Repository}}:{{.Tag}}").stdout.split()
    assert "busybox:latest" in images
    version = docker(daemon, "version", "--format", "{{.Server.APIVersion}}").stdout.strip()
    assert version == "1.41"


def test_docker_network_volume_and_system_prune_commands_answer(daemon):
    names = docker(daemon, "network", "ls", "--format", "{{.Name}} {{.Driver}}").stdout.split("\n")
    assert names[:3] == ["bridge bridge", "host host", "none null"]
    container = docker(daemon, "run", "-d", "--network", "none", "busybox", "sleep", "100").stdout.strip()
    assert docker(daemon, "network", "inspect", "none", "--format", "{{range $id, $_ := .Containers}}{{$id}}{{end}}"
                  ).stdout.strip() == container
    network_id = docker(daemon, "network", "ls", "-q", "--no-trunc", "--filter", "name=none").stdout.strip()
    assert docker(daemon, "inspect", "-f", "{{.NetworkSettings.Networks.none.NetworkID}}", container
                  ).stdout.strip() == network_id
    docker(daemon, "rm", "-f", container)
    made = docker(daemon, "network", "create", "mine").stdout.strip()
    assert docker(daemon, "network", "ls", "-q", "--no-trunc", "--filter", "name=mine").stdout.strip() == made
    assert docker(daemon, "network", "rm", "mine").stdout == "mine\n"
    assert docker(daemon, "volume", "ls", "-q").stdout == ""
    assert "Total reclaimed space" in docker(daemon, "system", "prune", "-f").stdout


def test_docker_cp_copies_out_of_a_container_as_from_dockerd(daemon, tmp_path):
    docker(daemon, "run", "-d", "--name", "copied", "busybox", "sh", "-c",
           "mkdir -p /data/sub && echo one > /data/a && echo two > /data/sub/b && ln -s /data/a /data/link; sleep 100")
    eventually(lambda: "sleep 100" in docker(daemon, "top", "copied").stdout, "the files to be written")
    docker(daemon, "cp", "copied:/data", str(tmp_path))
    assert (tmp_path / "data" / "sub" / "b").read_text() == "two\n"
    assert os.readlink(tmp_path / "data" / "link") == "/data/a"  # a link stays a link
    docker(daemon, "cp", "copied:/etc/hostname", str(tmp_path / "hn"))
    assert (tmp_path / "hn").read_text().strip() == docker(daemon, "inspect", "-f", "{{.Config.Hostname}}",
                                                             "copied").stdout.strip()
    missing = docker(daemon, "cp", "copied:/nosuch", str(tmp_path), check=False)
    assert "Could not find the file /nosuch in container copied" in missing.stderr



def test_docker_cp_copies_into_a_container_and_never_outside_its_directory(daemon, tmp_path):
    docker(daemon, "run", "-d", "--name", "filled", "busybox", "sleep", "100")
    (tmp_path / "tree" / "sub").mkdir(parents=True)
    (tmp_path / "tree" / "sub" / "g").write_text("inside\n")
    (tmp_path / "file").write_text("one file\n")
    docker(daemon, "cp", str(tmp_path / "tree"), "filled:/tmp/")
    docker(daemon, "cp", str(tmp_path / "file"), "filled:/tmp/renamed")
    assert docker(daemon, "exec", "filled", "cat", "/tmp/tree/sub/g", "/tmp/renamed").stdout == "inside\none file\n"
    hostile = io.BytesIO()
    with tarfile.open(fileobj=hostile, mode="w") as tar:
        entry = tarfile.TarInfo("../../../escaped")
        entry.size = 4
        tar.addfile(entry, io.BytesIO(b"bad\n"))
    refused = subprocess.run([DOCKER, "cp", "-", "filled:/tmp/"], input=hostile.getvalue(), capture_output=True,
                             env=daemon.env, timeout=60)
    assert refused.returncode == 1
    assert refused.stderr == b"Error response from daemon: Error processing tar file: '../../../escaped': path escapes the root\n"
    assert not os.path.exists("/escaped") and docker(daemon, "exec", "filled", "ls", "/").stdout.count("escaped") == 0
    not_a_directory = docker(daemon, "cp", str(tmp_path / "file"), "filled:/etc/hostname/x", check=False)
    assert "extraction point is not a directory" in not_a_directory.stderr


def test_docker_run_applies_berths_seccomp_filter_or_a_profile_file(daemon, tmp_path):
    status = "grep ^Seccomp: /proc/self/status; unshare -U true; echo user=$?"
    filtered = docker(daemon, "run", "--rm", "busybox", "sh", "-c", status)
    assert filtered.stdout == "Seccomp:\t2\nuser=1\n"
    profile = tmp_path / "no-mkdir.json"
    profile.write_text('{\n  "defaultAction": "SCMP_ACT_ALLOW",\n'
                       '  "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]\n}\n')
    custom = docker(daemon, "run", "--rm", "--security-opt", f"seccomp={profile}", "busybox", "sh", "-c",
                    f"{status}; mkdir /made; echo mkdir=$?")
    assert custom.stdout == "Seccomp:\t2\nuser=0\nmkdir=1\n"
    unconfined = docker(daemon, "run", "--rm", "--security-opt", "seccomp=unconfined", "busybox", "sh", "-c", status)
    assert unconfined.stdout == "Seccomp:\t0\nuser=0\n"
    assert "Security Options:\n  seccomp\n   Profile: default\n" in docker(daemon, "info").stdout


def test_docker_run_takes_json_file_logs_and_refuses_other_drivers(daemon):
    container = docker(daemon, "create", "busybox", "sh", "-c", "echo 'a b'").stdout.strip()
    shown = docker(daemon, "ps", "-a", "--no-trunc", "--format", "{{.Command}} {{.Names}}").stdout
    assert shown.startswith("\"sh -c 'echo 'a b''\" ")  # dockerd's quoting, byte for byte
    assert docker(daemon, "inspect", "-f", "{{.HostConfig.LogConfig.Type}}", container).stdout == "json-file\n"
    refused = {
        ("--log-driver", "bogus"): 'error looking up logging plugin bogus: plugin "bogus" not found',
        ("--log-opt", "bogus=1"): "unknown log opt 'bogus' for json-file log driver",
        ("--log-opt", "max-size=lots"): "failed to initialize logging driver: invalid size: 'lots'",
        ("--log-driver", "syslog"): "the syslog logging driver is not supported by berth yet",
    }
    for flags, message in refused.items():
        result = docker(daemon, "create", *flags, "busybox", "true", check=False)
        assert result.returncode == 1 and message in result.stderr, (flags, result.stderr)


def test_docker_volume_create_ls_inspect_rm(daemon):
    assert docker(daemon, "volume", "create", "--label", "app=web", "webdata").stdout == "webdata\n"
    assert docker(daemon, "volume", "ls", "--format", "{{.Driver}} {{.Name}}").stdout == "local webdata\n"
    mountpoint = docker(daemon, "volume", "inspect", "-f", "{{.Mountpoint}} {{.Labels.app}}", "webdata").stdout
    assert mountpoint == f"{daemon.data_root}/volumes/webdata/_data web\n"
    refused = docker(daemon, "volume", "inspect", "nosuch", check=False)
    assert refused.returncode == 1 and "no such volume" in refused.stderr
    assert docker(daemon, "volume", "rm", "webdata").stdout == "webdata\n"
    assert docker(daemon, "volume", "ls", "-q").stdout == ""
