"""Image configs (the JSON whose sha256 is the image ID) for images berth creates."""
from __future__ import annotations

import platform

import berth
from berth.image.manifest import canonical

EMPTY_LAYER_DIFF_ID = "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"
CONTAINER_CONFIG_DEFAULTS: dict = {
    "Hostname": "", "Domainname": "", "User": "", "AttachStdin": False, "AttachStdout": False,
    "AttachStderr": False, "Tty": False, "OpenStdin": False, "StdinOnce": False, "Env": None, "Cmd": None,
    "Image": "", "Volumes": None, "WorkingDir": "", "Entrypoint": None, "OnBuild": None, "Labels": None,
}
_GO_ARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386", "ppc64le": "ppc64le",
            "s390x": "s390x", "riscv64": "riscv64"}


def host_architecture() -> str:
    machine = platform.machine()
    return _GO_ARCH.get(machine, machine)


def platform_of(config: dict) -> str:
    """`os/architecture[/variant]` of an image config."""
    return "/".join(filter(None, [config.get("os", "linux"), config.get("architecture"), config.get("variant")]))


def matches_platform(config: dict, wanted: str) -> bool:
    """Whether an image config is for `wanted` (`os[/arch[/variant]]`, in Go's or the kernel's names)."""
    os_name, _, rest = wanted.lower().partition("/")
    arch, _, variant = rest.partition("/")
    if os_name and os_name != config.get("os", "linux"):
        return False
    if arch and _GO_ARCH.get(arch, arch) != config.get("architecture"):
        return False
    return not variant or not config.get("variant") or variant == config["variant"]


def full_container_config(config: dict | None) -> dict:
    """A container config with every field Docker shows, defaults filled in."""
    return {**CONTAINER_CONFIG_DEFAULTS, **(config or {})}


def stored_container_config(config: dict) -> dict:
    """The config as written into an image: null fields left out (the OCI schema wants arrays or nothing)."""
    return {name: value for name, value in config.items() if value is not None}


def image_config(*, config: dict, diff_ids: list[str], history: list[dict], created: str, comment: str = "",
                 author: str = "", architecture: str | None = None, os_name: str = "linux",
                 container: str = "", container_config: dict | None = None, variant: str = "") -> bytes:
    """Config bytes in Docker's shape; also a valid OCI image config."""
    document: dict = {"architecture": architecture or host_architecture()}
    if variant:
        document["variant"] = variant
    if author:
        document["author"] = author
    if comment:
        document["comment"] = comment
    document["config"] = stored_container_config(config)
    if container:
        document["container"] = container
        document["container_config"] = stored_container_config(container_config or {})
    document["created"] = created
    document["docker_version"] = berth.__version__
    document["history"] = history
    document["os"] = os_name
    document["rootfs"] = {"type": "layers", "diff_ids": diff_ids}
    return canonical(document)


def history_entry(created: str, created_by: str = "", comment: str = "", author: str = "",
                  empty_layer: bool = False) -> dict:
    entry: dict = {"created": created}
    for name, value in (("author", author), ("created_by", created_by), ("comment", comment)):
        if value:
            entry[name] = value
    if empty_layer:
        entry["empty_layer"] = True
    return entry
