"""Image references as the CLI needs them: `name[:tag][@digest]`, familiar names, default tag."""
from __future__ import annotations

DEFAULT_TAG = "latest"


def familiar_name(name: str) -> str:
    """docker.io/library/busybox -> busybox, docker.io/me/app -> me/app."""
    for prefix in ("docker.io/library/", "docker.io/", "index.docker.io/library/", "index.docker.io/"):
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


def split_reference(reference: str) -> tuple[str, str, str]:
    """`name[:tag][@digest]` -> (familiar name, tag, digest); empty strings when absent.

    A colon before the last slash belongs to a registry's port, not to a tag."""
    name, _, digest = reference.partition("@")
    slash = name.rfind("/")
    colon = name.rfind(":")
    tag = ""
    if colon > slash:
        name, tag = name[:colon], name[colon + 1:]
    return familiar_name(name), tag, digest


def split_repo_tag(reference: str | None) -> tuple[str | None, str | None]:
    """`repo[:tag]` -> (repo, tag) as written (no normalisation); (None, None) for nothing."""
    if not reference:
        return None, None
    name, _, digest = reference.partition("@")
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        return name[:colon], name[colon + 1:]
    return reference if not digest else name, None


def with_default_tag(reference: str) -> str:
    """`busybox` -> `busybox:latest`; references with a tag or a digest are kept."""
    _, tag, digest = split_reference(reference)
    return reference if tag or digest else f"{reference}:{DEFAULT_TAG}"
