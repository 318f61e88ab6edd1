"""Registries on other machines: plain HTTP only once listed in `insecure-registries` (the course's
scenario), HTTPS with the certificate under certs.d, and credentials from `login`."""
from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.daemon_harness import BIN, Daemon, running_daemon
from tests.distribution.test_push_pull import new_image
from tests.registries import REMOTE_SUBNET, berth_registry, remote_host

REGISTRY = f"{REMOTE_SUBNET}.2:5000"
HTPASSWD = "alice:$2y$05$abcdefghijklmnopqrstuuA0vov2GDneHB3.8.cv9UF9g.RdvScIW\n"  # alice:wonderland


@pytest.fixture
def daemon_beside_a_registry_host(busybox_tar: Path) -> Iterator[tuple[Daemon, Path]]:
    with running_daemon(busybox_tar) as daemon, remote_host(daemon) as host:
        yield daemon, host


def restart_with(daemon: Daemon, **settings: object) -> None:
    daemon.stop()
    daemon.config.update(settings)
    daemon.start()


def test_a_registry_on_another_host_speaks_plain_http_only_once_listed_as_insecure(daemon_beside_a_registry_host):
    daemon, host = daemon_beside_a_registry_host
    name = new_image(daemon, f"{REGISTRY}/helloworld")
    with berth_registry(host, daemon.base / "registry", f"{REMOTE_SUBNET}.2"):
        refused = daemon.berth("push", name, check=False)
        assert refused.returncode == 1
        assert f'Get "https://{REGISTRY}/v2/": http: server gave HTTP response to HTTPS client' in refused.stderr

        restart_with(daemon, **{"insecure-registries": [REGISTRY]})
        assert "Pushed" in daemon.berth("push", name).stdout
        daemon.berth("rmi", name)
        daemon.berth("pull", name)
        assert daemon.berth("run", "--rm", name, "cat", "/made-by-test").stdout == f"{name}\n"

        restart_with(daemon, **{"insecure-registries": [f"{REMOTE_SUBNET}.0/24"]})  # a CIDR works too
        assert "Image is up to date" in daemon.berth("pull", name).stdout


def make_certificate(directory: Path, ip: str) -> tuple[Path, Path]:
    """A self-signed certificate for `ip` (its own CA), and its key."""
    cert, key = directory / "registry.crt", directory / "registry.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={ip}",
                    "-addext", f"subjectAltName=IP:{ip}", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key


def test_an_https_registry_is_trusted_with_the_ca_in_certs_d(daemon_beside_a_registry_host):
    daemon, host = daemon_beside_a_registry_host
    cert, key = make_certificate(daemon.base, f"{REMOTE_SUBNET}.2")
    name = new_image(daemon, f"{REGISTRY}/secure")
    with berth_registry(host, daemon.base / "registry", f"{REMOTE_SUBNET}.2", "--tls-cert", str(cert),
                        "--tls-key", str(key)):
        untrusted = daemon.berth("push", name, check=False)
        assert untrusted.returncode == 1 and "x509" in untrusted.stderr

        certs = daemon.config_file.parent / "certs.d" / REGISTRY  # beside daemon.json, as /etc/docker/certs.d
        certs.mkdir(parents=True)
        (certs / "ca.crt").write_bytes(cert.read_bytes())
        assert "Pushed" in daemon.berth("push", name).stdout
        daemon.berth("rmi", name)
        assert "Pull complete" in daemon.berth("pull", name).stdout


@pytest.fixture
def private_registry(daemon: Daemon, tmp_path: Path) -> Iterator[str]:
    """berth's registry beside the shared daemon, asking for alice's password: `host:port`."""
    htpasswd = tmp_path / "htpasswd"
    htpasswd.write_text(HTPASSWD)
    with berth_registry(daemon.netns, tmp_path / "registry", "127.0.0.1", "--htpasswd", str(htpasswd)) as registry:
        yield registry


def berth_as_user(daemon: Daemon, home: Path, *args: str, input: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "berth"), *args], input=input, capture_output=True, text=True, timeout=60,
                          env=dict(daemon.env, BERTH_CONFIG=str(home)))


def test_login_lets_push_and_pull_through_a_registry_that_asks_for_credentials(daemon, private_registry, tmp_path):
    registry = private_registry
    home = tmp_path / "client"
    name = new_image(daemon, f"{registry}/private/app")
    anonymous = berth_as_user(daemon, home, "push", name)
    assert anonymous.returncode == 1 and "unauthorized" in anonymous.stderr

    wrong = berth_as_user(daemon, home, "login", "-u", "alice", "--password-stdin", registry, input="nope\n")
    assert wrong.returncode == 1 and "401" in wrong.stderr
    assert not (home / "config.json").exists()

    logged_in = berth_as_user(daemon, home, "login", "-u", "alice", "--password-stdin", registry,
                              input="wonderland\n")
    assert logged_in.returncode == 0 and "Login Succeeded" in logged_in.stdout
    assert oct((home / "config.json").stat().st_mode & 0o777) == "0o600"
    assert "Pushed" in berth_as_user(daemon, home, "push", name).stdout
    daemon.berth("rmi", name)
    assert "Pull complete" in berth_as_user(daemon, home, "pull", name).stdout

    assert berth_as_user(daemon, home, "logout", registry).stdout == f"Removing login credentials for {registry}\n"
    assert berth_as_user(daemon, home, "pull", name).returncode == 1
    assert berth_as_user(daemon, home, "logout", registry).stdout == f"Not logged in to {registry}\n"
    assert os.path.exists(home / "config.json")


def test_info_lists_the_insecure_registries_and_mirrors(busybox_tar):
    settings = {"insecure-registries": [REGISTRY, "10.20.0.0/16"], "registry-mirrors": ["https://mirror.example"]}
    with running_daemon(busybox_tar, settings) as daemon:
        info = daemon.berth("info").stdout
        assert f" Insecure Registries:\n  {REGISTRY}\n  127.0.0.0/8\n  10.20.0.0/16\n" in info
        assert " Registry Mirrors:\n  https://mirror.example\n" in info


def test_docker_hub_names_are_pulled_through_a_registry_mirror(fresh_daemon, tmp_path):
    with berth_registry(fresh_daemon.netns, tmp_path / "mirror") as mirror:
        new_image(fresh_daemon, f"{mirror}/library/mirrored")
        fresh_daemon.berth("push", f"{mirror}/library/mirrored")
        dead = "http://127.0.0.1:1"  # a mirror that is down is passed over
        restart_with(fresh_daemon, **{"registry-mirrors": [dead, f"http://{mirror}"]})
        pulled = fresh_daemon.berth("pull", "mirrored").stdout
        assert "Status: Downloaded newer image for mirrored:latest" in pulled
        assert fresh_daemon.berth("run", "--rm", "mirrored", "cat", "/made-by-test").stdout == f"{mirror}/library/mirrored\n"


CREDENTIAL_HELPER = """#!/bin/sh
# a docker-credential helper keeping its one secret in a file beside it
store="$(dirname "$0")/secret.json"
case "$1" in
    store) cat > "$store" ;;
    get) if [ -s "$store" ]; then cat "$store"; else echo "credentials not found in native keychain"; exit 1; fi ;;
    erase) rm -f "$store" ;;
esac
"""


def test_a_credential_helper_keeps_the_login(daemon, private_registry, tmp_path):
    registry = private_registry
    home, helpers = tmp_path / "client", tmp_path / "helpers"
    home.mkdir()
    helpers.mkdir()
    (helpers / "docker-credential-test").write_text(CREDENTIAL_HELPER)
    (helpers / "docker-credential-test").chmod(0o755)
    (home / "config.json").write_text('{"credsStore": "test"}')
    env = dict(daemon.env, BERTH_CONFIG=str(home), PATH=f"{helpers}:{daemon.env['PATH']}")

    def berth(*args: str, input: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([str(BIN / "berth"), *args], input=input, capture_output=True, text=True,
                              env=env, timeout=60)

    logged_in = berth("login", "-u", "alice", "--password-stdin", registry, input="wonderland\n")
    assert logged_in.returncode == 0, logged_in.stderr
    assert "WARNING! Your password will be stored unencrypted" not in logged_in.stderr
    assert "wonderland" not in (home / "config.json").read_text()  # the helper has the secret
    assert '"Secret": "wonderland"' in (helpers / "secret.json").read_text()
    name = new_image(daemon, f"{registry}/helped/app")
    assert "Pushed" in berth("push", name).stdout
    assert berth("logout", registry).returncode == 0
    assert not (helpers / "secret.json").exists()


def test_build_pulls_a_base_image_with_the_client_s_credentials(daemon, private_registry, tmp_path):
    registry = private_registry
    home = tmp_path / "client"
    base = new_image(daemon, f"{registry}/private/base")
    berth_as_user(daemon, home, "login", "-u", "alice", "--password-stdin", registry, input="wonderland\n")
    assert "Pushed" in berth_as_user(daemon, home, "push", base).stdout
    daemon.berth("rmi", base)
    context = tmp_path / "context"
    context.mkdir()
    (context / "Dockerfile").write_text(f"FROM {base}\nRUN cat /made-by-test\n")
    anonymous = berth_as_user(daemon, tmp_path / "nobody", "build", str(context))
    assert anonymous.returncode == 1 and "unauthorized" in anonymous.stderr
    built = berth_as_user(daemon, home, "build", "-t", "on-private-base", str(context))
    assert built.returncode == 0, built.stderr
    assert f"Status: Downloaded newer image for {base}:latest" in built.stdout
    daemon.berth("rmi", "on-private-base", base)
