"""Engine API shapes for images: ImageSummary, ImageInspect, HistoryResponseItem."""
from __future__ import annotations

from pathlib import Path

from berth.image import reference
from berth.image.catalog import ImageRecord
from berth.image.config import full_container_config
from berth.timestamps import ZERO_TIME, parse_ns

NONE_TAG = "<none>:<none>"
NONE_DIGEST = "<none>@<none>"


def familiar(name: str) -> str:
    """`docker.io/library/busybox:latest` -> `busybox:latest` (digest names likewise)."""
    return reference.parse(name).familiar


def tags_and_digests(names: list[str]) -> tuple[list[str], list[str]]:
    return ([familiar(n) for n in names if "@" not in n], [familiar(n) for n in names if "@" in n])


def summary(record: ImageRecord, config: dict, names: list[str], placeholder: bool) -> dict:
    tags, digests = tags_and_digests(names)
    if placeholder and not tags and not digests:
        tags, digests = [NONE_TAG], [NONE_DIGEST]
    return {
        "Containers": -1, "Created": record.created, "Id": record.id,
        "Labels": (config.get("config") or {}).get("Labels"), "ParentId": record.parent or "",
        "RepoDigests": digests, "RepoTags": tags, "SharedSize": -1, "Size": record.size,
        "VirtualSize": record.size,
    }


def inspect(record: ImageRecord, config: dict, names: list[str], layer_dirs: list[Path]) -> dict:
    tags, digests = tags_and_digests(names)
    graph: dict[str, str] = {}
    if layer_dirs:
        top = layer_dirs[0].parent
        graph = {"MergedDir": str(top / "merged"), "UpperDir": str(layer_dirs[0]), "WorkDir": str(top / "work")}
        if len(layer_dirs) > 1:
            graph["LowerDir"] = ":".join(str(d) for d in layer_dirs[1:])
    view = {
        "Id": record.id, "RepoTags": tags, "RepoDigests": digests, "Parent": record.parent or "",
        "Comment": config.get("comment", ""), "Created": config.get("created", ZERO_TIME),
        "Container": config.get("container", ""),
        "ContainerConfig": full_container_config(config.get("container_config")),
        "DockerVersion": config.get("docker_version", ""), "Author": config.get("author", ""),
        "Config": full_container_config(config.get("config")),
        "Architecture": config.get("architecture", ""),
    }
    if config.get("variant"):
        view["Variant"] = config["variant"]
    view["Os"] = config.get("os", "")
    if config.get("os.version"):
        view["OsVersion"] = config["os.version"]
    view.update({
        "Size": record.size, "VirtualSize": record.size,
        "GraphDriver": {"Data": graph or None, "Name": "overlay2"},
        "RootFS": {"Type": "layers", "Layers": list((config.get("rootfs") or {}).get("diff_ids") or [])},
        "Metadata": {"LastTagTime": record.last_tag_time or ZERO_TIME},
    })
    return view


def history(config: dict, layer_sizes: list[int]) -> list[dict]:
    """History entries newest first; Id, Tags filled in by the caller. `layer_sizes` bottom first."""
    items = []
    sizes = iter(layer_sizes)
    for entry in config.get("history") or []:
        size = 0 if entry.get("empty_layer") else next(sizes, 0)
        items.append({"Id": "<missing>", "Created": parse_ns(entry.get("created")) // 1_000_000_000,
                      "CreatedBy": entry.get("created_by", ""), "Tags": None, "Size": size,
                      "Comment": entry.get("comment", "")})
    return list(reversed(items))
