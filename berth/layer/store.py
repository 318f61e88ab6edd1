"""Unpacked layers under `<root>/layers/<chain id hex>/`: `diff/` (an overlayfs lower directory),
`tar-split` (the rest of the layer's tar, see berth.layer.tarsplit) and `layer.json` (diff ID,
parent, the archive it came from, sizes).

The tar itself is not kept: `open_tar` makes it again from `diff/` and `tar-split`, verified against
the diff ID, so a layer's bytes are written once. A compressed archive is kept as a blob as well
(two threads: one hashes and stores it, the other decompresses and unpacks), as its digest is the
one registries know. A layer is unpacked into a temporary directory, then renamed into place, so a
layer directory under its name is always complete. Layers are shared: unpacking a layer that exists
keeps the existing one.
"""
from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import threading
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO

from berth.atomicfile import fsync_dir
from berth.errdefs import NotFound
from berth.layer import tarsplit
from berth.layer.apply import Applied, LayerError, apply_tar
from berth.layer.compression import decompressed, sniff
from berth.layer.hashing import CHUNK
from berth.layer.pipe import ChunkPipe
from berth.layer.tarsplit import SplitRecorder
from berth.store import DigestMismatch, References
from berth.store import digest as digests
from berth.store.content import ContentStore
from berth.store.gc import key

LAYER_KIND = "layer"
_TEMPORARY = ".tmp-"
_DELETING = ".del-"


class LayerNotFound(NotFound, LookupError):
    def __init__(self, chain_id: str) -> None:
        super().__init__(f"layer {chain_id} does not exist")


@dataclass(frozen=True)
class Layer:
    chain_id: str
    diff_id: str
    parent: str | None  # the chain ID of the layer below
    blob: str  # digest of the archive this layer was unpacked from (the diff ID when uncompressed)
    compression: str | None  # of that archive: None, "gzip" or "zstd"; compressed archives are kept as blobs
    blob_size: int
    size: int  # bytes of files and symlink targets (see berth.layer.apply.Applied)
    tar_size: int  # bytes of the uncompressed tar

    @property
    def blob_stored(self) -> bool:
        return self.compression is not None


@dataclass
class Unpacked:
    """A layer archive unpacked into a private directory (its compressed form stored as a blob), not
    yet published. `home` is where its files are: `work`, or the layer it was published as."""
    work: Path
    blob: str
    blob_size: int
    compression: str | None
    diff_id: str
    size: int
    tar_size: int
    home: Path


def chain_ids(diff_ids: list[str]) -> list[str]:
    """Chain IDs of a stack of layers, bottom first (OCI image-spec: ChainID(n) = sha256(ChainID(n-1) + " " + DiffID(n)))."""
    result: list[str] = []
    for diff_id in diff_ids:
        result.append(diff_id if not result else digests.of_bytes(f"{result[-1]} {diff_id}".encode()))
    return result


class LayerStore:
    def __init__(self, root: Path, blobs: ContentStore, refs: References) -> None:
        self.dir = root / "layers"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.blobs = blobs
        self.refs = refs

    def _path(self, chain_id: str) -> Path:
        return self.dir / digests.hex_of(chain_id)

    def diff_dir(self, chain_id: str) -> Path:
        return self._path(chain_id) / "diff"

    def exists(self, chain_id: str) -> bool:
        return (self._path(chain_id) / "layer.json").exists()

    def get(self, chain_id: str) -> Layer:
        try:
            return Layer(**json.loads((self._path(chain_id) / "layer.json").read_bytes()))
        except FileNotFoundError:
            raise LayerNotFound(chain_id) from None

    def create(self, parent: str | None, archive: BinaryIO, expected_diff_id: str | None = None) -> Layer:
        """Store `archive` (a layer tar, plain or compressed) as a blob and unpack it on top of `parent`.

        Call inside a lease (References.lease): the new blob and layer survive until recorded.
        """
        unpacked = self.unpack(archive)
        try:
            if expected_diff_id is not None and unpacked.diff_id != expected_diff_id:
                raise DigestMismatch(expected_diff_id, unpacked.diff_id)
            return self.publish(unpacked, parent)
        finally:
            self.discard(unpacked)

    def unpack(self, archive: BinaryIO) -> Unpacked:
        """Unpack `archive` into a private directory, not yet a layer (see `publish`)."""
        work = self.dir / f"{_TEMPORARY}{uuid.uuid4().hex}"
        self.refs.protect(key(LAYER_KIND, work.name))
        (work / "diff").mkdir(parents=True)
        try:
            raw, compression = sniff(archive)
            if compression is None:
                applied = self._apply(raw, work)
                blob, blob_size = applied.diff_id, applied.tar_size
            else:
                blob, blob_size, applied = self._ingest_and_apply(raw, work)
        except BaseException:
            shutil.rmtree(work)
            raise
        return Unpacked(work, blob, blob_size, compression, applied.diff_id, applied.size, applied.tar_size, work)

    def publish(self, unpacked: Unpacked, parent: str | None) -> Layer:
        """Make `unpacked` the layer above `parent` (sharing an existing equal layer); call inside a lease."""
        chain_id = unpacked.diff_id if parent is None else chain_ids([parent, unpacked.diff_id])[1]
        self.refs.protect(key(LAYER_KIND, chain_id), *([key(LAYER_KIND, parent)] if parent else []))
        if parent is not None and not self.exists(parent):
            raise LayerNotFound(parent)
        if not self.exists(chain_id):
            if not unpacked.work.exists():  # already published above another parent: unpack a copy
                with tarsplit.open_tar(unpacked.home, unpacked.diff_id) as archive:
                    copy = self.unpack(archive)
                try:
                    return self.publish(copy, parent)
                finally:
                    self.discard(copy)
            layer = Layer(chain_id, unpacked.diff_id, parent, unpacked.blob, unpacked.compression,
                          unpacked.blob_size, unpacked.size, unpacked.tar_size)
            self._publish(unpacked.work, layer)
            unpacked.home = self._path(chain_id)
        layer = self.get(chain_id)
        with self.refs.db.transaction() as conn:
            children = [key("blob", layer.blob)] if layer.blob_stored else []
            children += [key(LAYER_KIND, layer.parent)] if layer.parent else []
            self.refs.add_edges(conn, key(LAYER_KIND, layer.chain_id), children)
        return layer

    def open_tar(self, chain_id: str) -> BinaryIO:
        """The layer's uncompressed tar, made from its files; reading to its end verifies the diff ID."""
        return tarsplit.open_tar(self._path(chain_id), self.get(chain_id).diff_id)

    def discard(self, unpacked: Unpacked) -> None:
        """Drop what `unpack` made and `publish` did not take."""
        if unpacked.work.exists():
            shutil.rmtree(unpacked.work)

    @staticmethod
    def _apply(stream: BinaryIO, work: Path) -> Applied:
        """Unpack the plain tar `stream` into `work/diff`, and its tar-split into `work`."""
        recorder = SplitRecorder(work)
        applied = apply_tar(stream, work / "diff", recorder)
        recorder.finish()
        return applied

    def _ingest_and_apply(self, archive: BinaryIO, work: Path) -> tuple[str, int, Applied]:
        """Store the compressed `archive` as a blob while unpacking it into `work`."""
        pipe = ChunkPipe()
        writer = self.blobs.writer()
        failure: list[BaseException] = []

        def ingest() -> None:
            try:
                while chunk := archive.read(CHUNK):
                    writer.write(chunk)
                    pipe.write(chunk)
                pipe.close()
            except BaseException as exc:  # handed to the unpacking side
                failure.append(exc)
                pipe.fail(exc)

        thread = threading.Thread(target=ingest, name="layer-ingest", daemon=True)
        thread.start()
        try:
            try:
                stream, compression = decompressed(pipe.reader)  # type: ignore[arg-type]
                applied = self._apply(stream, work)
                while pipe.reader.read(CHUNK):  # what follows the compressed stream
                    pass
            except BaseException:
                pipe.reader.drain()
                thread.join()
                if failure:
                    raise failure[0]  # noqa: B904 - the producer's error is the cause, the reader's its echo
                raise
            thread.join()
            if failure:
                raise failure[0]
            if compression not in (None, "gzip", "zstd"):
                raise LayerError(f"unsupported layer compression {compression}")
            return writer.commit(), writer.size, applied
        finally:
            writer.abort()

    def _publish(self, work: Path, layer: Layer) -> None:
        """Make the unpacked layer durable, then rename it into place."""
        (work / "layer.json").write_text(json.dumps(asdict(layer)))
        target = self._path(layer.chain_id)
        os.sync()
        try:
            os.rename(work, target)
        except OSError as exc:  # published meanwhile by another thread: keep that one
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                raise
            return
        fsync_dir(self.dir)

    # garbage collection (berth.store.Sweeper)
    def names(self) -> Iterator[str]:
        for entry in os.scandir(self.dir):
            if entry.name.startswith((_TEMPORARY, _DELETING)):
                yield entry.name
            elif digests.is_digest(f"{digests.ALGORITHM}:{entry.name}"):
                yield f"{digests.ALGORITHM}:{entry.name}"

    def remove(self, name: str) -> int:
        if name.startswith((_TEMPORARY, _DELETING)):  # left by a crash: counted, so prune tells what it freed
            size = _tree_size(self.dir / name)
            shutil.rmtree(self.dir / name, ignore_errors=True)
            return size
        try:
            size = self.get(name).size
        except (LayerNotFound, ValueError):
            size = 0
        doomed = self.dir / f"{_DELETING}{uuid.uuid4().hex}"
        try:
            os.rename(self._path(name), doomed)
        except FileNotFoundError:
            return 0
        fsync_dir(self.dir)
        shutil.rmtree(doomed)
        return size

    def verify(self, chain_id: str) -> list[str]:
        """Problems with one layer: missing or unreadable metadata, missing blob, content that no
        longer makes the layer's tar (reads every byte of the layer)."""
        try:
            layer = self.get(chain_id)
        except (LayerNotFound, ValueError, TypeError) as exc:
            return [f"layer {chain_id}: {exc}"]
        problems = []
        if layer.chain_id != chain_id:
            problems.append(f"layer {chain_id}: metadata names chain ID {layer.chain_id}")
        if not self.diff_dir(chain_id).is_dir():
            problems.append(f"layer {chain_id}: unpacked content is missing")
        if layer.blob_stored and not self.blobs.exists(layer.blob):
            problems.append(f"layer {chain_id}: blob {layer.blob} is missing")
        try:
            with self.open_tar(chain_id) as tar:
                while tar.read(CHUNK):
                    pass
        except (OSError, ValueError) as exc:
            problems.append(f"layer {chain_id}: content does not match its diff ID: {exc}")
        return problems


def _tree_size(root: Path) -> int:
    """Bytes of the regular files under `root`."""
    total = 0
    for directory, _, files in os.walk(root):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(directory, name)).st_size
    return total
