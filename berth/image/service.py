"""The image service the daemon calls: every method is synchronous and safe to call from many threads.

Writes follow one order so a crash at any point leaves a consistent store: content first (blobs,
then unpacked layers, both under a lease), then one database transaction that records the image and
its names. Removal is the reverse: one transaction drops the records, then garbage collection
removes what nothing refers to any more.
"""
from __future__ import annotations

import json
import re
import sqlite3
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import BinaryIO, NamedTuple

from berth.atomicfile import write_atomic
from berth.image import archive_load, archive_save, reference, views
from berth.image.catalog import SCHEMA, Catalog, ImageRecord
from berth.image.changes import apply_changes
from berth.image.config import CONTAINER_CONFIG_DEFAULTS, EMPTY_LAYER_DIFF_ID, history_entry, image_config
from berth.image.errors import ImageConflict, ImageNotFound, InvalidImage, InvalidReference, StoreFormatError
from berth.image.filters import ListFilters, PruneFilters
from berth.layer import Layer, LayerError, LayerStore, chain_ids, changes, write_tree
from berth.layer.compression import decompressed
from berth.layer.pipe import ChunkPipe
from berth.layer.store import LAYER_KIND
from berth.store import BlobNotFound, BlobStore, Database, DigestMismatch, References
from berth.store import digest as digests
from berth.store.content import ContentStore
from berth.store.gc import key
from berth.timestamps import parse_ns, rfc3339_nano

_HEX_PREFIX = re.compile(r"^(?:sha256:)?([0-9a-f]{1,64})$")
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")
CONTAINER_KIND = "container"  # GC roots of containers that keep the layers they run on


class ContainerUse(NamedTuple):
    """A container that uses an image, as the daemon reports it to `remove` and `prune`."""
    id: str
    running: bool


Users = Callable[[str], list[ContainerUse]]


def short_id(image_or_container_id: str) -> str:
    return image_or_container_id.removeprefix("sha256:")[:12]


STORE_FORMAT = "1"  # bump when blobs/, layers/ or berth.db change in a way older stores cannot be read


def _check_store_format(root: Path) -> None:
    """Refuse, with a clear message, a store written in another format (say by a development build)."""
    marker = root / "store-format"
    if marker.exists():
        found = marker.read_text().strip()
    elif (root / "berth.db").exists() or (root / "layers").exists():
        found = "0"
    else:
        write_atomic(marker, STORE_FORMAT.encode() + b"\n")
        return
    if found != STORE_FORMAT:
        raise StoreFormatError(f"the image store in {root} has format {found}; this berth reads format "
                               f"{STORE_FORMAT}: move the data root away (or remove it) and start again")


class ImageService:
    def __init__(self, data_root: Path, blobs: ContentStore | None = None) -> None:
        """`blobs`: the content store (by default the blob store under the data root)."""
        self.root = Path(data_root)
        self.root.mkdir(parents=True, exist_ok=True)
        _check_store_format(self.root)
        self.db = Database(self.root / "berth.db", SCHEMA)
        self.refs = References(self.db)
        self.blobs: ContentStore = blobs or BlobStore(self.root, protect=self.refs.protect)
        self.layers = LayerStore(self.root, self.blobs, self.refs)
        self.catalog = Catalog(self.db, self.refs)
        self._configs: dict[str, dict] = {}
        self._configs_lock = threading.Lock()

    # ---- lookups -------------------------------------------------------------------------------
    def resolve(self, ref_or_id: str) -> str:
        """The image ID (`sha256:<hex>`) a name, full ID, digest or unique ID prefix refers to."""
        if re.fullmatch(r"[0-9a-f]{64}", ref_or_id) or digests.is_digest(ref_or_id):
            image_id = ref_or_id if ref_or_id.startswith("sha256:") else f"sha256:{ref_or_id}"
            if self.catalog.get(image_id):
                return image_id
            raise ImageNotFound(ref_or_id)
        ref = reference.parse(ref_or_id)
        found = self.catalog.lookup(str(ref.with_default_tag()))
        if found:
            return found
        prefix = _HEX_PREFIX.match(ref_or_id)
        if prefix:
            candidates = self.catalog.ids_with_prefix(prefix.group(1))
            if len(candidates) == 1:
                return candidates[0]
        raise ImageNotFound(ref.with_default_tag().familiar)

    def _record(self, image_id: str) -> ImageRecord:
        record = self.catalog.get(image_id)
        if record is None:
            raise ImageNotFound(image_id)
        return record

    def image_config(self, image_id: str) -> dict:
        """The image's config JSON (OCI / Docker image config), verified against its ID."""
        with self._configs_lock:
            cached = self._configs.get(image_id)
        if cached is None:
            try:
                cached = json.loads(self.blobs.read(image_id))
            except BlobNotFound:
                raise ImageNotFound(image_id) from None
            with self._configs_lock:
                self._configs[image_id] = cached
        return json.loads(json.dumps(cached))

    def lineage(self, image_id: str) -> list[tuple[str, str | None]]:
        """The image and the images it was built on, each with its parent: (ID, parent ID)."""
        found = []
        current: str | None = image_id
        while current and (record := self.catalog.get(current)) is not None:
            found.append((current, record.parent))
            current = record.parent
        return found

    def _diff_ids(self, image_id: str) -> list[str]:
        return list((self.image_config(image_id).get("rootfs") or {}).get("diff_ids") or [])

    def _layers(self, image_id: str) -> list[Layer]:
        """The image's layers, bottom first."""
        return [self.layers.get(chain) for chain in chain_ids(self._diff_ids(image_id))]

    def layer_dirs(self, image_id: str) -> list[Path]:
        """Unpacked layer directories, top first (overlayfs lowerdir order)."""
        return [self.layers.diff_dir(layer.chain_id) for layer in reversed(self._layers(image_id))]

    # ---- views -------------------------------------------------------------------------------
    def inspect(self, ref_or_id: str) -> dict:
        image_id = self.resolve(ref_or_id)
        return views.inspect(self._record(image_id), self.image_config(image_id),
                             self.catalog.names_of(image_id), self.layer_dirs(image_id))

    def list_images(self, all: bool = False, filters: dict[str, list[str]] | None = None,
                    digests: bool = False) -> list[dict]:
        """ImageSummary objects, newest first. Intermediate (untagged parent) images only with all=True."""
        wanted = ListFilters.parse(filters or {}, self.resolve, self._created)
        names = self.catalog.all_names()
        result = []
        for record in self.catalog.all():
            image_names = names.get(record.id, [])
            config = self.image_config(record.id)
            untagged = not image_names
            if untagged and not all and not wanted.dangling_only and self.catalog.children(record.id):
                continue
            if not wanted.matches(record, config, image_names):
                continue
            result.append(views.summary(record, config, image_names, placeholder=untagged))
        return sorted(result, key=lambda item: item["Created"], reverse=True)

    def _created(self, image_id: str) -> int:
        """Creation time in unix nanoseconds (images made within one second still have an order)."""
        return parse_ns(self.image_config(image_id).get("created"))

    def history(self, ref_or_id: str) -> list[dict]:
        image_id = self.resolve(ref_or_id)
        items = views.history(self.image_config(image_id), [layer.size for layer in self._layers(image_id)])
        current: str | None = image_id
        for item in items:
            if current is None:
                break
            item["Id"] = current
            tags = [views.familiar(n) for n in self.catalog.names_of(current) if "@" not in n]
            item["Tags"] = tags or None
            record = self.catalog.get(current)
            current = record.parent if record else None
        return items

    # ---- names ---------------------------------------------------------------------------------
    @staticmethod
    def tag_name(repo: str, tag: str | None = None) -> str:
        """The full name `repo[:tag]` is stored under; raises InvalidReference as Docker would."""
        ref = reference.parse(repo)
        if ref.digest:
            raise InvalidReference("refusing to create a tag with a digest reference")
        if tag:
            if not _TAG.match(tag):
                raise InvalidReference("invalid tag format")
            ref = reference.Reference(ref.name, tag)
        return str(ref.with_default_tag())

    def tag(self, source: str, repo: str, tag: str | None) -> None:
        image_id = self.resolve(source)
        name = self.tag_name(repo, tag)
        with self.db.transaction() as conn:
            self.catalog.set_name(conn, name, image_id, rfc3339_nano())

    def add_repo_digest(self, image_id: str, name: str) -> None:
        """Name the image by `repository@digest`, the manifest a registry holds it under (RepoDigests)."""
        with self.db.transaction() as conn:
            self.catalog.set_name(conn, name, image_id, rfc3339_nano())

    # ---- removal -------------------------------------------------------------------------------
    def remove(self, ref_or_id: str, force: bool, prune: bool, users: Users) -> list[dict]:
        """Docker's image delete: untag, and delete the image once nothing names or uses it.

        Removing the last name and deleting the image are one transaction, so a crash between them
        cannot leave a nameless copy of an image the user asked to remove.
        """
        image_id = self.resolve(ref_or_id)
        names = self.catalog.names_of(image_id)
        records: list[dict] = []
        if _is_id_prefix(image_id, ref_or_id):
            untag = names if _single_repository(names) else []
            if untag:
                self._check_conflicts(image_id, users, hard_only=force, names=[])
            self._delete(image_id, untag, records, force, prune, quiet=False, users=users)
            return records
        name = str(reference.parse(ref_or_id).with_default_tag())
        if not force and _single_repository(names):
            using = users(image_id)
            if using:
                raise ImageConflict(
                    f'conflict: unable to remove repository reference "{ref_or_id}" (must force) - '
                    f"container {short_id(using[0].id)} is using its referenced image {short_id(image_id)}")
        untag = _untagged_with(name, names)
        if len(untag) < len(names):
            self._untag(untag, records)
        else:
            self._delete(image_id, untag, records, force, prune, quiet=True, users=users)
        return records

    def _untag(self, names: list[str], records: list[dict]) -> None:
        with self.db.transaction() as conn:
            for name in names:
                self.catalog.remove_name(conn, name)
        records.extend({"Untagged": views.familiar(name)} for name in names)

    def _check_conflicts(self, image_id: str, users: Users, hard_only: bool, names: list[str]) -> None:
        """Refuse to delete an image that is in use; `names` are the ones it would keep."""
        def conflict(message: str, hard: bool) -> ImageConflict:
            how = "cannot be forced" if hard else "must be forced"
            return ImageConflict(f"conflict: unable to delete {short_id(image_id)} ({how}) - {message}")

        if self.catalog.children(image_id):
            raise conflict("image has dependent child images", hard=True)
        using = users(image_id)
        running = [use for use in using if use.running]
        if running:
            raise conflict(f"image is being used by running container {short_id(running[0].id)}", hard=True)
        if hard_only:
            return
        if names:
            raise conflict("image is referenced in multiple repositories", hard=False)
        if using:
            raise conflict(f"image is being used by stopped container {short_id(using[0].id)}", hard=False)

    def _delete(self, image_id: str, untag: list[str], records: list[dict], force: bool, prune: bool,
                quiet: bool, users: Users) -> None:
        """Untag `untag` and delete the image; if it is still in use, a `quiet` delete only untags."""
        others = [name for name in self.catalog.names_of(image_id) if name not in untag]
        try:
            self._check_conflicts(image_id, users, hard_only=force, names=others)
        except ImageConflict:
            if quiet:
                self._untag(untag, records)
                return
            raise
        record = self._record(image_id)
        layers = [layer.chain_id for layer in reversed(self._layers(image_id))]
        with self.db.transaction() as conn:
            for use in users(image_id):  # forced: the containers keep the layers they run on
                self._hold_layers(conn, use.id, record.top_layer)
            for name in untag + others:
                self.catalog.remove_name(conn, name)
            self.catalog.delete(conn, image_id)
        records.extend({"Untagged": views.familiar(name)} for name in untag + others)
        records.append({"Deleted": image_id})
        collected = self.refs.collect(self._sweepers())
        removed = set(collected.removed.get("layer", []))
        records.extend({"Deleted": chain} for chain in layers if chain in removed)
        if prune and record.parent and self.catalog.get(record.parent):
            self._delete(record.parent, [], records, force=False, prune=True, quiet=True, users=users)

    def hold_layers(self, container_id: str, image_id: str) -> None:
        """Keep the image's layers for as long as the container exists, even if the image is deleted."""
        with self.db.transaction() as conn:
            self._hold_layers(conn, container_id, self._record(image_id).top_layer)

    def _hold_layers(self, conn: sqlite3.Connection, container_id: str, top_layer: str | None) -> None:
        if top_layer:
            self.refs.add_root(conn, key(CONTAINER_KIND, container_id), [key(LAYER_KIND, top_layer)])

    def release_layers(self, container_id: str) -> None:
        """The container is gone: its layers are garbage unless an image or another container keeps them."""
        with self.db.transaction() as conn:
            self.refs.remove_root(conn, key(CONTAINER_KIND, container_id))
        self.refs.collect(self._sweepers())

    def release_layers_of_others(self, container_ids: set[str]) -> None:
        """Drop the holds of containers not in `container_ids` (removals a crash cut short), and
        collect what they kept."""
        prefix = key(CONTAINER_KIND, "")
        with self.db.transaction() as conn:
            for root in self.refs.roots(prefix):
                if root[len(prefix):] not in container_ids:
                    self.refs.remove_root(conn, root)
        self.refs.collect(self._sweepers())

    def _sweepers(self) -> dict:
        return {"layer": self.layers, "blob": self.blobs.sweeper()}

    def prune(self, filters: dict[str, list[str]] | None, users: Users) -> dict:
        """Remove dangling images (with the filter dangling=false: every image no container uses)."""
        wanted = PruneFilters.parse(filters or {})
        all = not wanted.dangling_only
        names = self.catalog.all_names()
        candidates = []
        for record in self.catalog.all():
            image_names = names.get(record.id, [])
            children = self.catalog.children(record.id)
            if not all and children:
                continue
            if not image_names and children:
                continue
            if not wanted.matches(record, self.image_config(record.id)):
                continue
            candidates.append((record, image_names))
        deleted: list[dict] = []
        for record, image_names in candidates:
            if not self.catalog.get(record.id):
                continue
            if image_names:
                if not all and any("@" not in n for n in image_names):
                    continue
                targets = [views.familiar(n) for n in image_names]
            else:
                targets = [record.id]
            for target in targets:
                try:
                    deleted.extend(self.remove(target, force=False, prune=True, users=users))
                except (ImageConflict, ImageNotFound):
                    continue
        reclaimed = sum(record.size for record, _ in candidates
                        if any(item.get("Deleted") == record.id for item in deleted))
        reclaimed = max(reclaimed, self.refs.collect(self._sweepers()).reclaimed)
        return {"ImagesDeleted": deleted or None, "SpaceReclaimed": reclaimed}

    # ---- creation ------------------------------------------------------------------------------
    def record_images(self, images: Sequence[tuple[bytes, str | None, list[str]]]) -> list[tuple[str, dict[str, str]]]:
        """Record images (config bytes, parent, names) whose layers are published, in one transaction.

        Call inside a lease. Returns each image's ID and, for names that moved, the image they named before.
        """
        records = []
        for config_bytes, parent, names in images:
            image_id = self.blobs.put(config_bytes)
            config = json.loads(config_bytes)
            chains = chain_ids(list(config["rootfs"]["diff_ids"]))
            size = sum(self.layers.get(chain).size for chain in chains)
            records.append((ImageRecord(image_id, parent, chains[-1] if chains else None, size,
                                        parse_ns(config.get("created")) // 1_000_000_000, None), names))
        stamp = rfc3339_nano()
        result = []
        with self.db.transaction() as conn:
            for record, names in records:
                self.catalog.add(conn, record, [record.id])
                moved = {}
                for name in names:
                    previous = self.catalog.lookup(name)
                    if previous and previous != record.id:
                        moved[name] = previous
                    self.catalog.set_name(conn, name, record.id, stamp)
                result.append((record.id, moved))
        return result

    def _add_image(self, config_bytes: bytes, parent: str | None, names: list[str]) -> str:
        return self.record_images([(config_bytes, parent, names)])[0][0]

    def import_image(self, stream: BinaryIO, repo_tag: str | None, changes: list[str], message: str,
                     source: str = "-") -> str:
        """A root filesystem tar (plain, gzip, zstd, xz or bzip2) as a new one-layer image.

        `source` (the URL it came from, or "-") makes the default comment, as in Docker.
        """
        names = [self.tag_name(repo_tag)] if repo_tag else []
        config = apply_changes(dict(CONTAINER_CONFIG_DEFAULTS), changes)
        comment = message or f"Imported from {source}"
        plain, _ = decompressed(stream)
        with self.refs.lease("import"):
            try:
                layer = self.layers.create(None, plain)
            except (LayerError, EOFError, OSError) as exc:
                raise InvalidImage(f"cannot import: {exc}") from None
            created = rfc3339_nano()
            config_bytes = image_config(config=config, diff_ids=[layer.diff_id], created=created,
                                        comment=comment, history=[history_entry(created, comment=comment)])
            return self._add_image(config_bytes, None, names)

    def commit(self, upper_dir: Path, parent: str | None, container_config: dict, changes: list[str],
               message: str, author: str, repo_tag: str | None, container_id: str) -> str:
        """A new image: `parent` plus one layer holding exactly what `upper_dir` (overlayfs) changed."""
        names = [self.tag_name(repo_tag)] if repo_tag else []
        config = apply_changes(container_config, changes)
        base = self.image_config(parent) if parent else {}
        base_diff_ids = list((base.get("rootfs") or {}).get("diff_ids") or [])
        with self.refs.lease("commit"):
            layer = self._layer_from_tree(upper_dir, chain_ids(base_diff_ids)[-1] if base_diff_ids else None)
            empty = layer.diff_id == EMPTY_LAYER_DIFF_ID
            created = rfc3339_nano()
            entry = history_entry(created, created_by=" ".join(container_config.get("Cmd") or []),
                                  comment=message, author=author, empty_layer=empty)
            config_bytes = image_config(
                config=config, diff_ids=base_diff_ids + ([] if empty else [layer.diff_id]),
                history=list(base.get("history") or []) + [entry], created=created, comment=message,
                author=author, architecture=base.get("architecture"), variant=base.get("variant", ""),
                os_name=base.get("os", "linux"), container=container_id, container_config=container_config)
            return self._add_image(config_bytes, parent, names)

    def add_step(self, parent: str | None, config: dict, created_by: str, author: str,
                 changes: Path | None = None, layer_tar: Path | None = None, epoch: int | None = None) -> str:
        """A build step's image: `parent`, a layer of what the overlay upper directory `changes` holds
        or of the tar `layer_tar` (neither: a step that changes the configuration only), `config`,
        and a history entry. `epoch` (SOURCE_DATE_EPOCH) is its time, and the latest of its files'."""
        base = self.image_config(parent) if parent else {}
        base_diff_ids = list((base.get("rootfs") or {}).get("diff_ids") or [])
        parent_chain = chain_ids(base_diff_ids)[-1] if base_diff_ids else None
        with self.refs.lease("build"):
            layer = None
            if changes is not None:
                layer = self._layer_from_tree(changes, parent_chain, epoch)
            elif layer_tar is not None:
                with open(layer_tar, "rb") as tar:
                    layer = self.layers.create(parent_chain, tar)
            empty = layer is None or layer.diff_id == EMPTY_LAYER_DIFF_ID
            created = rfc3339_nano(epoch * 10**9 if epoch is not None else None)
            config_bytes = image_config(
                config={**CONTAINER_CONFIG_DEFAULTS, **config},
                diff_ids=base_diff_ids + ([] if empty or layer is None else [layer.diff_id]),
                history=list(base.get("history") or []) + [history_entry(created, created_by=created_by,
                                                                         empty_layer=empty)],
                created=created, author=author, architecture=base.get("architecture"),
                variant=base.get("variant", ""), os_name=base.get("os", "linux"))
            return self._add_image(config_bytes, parent, [])

    def _layer_from_tree(self, upper_dir: Path, parent_chain: str | None, clamp_mtime: int | None = None) -> Layer:
        pipe = ChunkPipe()

        def produce() -> None:
            try:
                write_tree(upper_dir, pipe, overlay=True, clamp_mtime=clamp_mtime)
                pipe.close()
            except BaseException as exc:  # handed to the reading side
                pipe.fail(exc)

        producer = threading.Thread(target=produce, name="commit-tar", daemon=True)
        producer.start()
        try:
            return self.layers.create(parent_chain, pipe.reader)  # type: ignore[arg-type]
        finally:
            pipe.reader.drain()
            producer.join()

    # ---- filesystems ---------------------------------------------------------------------------
    def diff(self, upper_dir: Path, image_id: str | None) -> list[dict]:
        """/containers/{id}/changes: what `upper_dir` changed on top of the image."""
        lowers = self.layer_dirs(image_id) if image_id else []
        return [{"Path": change.path, "Kind": change.kind} for change in changes(upper_dir, lowers)]

    def export(self, rootfs: Path, out: BinaryIO) -> None:
        """The flattened filesystem at `rootfs` (a mounted container root) as a tar stream."""
        write_tree(rootfs, out)

    # ---- archives ------------------------------------------------------------------------------
    def save(self, refs: list[str], out: BinaryIO) -> None:
        """docker save: a docker-archive that is also an OCI image layout."""
        archive_save.save(self, refs, out)

    def load(self, stream: BinaryIO) -> list[str]:
        """docker load: docker-archive (any docker or skopeo) or OCI layout, plain or compressed."""
        with self.refs.lease("load"):
            return archive_load.load(self, stream)

    # ---- accounting and checks -----------------------------------------------------------------
    def disk_usage(self, users: Users | None = None) -> dict:
        """/system/df's image part: LayersSize and ImageSummary objects with SharedSize and Containers."""
        names = self.catalog.all_names()
        records = self.catalog.all()
        chains_of = {record.id: chain_ids(self._diff_ids(record.id)) for record in records}
        usage: dict[str, int] = {}
        for chains in chains_of.values():
            for chain in set(chains):
                usage[chain] = usage.get(chain, 0) + 1
        sizes = {chain: self.layers.get(chain).size for chain in usage}
        images = []
        for record in records:
            item = views.summary(record, self.image_config(record.id), names.get(record.id, []), placeholder=True)
            item["SharedSize"] = sum(sizes[c] for c in set(chains_of[record.id]) if usage[c] > 1)
            item["Containers"] = len(users(record.id)) if users else 0
            images.append(item)
        layers_size = sum(self.layers.get(name).size for name in self.layers.names() if name.startswith("sha256:"))
        return {"LayersSize": layers_size, "Images": images}

    def check(self) -> list[str]:
        """Everything wrong with the store (empty when healthy): missing or corrupt content, broken records."""
        problems: list[str] = []
        for record in self.catalog.all():
            try:
                config = json.loads(self.blobs.read(record.id))
            except (BlobNotFound, DigestMismatch, ValueError) as exc:
                problems.append(f"image {record.id}: config: {exc}")
                continue
            chains = chain_ids(list((config.get("rootfs") or {}).get("diff_ids") or []))
            if (chains[-1] if chains else None) != record.top_layer:
                problems.append(f"image {record.id}: recorded top layer {record.top_layer} does not match config")
            for chain in chains:
                problems.extend(f"image {record.id}: {problem}" for problem in self.layers.verify(chain))
        for image_id, names in self.catalog.all_names().items():
            if not self.catalog.get(image_id):
                problems.append(f"names {', '.join(names)} refer to missing image {image_id}")
        for digest in self.blobs.digests():
            try:
                self.blobs.verify(digest)
            except DigestMismatch as exc:
                problems.append(f"blob {digest}: {exc}")
        return problems


def _is_id_prefix(image_id: str, text: str) -> bool:
    return image_id.startswith(text) or image_id.removeprefix("sha256:").startswith(text)


def _untagged_with(name: str, names: list[str]) -> list[str]:
    """What removing `name` untags: the name, and its repository's digests once no tag of it is left."""
    if "@" in name:
        return [name]
    repository = reference.parse(name).name
    same_repo = [other for other in names if reference.parse(other).name == repository]
    if any("@" not in other for other in same_repo if other != name):
        return [name]
    return [name] + [other for other in same_repo if other != name]


def _single_repository(names: list[str]) -> bool:
    """Docker's isSingleReference: at most one tag, and any digests are of that tag's repository."""
    if len(names) <= 1:
        return len(names) == 1
    tags = [n for n in names if "@" not in n]
    if len(tags) > 1:
        return False
    repositories = {reference.parse(n).name for n in names if "@" in n}
    single = reference.parse(tags[0] if tags else names[0]).name
    return repositories == {single}
