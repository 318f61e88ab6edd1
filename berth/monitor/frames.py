"""The framing spoken between a monitor and its clients, in both directions.

Each frame is an 8-byte header (type, three zero bytes, big-endian uint32 payload length) and the
payload.
"""
from __future__ import annotations

import enum
import struct

HEADER = struct.Struct(">BxxxI")
MAX_PAYLOAD = 1 << 20


class FrameType(enum.IntEnum):
    STDIN = 0        # client -> monitor: bytes for the process's stdin
    STDOUT = 1       # monitor -> client
    STDERR = 2       # monitor -> client
    EXIT = 3         # monitor -> client: JSON exit record, the last frame
    CLOSE_STDIN = 4  # client -> monitor: empty payload
    RESIZE = 5       # client -> monitor: JSON {"h": rows, "w": cols}


def encode(kind: int, payload: bytes = b"") -> bytes:
    return HEADER.pack(kind, len(payload)) + payload


def split(buffer: bytearray) -> list[tuple[int, bytes]]:
    """Remove and return every complete frame at the front of `buffer`.

    Raises ValueError for a payload longer than MAX_PAYLOAD (a confused or hostile peer).
    """
    frames = []
    while len(buffer) >= HEADER.size:
        kind, length = HEADER.unpack_from(buffer)
        if length > MAX_PAYLOAD:
            raise ValueError(f"frame of {length} bytes is larger than {MAX_PAYLOAD}")
        end = HEADER.size + length
        if len(buffer) < end:
            break
        frames.append((kind, bytes(buffer[HEADER.size:end])))
        del buffer[:end]
    return frames
