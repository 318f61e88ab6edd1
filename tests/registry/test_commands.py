"""The commands: `berth registry serve|garbage-collect` (the CLI runs `python -m berth.registry`)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}


def _berth(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "berth.cli.main", *args], cwd=ROOT, env=ENV, capture_output=True,
                          text=True, timeout=60)


def test_berth_registry_serve_help_lists_its_flags() -> None:
    result = _berth("registry", "serve", "--help")
    assert result.returncode == 0, result.stderr
    for flag in ("--address", "--root", "--tls-cert", "--tls-key", "--htpasswd", "--delete-enabled", "--read-only"):
        assert flag in result.stdout


def test_berth_registry_garbage_collect_reports_what_it_removed(tmp_path: Path) -> None:
    result = _berth("registry", "garbage-collect", "--root", str(tmp_path), "--delete-untagged")
    assert result.returncode == 0, result.stderr
    assert "removed 0 manifests, 0 blobs, 0 bytes" in result.stdout


def test_serve_refuses_half_a_tls_configuration(tmp_path: Path) -> None:
    cert = tmp_path / "cert.pem"
    cert.write_text("")
    result = subprocess.run([sys.executable, "-m", "berth.registry", "serve", "--root", str(tmp_path),
                             "--address", "127.0.0.1:0", "--tls-cert", str(cert)],
                            cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "both a certificate and its key" in result.stderr
