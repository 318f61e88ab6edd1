"""The grammar of the spec's path parts: repository names, tags, digests and upload session ids."""
from __future__ import annotations

import re

from berth.registry.errors import DIGEST_INVALID, NAME_INVALID, RegistryError
from berth.store import digest as digests

_COMPONENT = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*"
_NAME = re.compile(rf"^{_COMPONENT}(?:/{_COMPONENT})*$")
_TAG = re.compile(r"^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$")
_UPLOAD = re.compile(r"^[0-9a-f]{32}$")
NAME_MAX = 255


def repository(name: str) -> str:
    """`name` if it is a valid repository name, else NAME_INVALID."""
    if len(name) > NAME_MAX or not _NAME.match(name):
        raise RegistryError(NAME_INVALID, f"invalid repository name {name!r}", {"name": name})
    return name


def is_tag(reference: str) -> bool:
    return bool(_TAG.match(reference))


def is_upload_id(value: str) -> bool:
    return bool(_UPLOAD.match(value))


def digest(value: str | None) -> str:
    """`value` if it is a sha256 digest (the one algorithm the store keeps), else DIGEST_INVALID."""
    if value is None or not digests.is_digest(value):
        raise RegistryError(DIGEST_INVALID, f"invalid or unsupported digest {value!r}", {"digest": value})
    return value
