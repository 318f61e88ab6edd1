"""Image references (`host:port/path/name:tag@digest`) with Docker's normalisation.

`busybox` means `docker.io/library/busybox:latest`; `familiar` turns a full reference back into the
short form Docker shows (`busybox:latest`, `registry:5000/app:1`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from berth.image.errors import InvalidReference

DEFAULT_DOMAIN = "docker.io"
LEGACY_DOMAIN = "index.docker.io"
OFFICIAL_PREFIX = "library/"
DEFAULT_TAG = "latest"
NAME_MAX = 255

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*"
_DOMAIN = (r"(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
           r"(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?")
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_REFERENCE = re.compile(rf"^((?:{_DOMAIN}/)?{_COMPONENT}(?:/{_COMPONENT})*)(?::({_TAG}))?(?:@({_DIGEST}))?$")
_HEX64 = re.compile(r"^[a-f0-9]{64}$")


@dataclass(frozen=True)
class Reference:
    name: str  # fully qualified repository: docker.io/library/busybox
    tag: str | None = None
    digest: str | None = None

    def __str__(self) -> str:
        return self.name + (f":{self.tag}" if self.tag else "") + (f"@{self.digest}" if self.digest else "")

    def with_default_tag(self) -> Reference:
        return self if self.tag or self.digest else Reference(self.name, DEFAULT_TAG)

    @property
    def familiar_name(self) -> str:
        return familiar_name(self.name)

    @property
    def familiar(self) -> str:
        return self.familiar_name + (f":{self.tag}" if self.tag else "") + (f"@{self.digest}" if self.digest else "")


def familiar_name(name: str) -> str:
    if name.startswith(DEFAULT_DOMAIN + "/"):
        name = name[len(DEFAULT_DOMAIN) + 1:]
        if name.startswith(OFFICIAL_PREFIX) and name.count("/") == 1:
            name = name[len(OFFICIAL_PREFIX):]
    return name


def _split_domain(name: str) -> tuple[str, str]:
    first, slash, rest = name.partition("/")
    if not slash or ("." not in first and ":" not in first and first != "localhost" and first.lower() == first):
        domain, remainder = DEFAULT_DOMAIN, name
    else:
        domain, remainder = first, rest
    if domain == LEGACY_DOMAIN:
        domain = DEFAULT_DOMAIN
    if domain == DEFAULT_DOMAIN and "/" not in remainder:
        remainder = OFFICIAL_PREFIX + remainder
    return domain, remainder


def parse(text: str) -> Reference:
    """Parse and normalise a reference as `docker` does (ParseNormalizedNamed)."""
    if _HEX64.match(text):
        raise InvalidReference(f"invalid repository name ({text}), cannot specify 64-byte hexadecimal strings")
    if not text:
        raise InvalidReference("invalid reference format")
    match = _REFERENCE.match(text)
    if match is None:
        if _REFERENCE.match(text.lower()):
            raise InvalidReference("invalid reference format: repository name must be lowercase")
        raise InvalidReference("invalid reference format")
    name, tag, digest = match.groups()
    domain, remainder = _split_domain(name)
    if remainder.lower() != remainder:
        raise InvalidReference("invalid reference format: repository name must be lowercase")
    full = f"{domain}/{remainder}"
    if len(name) > NAME_MAX:
        raise InvalidReference(f"repository name must not be more than {NAME_MAX} characters")
    return Reference(full, tag, digest)


def _glob(pattern: str) -> re.Pattern[str]:
    """Go's path.Match: `*` and `?` never match `/`."""
    out = []
    for index, char in enumerate(pattern):
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char in "[]^-" and "[" in pattern[:index + 1]:
            out.append(char)
        else:
            out.append(re.escape(char))
    return re.compile("^" + "".join(out) + "$")


def matches(pattern: str, ref: Reference) -> bool:
    """Docker's `reference=` filter: a glob against `name:tag` or just the name, in familiar form."""
    glob = _glob(pattern)
    if glob.match(ref.familiar_name):
        return True
    return ref.tag is not None and bool(glob.match(f"{ref.familiar_name}:{ref.tag}"))
