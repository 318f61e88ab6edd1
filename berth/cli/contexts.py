"""docker's "format contexts": the fields `ps` and `images` offer to `--format`, and their titles."""
from __future__ import annotations

import time

from berth.cli.references import split_reference
from berth.cli.units import go_time, human_size, since

TYPE_CHECKING = False  # what typing.TYPE_CHECKING is, without importing typing (start-up time)
if TYPE_CHECKING:
    from typing import Any

SHORT_ID = 12


def short_id(value: str) -> str:
    """`sha256:abcdef...` or `abcdef...` -> the first 12 hex digits."""
    return value.split(":", 1)[-1][:SHORT_ID]


def ellipsis(text: str, width: int) -> str:
    """Cut text to `width` characters, the last one an ellipsis (docker's formatter.Ellipsis)."""
    if len(text) <= width:
        return text
    return text[:width - 1] + "…" if width > 1 else text[:width]


def go_quote(text: str) -> str:
    """Go's strconv.Quote."""
    out = ['"']
    escapes = {'"': '\\"', "\\": "\\\\", "\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n",
               "\r": "\\r", "\t": "\\t", "\v": "\\v"}
    for ch in text:
        if ch in escapes:
            out.append(escapes[ch])
        elif ch.isprintable():
            out.append(ch)
        elif ord(ch) < 0x80:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) < 0x10000:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    out.append('"')
    return "".join(out)


class FormatContext:
    """Base: fields are methods without arguments; `{{json .}}` shows them all as strings."""

    FIELDS: tuple[str, ...] = ()
    TITLES: dict[str, str] = {}
    GO_TYPE = ""  # what docker's template errors call the row type: *formatter.ContainerContext

    def __init_subclass__(cls) -> None:
        cls.GO_TYPE = f"*formatter.{cls.__name__}"

    def to_json(self) -> dict[str, str]:
        return {name: getattr(self, name)() for name in sorted(self.FIELDS)}


def format_ports(ports: list[dict[str, Any]] | None) -> str:
    """`0.0.0.0:8080->80/tcp, 443/tcp` from the API's Ports list (sorted, duplicates dropped)."""
    seen: list[str] = []
    def sort_key(p: dict[str, Any]) -> tuple:
        return (p.get("Type", "tcp"), p.get("PrivatePort", 0), p.get("IP", ""), p.get("PublicPort", 0))
    for port in sorted(ports or [], key=sort_key):
        proto = port.get("Type", "tcp")
        if port.get("PublicPort"):
            ip = port.get("IP") or "0.0.0.0"
            host = f"[{ip}]" if ":" in ip else ip
            text = f"{host}:{port['PublicPort']}->{port['PrivatePort']}/{proto}"
        else:
            text = f"{port['PrivatePort']}/{proto}"
        if text not in seen:
            seen.append(text)
    return ", ".join(seen)


class ContainerContext(FormatContext):
    """One row of `ps`, from an item of GET /containers/json."""

    FIELDS = ("Command", "CreatedAt", "ID", "Image", "Labels", "LocalVolumes", "Mounts", "Names",
              "Networks", "Ports", "RunningFor", "Size", "State", "Status")
    TITLES = {"ID": "CONTAINER ID", "Image": "IMAGE", "Command": "COMMAND", "CreatedAt": "CREATED AT",
              "RunningFor": "CREATED", "Ports": "PORTS", "State": "STATE", "Status": "STATUS",
              "Size": "SIZE", "Names": "NAMES", "Labels": "LABELS", "Label": "LABEL",
              "Mounts": "MOUNTS", "LocalVolumes": "LOCAL VOLUMES", "Networks": "NETWORKS"}

    def __init__(self, item: dict[str, Any], trunc: bool = True, now: float | None = None) -> None:
        self.item = item
        self.trunc = trunc
        self.now = time.time() if now is None else now

    def ID(self) -> str:
        ident = self.item.get("Id", "")
        return short_id(ident) if self.trunc else ident

    def Names(self) -> str:
        names = [n[1:] if n.startswith("/") else n for n in self.item.get("Names") or []]
        if self.trunc:
            plain = [n for n in names if "/" not in n]
            names = plain[:1] or names[:1]
        return ",".join(names)

    def Image(self) -> str:
        image = self.item.get("Image") or ""
        if not image:
            return "<no image>"
        if self.trunc:
            image_id = self.item.get("ImageID") or ""
            if image_id and short_id(image_id) == short_id(image):
                return short_id(image)
            name, tag, _ = split_reference(image)
            return f"{name}:{tag}" if tag else name
        return image

    def Command(self) -> str:
        command = self.item.get("Command") or ""
        return go_quote(ellipsis(command, 20) if self.trunc else command)

    def CreatedAt(self) -> str:
        return go_time(self.item.get("Created", 0))

    def RunningFor(self) -> str:
        return since(self.item.get("Created", 0), self.now)

    def Ports(self) -> str:
        return format_ports(self.item.get("Ports"))

    def State(self) -> str:
        return self.item.get("State") or ""

    def Status(self) -> str:
        return self.item.get("Status") or ""

    def Size(self) -> str:
        rw = human_size(self.item.get("SizeRw") or 0)
        root = self.item.get("SizeRootFs") or 0
        return f"{rw} (virtual {human_size(root)})" if root > 0 else rw

    def Labels(self) -> str:
        labels = self.item.get("Labels") or {}
        return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))

    def Label(self, name: str) -> str:
        return (self.item.get("Labels") or {}).get(name, "")

    def Mounts(self) -> str:
        names = []
        for mount in self.item.get("Mounts") or []:
            name = mount.get("Name") or mount.get("Source") or ""
            names.append(ellipsis(name, 15) if self.trunc else name)
        return ",".join(names)

    def LocalVolumes(self) -> str:
        return str(sum(1 for m in self.item.get("Mounts") or [] if m.get("Driver") == "local"))

    def Networks(self) -> str:
        networks = ((self.item.get("NetworkSettings") or {}).get("Networks")) or {}
        return ",".join(sorted(networks))


def is_dangling(image: dict[str, Any]) -> bool:
    tags = image.get("RepoTags") or []
    digests = image.get("RepoDigests") or []
    return (not tags and not digests) or (tags == ["<none>:<none>"] and digests in ([], ["<none>@<none>"]))


class ImageContext(FormatContext):
    """One row of `images`: an image under one repository and tag (an image may give many)."""

    FIELDS = ("Containers", "CreatedAt", "CreatedSince", "Digest", "ID", "Repository", "SharedSize",
              "Size", "Tag", "UniqueSize", "VirtualSize")
    TITLES = {"ID": "IMAGE ID", "Repository": "REPOSITORY", "Tag": "TAG", "Digest": "DIGEST",
              "CreatedSince": "CREATED", "CreatedAt": "CREATED AT", "Size": "SIZE",
              "Containers": "CONTAINERS", "VirtualSize": "VIRTUAL SIZE", "SharedSize": "SHARED SIZE",
              "UniqueSize": "UNIQUE SIZE"}

    def __init__(self, image: dict[str, Any], repo: str, tag: str, digest: str, trunc: bool = True,
                 now: float | None = None) -> None:
        self.image = image
        self.repo = repo
        self.tag = tag
        self.digest = digest
        self.trunc = trunc
        self.now = time.time() if now is None else now

    def ID(self) -> str:
        ident = self.image.get("Id", "")
        return short_id(ident) if self.trunc else ident

    def Repository(self) -> str:
        return self.repo

    def Tag(self) -> str:
        return self.tag

    def Digest(self) -> str:
        return self.digest

    def CreatedSince(self) -> str:
        created = self.image.get("Created", 0)
        return since(created, self.now) if created > 0 else "N/A"

    def CreatedAt(self) -> str:
        return go_time(self.image.get("Created", 0))

    def Size(self) -> str:
        return human_size(self.image.get("Size") or 0)

    def VirtualSize(self) -> str:
        return human_size(self.image.get("VirtualSize") or self.image.get("Size") or 0, precision=4)

    def SharedSize(self) -> str:
        shared = self.image.get("SharedSize", -1)
        return "N/A" if shared is None or shared < 0 else human_size(shared)

    def UniqueSize(self) -> str:
        shared = self.image.get("SharedSize", -1)
        if shared is None or shared < 0:
            return "N/A"
        return human_size((self.image.get("Size") or 0) - shared, precision=4)

    def Containers(self) -> str:
        count = self.image.get("Containers", -1)
        return "N/A" if count is None or count < 0 else str(count)


def image_rows(images: list[dict[str, Any]], digests: bool, trunc: bool,
               now: float | None = None) -> list[ImageContext]:
    """Expand API images into `images` rows: one per repository:tag (and per digest with --digests)."""
    rows: list[ImageContext] = []
    for image in images:
        if is_dangling(image):
            rows.append(ImageContext(image, "<none>", "<none>", "<none>", trunc, now))
            continue
        repo_tags: dict[str, list[str]] = {}
        repo_digests: dict[str, list[str]] = {}
        for ref in image.get("RepoTags") or []:
            name, tag, _ = split_reference(ref)
            if tag and name != "<none>":
                repo_tags.setdefault(name, []).append(tag)
        for ref in image.get("RepoDigests") or []:
            name, _, digest = split_reference(ref)
            if digest and name != "<none>":
                repo_digests.setdefault(name, []).append(digest)
        for repo, tags in repo_tags.items():
            found = repo_digests.pop(repo, [])  # digests of a tagged repository get no rows of their own
            for tag in tags:
                for digest in (found if digests else []) or ["<none>"]:
                    rows.append(ImageContext(image, repo, tag, digest, trunc, now))
        for repo, digest_list in repo_digests.items():
            for digest in digest_list if digests else ["<none>"]:
                rows.append(ImageContext(image, repo, "<none>", digest, trunc, now))
    return rows
