"""Compressed tar streams: detect the format by its magic bytes and read it decompressed.

gzip goes through isal (igzip), zstd through zstandard; xz and bzip2 through the standard library.
"""
from __future__ import annotations

import bz2
import io
import lzma
from typing import BinaryIO

import zstandard
from isal import igzip

GZIP, ZSTD, XZ, BZIP2 = "gzip", "zstd", "xz", "bzip2"
_MAGIC = [
    (b"\x1f\x8b", GZIP),
    (b"\x28\xb5\x2f\xfd", ZSTD),
    (b"\xfd7zXZ\x00", XZ),
    (b"BZh", BZIP2),
]
MAGIC_LENGTH = 6


def detect(head: bytes) -> str | None:
    """The compression whose magic `head` starts with, or None for plain data."""
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    return None


class _Prefixed(io.RawIOBase):
    """A stream that yields `head` and then the rest of `stream` (to put peeked bytes back)."""

    def __init__(self, head: bytes, stream: BinaryIO) -> None:
        self._head = head
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        if self._head:
            count = min(len(buffer), len(self._head))
            buffer[:count] = self._head[:count]
            self._head = self._head[count:]
            return count
        data = self._stream.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)


def _read_head(stream: BinaryIO) -> bytes:
    head = b""
    while len(head) < MAGIC_LENGTH:
        chunk = stream.read(MAGIC_LENGTH - len(head))
        if not chunk:
            break
        head += chunk
    return head


def sniff(stream: BinaryIO) -> tuple[BinaryIO, str | None]:
    """The compression `stream` starts with, and a reader of `stream` from its first byte."""
    head = _read_head(stream)
    return io.BufferedReader(_Prefixed(head, stream), 1 << 20), detect(head)  # type: ignore[arg-type,type-var]


def decompressed(stream: BinaryIO) -> tuple[BinaryIO, str | None]:
    """Return a reader of `stream`'s decompressed bytes, and the compression that was found."""
    raw, kind = sniff(stream)
    if kind == GZIP:
        return igzip.IGzipFile(fileobj=raw, mode="rb"), kind  # type: ignore[return-value]
    if kind == ZSTD:
        return zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True), kind  # type: ignore[return-value]
    if kind == XZ:
        return lzma.LZMAFile(raw), kind  # type: ignore[return-value]
    if kind == BZIP2:
        return bz2.BZ2File(raw), kind  # type: ignore[return-value]
    return raw, None
