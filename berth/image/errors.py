"""Errors the image service raises; their texts are Docker's, so the API can pass them on unchanged."""
from __future__ import annotations


class ImageNotFound(LookupError):
    """404: str(e) == "No such image: <ref>"."""

    def __init__(self, ref: str) -> None:
        super().__init__(f"No such image: {ref}")
        self.ref = ref

    def __str__(self) -> str:
        return str(self.args[0])


class ImageConflict(Exception):
    """409: the operation would break an image still in use or referenced."""


class InvalidReference(ValueError):
    """400: a malformed image reference."""


class InvalidImage(ValueError):
    """400: an archive, config or change line berth cannot accept; the message says what is wrong."""


class InvalidFilter(ValueError):
    """400: an unknown filter or a bad filter value."""


class StoreFormatError(RuntimeError):
    """The data root holds an image store in a format this berth cannot read."""
