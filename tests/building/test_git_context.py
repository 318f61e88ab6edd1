"""`berth build git://HOST/REPO#REF:DIR`: the daemon clones the repository and builds from it, as
`docker build` does with a git URL."""
from __future__ import annotations

import subprocess
from pathlib import Path

from berth.build.gitcontext import is_git_url
from tests.registries import free_port, serving


def git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=cwd, check=True,
                   capture_output=True)


def make_repository(path: Path) -> None:
    """main: app/Dockerfile printing "main"; the tag v1: the same printing "v1"."""
    (path / "app").mkdir(parents=True)
    git("init", "-q", "-b", "main", cwd=path)
    for version in ("v1", "main"):
        (path / "app" / "Dockerfile").write_text("FROM busybox\nCOPY message /\nCMD [\"cat\", \"/message\"]\n")
        (path / "app" / "message").write_text(f"built from {version}\n")
        git("add", "-A", cwd=path)
        git("commit", "-q", "-m", version, cwd=path)
        if version == "v1":
            git("tag", "v1", cwd=path)


def test_git_urls_are_recognised_as_docker_does():
    assert is_git_url("git://example.com/repo") and is_git_url("git@github.com:me/repo.git")
    assert is_git_url("github.com/me/repo") and is_git_url("https://example.com/repo.git#main:dir")
    assert not is_git_url("https://example.com/context.tar") and not is_git_url("/path/repo.git")


def test_build_from_a_git_repository_at_a_ref_and_directory(daemon, tmp_path):
    make_repository(tmp_path / "repos" / "project")
    port = free_port(daemon.netns)
    command = ["git", "daemon", "--reuseaddr", "--export-all", f"--base-path={tmp_path / 'repos'}",
               "--listen=127.0.0.1", f"--port={port}", str(tmp_path / "repos")]
    with serving(daemon.netns, command, "127.0.0.1", port, tmp_path / "git-daemon.log"):
        url = f"git://127.0.0.1:{port}/project"
        daemon.berth("build", "-t", "from-git", f"{url}#main:app")
        assert daemon.berth("run", "--rm", "from-git").stdout == "built from main\n"
        daemon.berth("build", "-t", "from-git", f"{url}#v1:app")
        assert daemon.berth("run", "--rm", "from-git").stdout == "built from v1\n"

        missing = daemon.berth("build", f"{url}#no-such-branch:app", check=False)
        assert missing.returncode == 1
        assert "unable to 'git clone' to temporary context directory" in missing.stderr
        outside = daemon.berth("build", f"{url}#main:../..", check=False)
        assert outside.returncode == 1 and "is not in the repository" in outside.stderr
