"""Who may do what: Basic authentication against an htpasswd file (UNAUTHORIZED with a challenge),
a read-only registry (DENIED), and TLS."""
from __future__ import annotations

import ssl
import subprocess
from pathlib import Path

import pytest

from berth.registry.auth import crypt_matches
from tests.registry.conftest import StartRegistry

# alice:wonderland as a bcrypt line of the form `htpasswd -B -C 5` writes ($2y$), and bob:secret in sha512-crypt
HTPASSWD = ("alice:$2y$05$abcdefghijklmnopqrstuuA0vov2GDneHB3.8.cv9UF9g.RdvScIW\n"
            "bob:$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1\n")


@pytest.fixture
def htpasswd(tmp_path: Path) -> Path:
    path = tmp_path / "htpasswd"
    path.write_text(HTPASSWD)
    return path


def test_crypt_checks_bcrypt_and_sha512_crypt_hashes() -> None:
    alice, bob = (line.split(":", 1)[1] for line in HTPASSWD.splitlines())
    assert crypt_matches("wonderland", alice) and not crypt_matches("wonderlanD", alice)
    assert crypt_matches("secret", bob) and not crypt_matches("wonderland", bob)


def test_without_credentials_every_endpoint_is_401_with_a_basic_challenge(start_registry: StartRegistry,
                                                                          htpasswd: Path) -> None:
    client = start_registry(htpasswd=htpasswd).client()
    for method, path in (("GET", "/v2/"), ("GET", "/v2/_catalog"), ("POST", "/v2/app/blobs/uploads/")):
        reply = client.request(method, path)
        assert (reply.status, reply.error_codes) == (401, ["UNAUTHORIZED"])
        assert (reply.header("WWW-Authenticate") or "").startswith('Basic realm="')


def test_good_credentials_pass_and_wrong_ones_do_not(start_registry: StartRegistry, htpasswd: Path) -> None:
    registry = start_registry(htpasswd=htpasswd)
    assert registry.client(("alice", "wonderland")).request("GET", "/v2/").status == 200
    assert registry.client(("bob", "secret")).request("GET", "/v2/").status == 200
    assert registry.client(("alice", "wrong")).request("GET", "/v2/").status == 401
    assert registry.client(("carol", "wonderland")).request("GET", "/v2/").status == 401
    assert registry.client(("alice", "wonderland")).push_blob("app", b"authorised")


def test_the_htpasswd_file_is_read_again_when_it_changes(start_registry: StartRegistry, htpasswd: Path) -> None:
    registry = start_registry(htpasswd=htpasswd)
    assert registry.client(("alice", "wonderland")).request("GET", "/v2/").status == 200
    htpasswd.write_text(HTPASSWD.splitlines()[1] + "\n")
    assert registry.client(("alice", "wonderland")).request("GET", "/v2/").status == 401


def test_a_read_only_registry_serves_pulls_and_denies_changes(start_registry: StartRegistry, tmp_path: Path) -> None:
    root = tmp_path / "shared-root"
    writable = start_registry(root=root, delete_enabled=True)
    digest, _ = writable.client().push_image("app", "v1")
    client = start_registry(root=root, read_only=True, delete_enabled=True).client()
    assert client.request("GET", "/v2/app/manifests/v1").status == 200
    assert client.request("HEAD", f"/v2/app/manifests/{digest}").status == 200
    for method, path in (("POST", "/v2/app/blobs/uploads/"), ("PUT", "/v2/app/manifests/v2"),
                         ("DELETE", f"/v2/app/manifests/{digest}")):
        reply = client.request(method, path, b"{}")
        assert (reply.status, reply.error_codes) == (403, ["DENIED"]), (method, path)


def test_tls_serves_https_with_the_given_certificate(start_registry: StartRegistry, tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    registry = start_registry(tls_cert=cert, tls_key=key)
    trusted = ssl.create_default_context(cafile=str(cert))
    reply = registry.client(tls=trusted).request("GET", "/v2/")
    assert reply.status == 200 and reply.header("Docker-Distribution-API-Version") == "registry/2.0"
    with pytest.raises(ssl.SSLError):
        registry.client(tls=ssl.create_default_context()).request("GET", "/v2/")
