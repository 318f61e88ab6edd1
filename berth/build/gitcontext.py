"""Build contexts from git repositories, as Docker names them: `git://…`, `git@…`, `github.com/…`, or an
http(s) URL ending in `.git`; `#REF:DIR` picks a branch, tag or commit and a directory in it."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

from berth.errdefs import InvalidArgument

TIMEOUT = 600  # seconds a clone may take


def is_git_url(url: str) -> bool:
    """Docker's rule (urlutil.IsGitURL): a git scheme or prefix, or an http(s) repository ending in .git."""
    if url.startswith(("git://", "git@", "github.com/")):
        return True
    return url.startswith(("http://", "https://")) and url.partition("#")[0].endswith(".git")


def _git(*args: str, cwd: Path) -> str:
    environment = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_PROTOCOL_FROM_USER": "0"}
    result = subprocess.run(["git", "-c", "protocol.file.allow=never", *args], cwd=cwd, capture_output=True,
                            text=True, env=environment, timeout=TIMEOUT)
    if result.returncode != 0:
        raise InvalidArgument(f"unable to prepare context: unable to 'git clone' to temporary context directory: "
                              f"error fetching: {result.stderr.strip()}: exit status {result.returncode}")
    return result.stdout


def clone(url: str, target: Path) -> Path:
    """Fetch the repository's REF (its default branch if none) into `target`; the context directory."""
    remote, _, fragment = url.partition("#")
    ref, _, subdirectory = fragment.partition(":")
    if remote.startswith("github.com/"):
        remote = "https://" + remote
    if ref.startswith("-"):
        raise InvalidArgument(f"unable to prepare context: invalid git reference {ref!r}")
    target.mkdir(parents=True, exist_ok=True)
    _git("init", "-q", cwd=target)
    _git("remote", "add", "origin", remote, cwd=target)
    _git("fetch", "-q", "--depth", "1", "origin", ref or "HEAD", cwd=target)
    _git("checkout", "-q", "FETCH_HEAD", cwd=target)
    _git("submodule", "-q", "update", "--init", "--recursive", "--depth", "1", cwd=target)
    context = (target / subdirectory).resolve()
    if not context.is_relative_to(target.resolve()) or not context.is_dir():
        raise InvalidArgument(f"unable to prepare context: the directory {subdirectory!r} is not in the repository")
    return context
