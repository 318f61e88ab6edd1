"""Content digests: the `sha256:<64 hex>` strings every object in the store is named by."""
from __future__ import annotations

import hashlib
import re

from berth.errdefs import DataLoss, InvalidArgument

ALGORITHM = "sha256"
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


class InvalidDigest(InvalidArgument, ValueError):
    """A string that is not a well-formed sha256 digest."""


class DigestMismatch(DataLoss, ValueError):
    """Content whose hash differs from the digest it was stored or announced under."""

    def __init__(self, expected: str, actual: str) -> None:
        super().__init__(f"digest mismatch: expected {expected}, got {actual}")
        self.expected = expected
        self.actual = actual


def validate(digest: str) -> str:
    """Return `digest` unchanged if it is a well-formed sha256 digest, else raise InvalidDigest."""
    if not isinstance(digest, str) or not _DIGEST.match(digest):
        raise InvalidDigest(f"invalid digest {digest!r}: expected sha256:<64 lowercase hex>")
    return digest


def is_digest(value: str) -> bool:
    return bool(_DIGEST.match(value))


def hex_of(digest: str) -> str:
    return validate(digest)[len(ALGORITHM) + 1:]


def of_bytes(data: bytes) -> str:
    return f"{ALGORITHM}:{hashlib.sha256(data).hexdigest()}"


def from_hasher(hasher: hashlib._Hash) -> str:
    return f"{ALGORITHM}:{hasher.hexdigest()}"


def new_hasher() -> hashlib._Hash:
    return hashlib.sha256()
