"""How `berth` finds its daemon, and what it says when there is none."""
from __future__ import annotations

import subprocess

from tests.daemon_harness import BIN


def berth(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "berth"), *args], capture_output=True, text=True, env=env, timeout=30)


def test_host_flag_and_environment_select_the_daemon(daemon):
    env = {k: v for k, v in daemon.env.items() if k not in ("BERTH_HOST", "DOCKER_HOST")}
    assert berth(env, "-H", daemon.host, "version").returncode == 0
    assert berth(env | {"BERTH_HOST": daemon.host}, "version").returncode == 0


def test_a_missing_daemon_is_explained_with_how_to_start_one(daemon, tmp_path):
    env = daemon.env | {"BERTH_HOST": f"unix://{tmp_path}/none.sock"}
    result = berth(env, "ps")
    assert result.returncode == 1
    assert f"Cannot connect to the berth daemon at unix://{tmp_path}/none.sock" in result.stderr
    assert "berthd" in result.stderr


def test_berthd_refuses_a_data_root_in_another_store_format(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "store-format").write_text("0\n")
    result = subprocess.run([str(BIN / "berthd"), "--data-root", str(tmp_path / "data"), "--exec-root",
                             str(tmp_path / "run"), "-H", f"unix://{tmp_path}/b.sock", "--config-file",
                             str(tmp_path / "none.json")], capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert "has format 0; this berth reads format 1" in result.stderr
    assert "Traceback" not in result.stderr
