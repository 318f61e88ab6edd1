"""Errors the image service raises, each of a kind in berth.errdefs; their texts are Docker's."""
from __future__ import annotations

from berth.errdefs import Conflict, InvalidArgument, NotFound, Unavailable


class ImageNotFound(NotFound, LookupError):
    """str(e) == "No such image: <ref>"."""

    def __init__(self, ref: str) -> None:
        super().__init__(f"No such image: {ref}")
        self.ref = ref

    def __str__(self) -> str:
        return str(self.args[0])


class ImageConflict(Conflict):
    """The operation would break an image still in use or referenced."""


class InvalidReference(InvalidArgument, ValueError):
    """A malformed image reference."""


class InvalidImage(InvalidArgument, ValueError):
    """An archive, config or change line berth cannot accept; the message says what is wrong."""


class InvalidFilter(InvalidArgument, ValueError):
    """An unknown filter or a bad filter value."""


class StoreFormatError(Unavailable, RuntimeError):
    """The data root holds an image store in a format this berth cannot read."""
