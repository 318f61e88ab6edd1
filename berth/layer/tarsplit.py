"""Tar-split: what a layer tar holds besides file content (headers, padding, the end of archive),
kept next to the unpacked layer, so the exact tar (and so its diff ID) can be made again from the
unpacked files. A layer's bytes are then written to disk once instead of twice (tar and files);
Docker keeps its layers the same way.

The format is berth's own: a little-endian u32 length and a JSON list of file locations (paths
relative to the layer directory), then a zlib stream of records: `R <u32 n> <n raw bytes>` or
`F <u32 location index> <u64 size>` (that many bytes of the file's content).

A file that a later entry of the same tar replaces or removes is moved aside into `shadow/`
instead of deleted, so the tar stays reproducible whatever order its entries come in.
"""
from __future__ import annotations

import io
import json
import os
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

from berth.layer.hashing import CHUNK, ParallelHasher
from berth.layer.pipe import read_ahead
from berth.layer.rootdir import RootDir
from berth.store import digest as digests

SPLIT_FILE = "tar-split"
SHADOW_DIR = "shadow"
_LENGTH = struct.Struct("<I")
_RAW = struct.Struct("<cI")
_FILE = struct.Struct("<cIQ")


class SplitRecorder:
    """Watches every byte of a tar as it is read and notes which ones are file content.

    `feed` gets the stream in order; `content` says, once a member's header is parsed, where its
    content lies in the stream and which file of `layer_dir` holds it. Bytes are classified as soon
    as that is known, so at most the reader's read-ahead is held in memory.
    """

    def __init__(self, layer_dir: Path) -> None:
        self._layer_dir = os.fspath(layer_dir)
        self._records = zlib.compressobj(1)
        self._compressed: list[bytes] = []
        self._locations: list[str] = []
        self._pending = bytearray()  # stream bytes from offset `_classified` on, not yet classified
        self._classified = 0
        self._contents: list[tuple[int, int]] = []  # (start, end) of file content not yet passed
        self._shadowed = 0

    def feed(self, data: bytes) -> None:
        self._pending += data
        self._classify()

    def content(self, start: int, size: int, parent_fd: int, name: str) -> None:
        """Bytes [start, start + size) of the stream are the content of `name` in `parent_fd`."""
        if size:
            self._contents.append((start, start + size))
            self._locations.append(self._location(parent_fd, name))
            self._classify()

    def _classify(self) -> None:
        while self._pending and self._contents:
            start, end = self._contents[0]
            if self._classified < start:
                self._raw(min(start - self._classified, len(self._pending)))
                continue
            count = min(end - self._classified, len(self._pending))
            if self._classified == start:
                self._write(_FILE.pack(b"F", len(self._locations) - len(self._contents), end - start))
            del self._pending[:count]
            self._classified += count
            if self._classified == end:
                self._contents.pop(0)

    def _raw(self, count: int) -> None:
        self._write(_RAW.pack(b"R", count) + self._pending[:count])
        del self._pending[:count]
        self._classified += count

    def _write(self, record: bytes) -> None:
        self._compressed.append(self._records.compress(record))

    def _location(self, parent_fd: int, name: str) -> str:
        return os.path.relpath(os.path.join(os.readlink(f"/proc/self/fd/{parent_fd}"), name), self._layer_dir)

    def set_aside(self, parent_fd: int, name: str) -> None:
        """Move `name` (about to be replaced or whited out) into the shadow directory, with its files."""
        old = self._location(parent_fd, name)
        shadow = os.path.join(self._layer_dir, SHADOW_DIR)
        os.makedirs(shadow, exist_ok=True)
        new = os.path.join(SHADOW_DIR, str(self._shadowed))
        self._shadowed += 1
        os.rename(name, os.path.join(self._layer_dir, new), src_dir_fd=parent_fd)
        prefix = old + "/"
        self._locations = [new + location[len(old):] if location == old or location.startswith(prefix)
                           else location for location in self._locations]

    def finish(self) -> None:
        """Write the split into the layer directory; call once the whole stream was fed."""
        if self._contents:
            raise ValueError("tar-split: the stream ended inside a file's content")
        if self._pending:
            self._raw(len(self._pending))
        self._compressed.append(self._records.flush())
        table = json.dumps(self._locations).encode()
        with open(os.path.join(self._layer_dir, SPLIT_FILE), "wb") as out:
            out.write(_LENGTH.pack(len(table)) + table)
            out.writelines(self._compressed)


def _records(layer_dir: Path) -> Iterator[tuple[bytes, int, bytes | str]]:
    """("R", 0, raw bytes) and ("F", size, location) records of a layer's tar-split."""
    with open(layer_dir / SPLIT_FILE, "rb") as source:
        (length,) = _LENGTH.unpack(source.read(_LENGTH.size))
        locations = json.loads(source.read(length))
        data = zlib.decompress(source.read())
    view = memoryview(data)
    position = 0
    while position < len(view):
        kind = bytes(view[position:position + 1])
        if kind == b"R":
            _, count = _RAW.unpack_from(view, position)
            position += _RAW.size
            yield b"R", 0, bytes(view[position:position + count])
            position += count
        elif kind == b"F":
            _, index, size = _FILE.unpack_from(view, position)
            position += _FILE.size
            yield b"F", size, locations[index]
        else:
            raise ValueError(f"tar-split of {layer_dir}: unknown record {kind!r}")


def _chunks(layer_dir: Path) -> Iterator[bytes]:
    with RootDir(layer_dir) as root:
        for _kind, size, value in _records(layer_dir):
            if isinstance(value, bytes):  # a raw record: headers and padding as they were
                yield value
                continue
            parent, name = root.open_parent(value)
            try:
                fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=parent)
            finally:
                os.close(parent)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_WILLNEED)  # let the disk read ahead of us
            with open(fd, "rb", buffering=0) as content:
                remaining = size
                while remaining:
                    chunk = content.read(min(CHUNK, remaining))
                    if not chunk:
                        raise OSError(f"{value}: file is {size - remaining} bytes, the layer's tar says {size}")
                    remaining -= len(chunk)
                    yield chunk
                if content.read(1):
                    raise OSError(f"{value}: file is longer than the {size} bytes the layer's tar says")


class TarReader(io.RawIOBase):
    """The layer's tar, made again from its tar-split and files; verified against `diff_id` at the end."""

    def __init__(self, layer_dir: Path, diff_id: str) -> None:
        self._chunks = read_ahead(_chunks(layer_dir))
        self._diff_id = diff_id
        self._hasher = ParallelHasher()
        self._pending = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        while not self._pending:
            chunk = next(self._chunks, None)
            if chunk is None:
                self._verify()
                return 0
            self._hasher.update(chunk)
            self._pending = memoryview(chunk)
        count = min(len(buffer), len(self._pending))
        buffer[:count] = self._pending[:count]
        self._pending = self._pending[count:]
        return count

    def _verify(self) -> None:
        actual = self._hasher.digest
        if actual != self._diff_id:
            raise digests.DigestMismatch(self._diff_id, actual)


def open_tar(layer_dir: Path, diff_id: str) -> io.BufferedReader:
    """A buffered reader of the layer's tar; reading to the end raises DigestMismatch if it differs."""
    return io.BufferedReader(TarReader(layer_dir, diff_id), CHUNK)  # type: ignore[arg-type]  # a RawIOBase in all but name
