"""The registry's storage under one root: blobs (and manifests, which are blobs too) in the shared
content store (`<root>/blobs`, berth.store), and per repository, under `<root>/repositories/<name>/`:

    _layers/<hex>                        the blobs the repository links (a file holding the digest)
    _manifests/revisions/<hex>           its manifests: the media type they were pushed with, size, subject…
    _manifests/tags/<tag>                a tag: the digest of its manifest
    _referrers/<subject hex>/<hex>       the manifests whose subject is that digest
    _uploads/<id>                        an upload session (its data is the store's ingest `upload-<id>`)

A blob becomes visible only by the store's atomic commit, after its digest was checked; links, records
and tags are each one file written atomically, and written after what they point to, so a crash at any
instant leaves no half-written blob and no link to one that is not there. Writers hold `<root>/gc.lock`
shared for each change; garbage collection holds it exclusively (berth.registry.gc).
"""
from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, BinaryIO

from berth.atomicfile import write_atomic
from berth.registry import manifests, names
from berth.registry.errors import (
    BLOB_UNKNOWN,
    DIGEST_INVALID,
    MANIFEST_BLOB_UNKNOWN,
    MANIFEST_UNKNOWN,
    NAME_UNKNOWN,
    RegistryError,
)
from berth.store import BlobStore, BlobWriter, DigestMismatch
from berth.store import digest as digests

LAYERS = "_layers"
MANIFESTS = "_manifests"
REFERRERS = "_referrers"
UPLOADS = "_uploads"


class Storage:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.blobs = BlobStore(root)
        self.repositories_dir = root / "repositories"
        self.repositories_dir.mkdir(parents=True, exist_ok=True)
        self._lock = root / "gc.lock"

    # --- the collector's lock ----------------------------------------------------------------------
    @contextmanager
    def _locked(self, mode: int) -> Iterator[None]:
        fd = os.open(self._lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, mode)
            yield
        finally:
            os.close(fd)

    def writing(self) -> AbstractContextManager[None]:
        """Held (shared) while a change is made: a collection never runs in the middle of one."""
        return self._locked(fcntl.LOCK_SH)

    def collecting(self) -> AbstractContextManager[None]:
        """Held (exclusively) by garbage collection."""
        return self._locked(fcntl.LOCK_EX)

    # --- repositories ------------------------------------------------------------------------------
    def path(self, name: str) -> Path:
        return self.repositories_dir / names.repository(name)

    def exists(self, name: str) -> bool:
        path = self.path(name)
        return (path / LAYERS).is_dir() or (path / MANIFESTS).is_dir()

    def require(self, name: str) -> Path:
        """The repository's directory; NAME_UNKNOWN if nothing was ever pushed to it."""
        if not self.exists(name):
            raise RegistryError(NAME_UNKNOWN, f"repository {name} not known to registry", {"name": name})
        return self.path(name)

    def repositories(self) -> list[str]:
        """Every repository with content, in lexical order."""
        found = []
        for directory, subdirs, _files in os.walk(self.repositories_dir):
            if LAYERS in subdirs or MANIFESTS in subdirs:
                found.append(os.path.relpath(directory, self.repositories_dir))
            subdirs[:] = [d for d in subdirs if not d.startswith("_")]
        return sorted(found)

    # --- blobs -------------------------------------------------------------------------------------
    def _link(self, name: str, digest: str) -> Path:
        return self.path(name) / LAYERS / digests.hex_of(digest)

    def has_blob(self, name: str, digest: str) -> bool:
        return self._link(name, digest).exists() and self.blobs.exists(digest)

    def blob_size(self, name: str, digest: str) -> int:
        """The size of a blob the repository links; BLOB_UNKNOWN otherwise."""
        if not self.has_blob(name, digest):
            raise RegistryError(BLOB_UNKNOWN, f"blob {digest} unknown to repository {name}", {"digest": digest})
        return self.blobs.size(digest)

    def open_blob(self, digest: str) -> BinaryIO:
        """The blob's file, to send as it is: its digest was checked when it was stored, and clients
        check it again; the caller closes it."""
        return open(self.blobs.path(digest), "rb")  # noqa: SIM115

    def link_blob(self, name: str, digest: str) -> None:
        """Let the repository serve a blob the store has."""
        with self.writing():
            if not self.blobs.exists(digest):
                raise RegistryError(BLOB_UNKNOWN, detail={"digest": digest})
            _write(self._link(name, digest), digest.encode())

    def commit_blob(self, name: str, writer: BlobWriter, digest: str) -> None:
        """Commit an upload under `digest` (DIGEST_INVALID and nothing visible if its content differs)
        and link it to the repository."""
        with self.writing():
            try:
                writer.commit(digest)
            except DigestMismatch as err:
                raise RegistryError(DIGEST_INVALID, str(err), {"digest": digest}) from None
            _write(self._link(name, digest), digest.encode())

    def unlink_blob(self, name: str, digest: str) -> None:
        """Take a blob out of the repository (garbage collection deletes its data once nothing links it)."""
        try:
            self._link(name, digest).unlink()
        except FileNotFoundError:
            raise RegistryError(BLOB_UNKNOWN, detail={"digest": digest}) from None

    def linked_blobs(self, name: str) -> dict[str, float]:
        """{digest: when linked} for the repository's blob links."""
        return {f"{digests.ALGORITHM}:{entry.name}": entry.stat().st_mtime
                for entry in _entries(self.path(name) / LAYERS)}

    # --- manifests and tags ------------------------------------------------------------------------
    def _revision(self, name: str, digest: str) -> Path:
        return self.path(name) / MANIFESTS / "revisions" / digests.hex_of(digest)

    def _tag(self, name: str, tag: str) -> Path:
        return self.path(name) / MANIFESTS / "tags" / tag

    def _referrer(self, name: str, subject: str, digest: str) -> Path:
        return self.path(name) / REFERRERS / digests.hex_of(subject) / digests.hex_of(digest)

    def put_manifest(self, name: str, reference: str, data: bytes, content_type: str | None) -> manifests.Manifest:
        """Store a manifest (by tag, or by digest, which must be its own) once all it references is there."""
        manifest = manifests.parse(data, content_type)
        if not names.is_tag(reference) and names.digest(reference) != manifest.digest:
            raise RegistryError(DIGEST_INVALID, f"manifest digest is {manifest.digest}, not {reference}",
                                {"digest": reference})
        with self.writing():
            missing = [d for d in manifest.blobs if not self.has_blob(name, d)]
            missing += [d for d in manifest.children if not self._revision(name, d).exists()]
            if missing:
                raise RegistryError(MANIFEST_BLOB_UNKNOWN, f"manifest references unknown {', '.join(missing)}",
                                    {"digests": missing})
            self.blobs.put(data, manifest.digest)
            _write(self._revision(name, manifest.digest), json.dumps(manifest.record()).encode())
            if manifest.subject:
                _write(self._referrer(name, manifest.subject, manifest.digest), b"")
            if names.is_tag(reference):
                _write(self._tag(name, reference), manifest.digest.encode())
        return manifest

    def resolve(self, name: str, reference: str) -> str:
        """The digest a tag or digest names in the repository; NAME_UNKNOWN or MANIFEST_UNKNOWN (also for a
        reference that is neither a tag nor a digest: it names no manifest the repository could have)."""
        self.require(name)
        if names.is_tag(reference):
            try:
                digest = self._tag(name, reference).read_text()
            except FileNotFoundError:
                raise RegistryError(MANIFEST_UNKNOWN, f"manifest {name}:{reference} unknown",
                                    {"tag": reference}) from None
        elif digests.is_digest(reference):
            digest = reference
        else:
            raise RegistryError(MANIFEST_UNKNOWN, f"{reference!r} is neither a tag nor a digest",
                                {"reference": reference})
        if not self._revision(name, digest).exists():
            raise RegistryError(MANIFEST_UNKNOWN, f"manifest {name}@{digest} unknown", {"digest": digest})
        return digest

    def revision(self, name: str, digest: str) -> dict[str, Any]:
        """What the repository keeps about a manifest (mediaType, size, subject…)."""
        try:
            return json.loads(self._revision(name, digest).read_bytes())
        except FileNotFoundError:
            raise RegistryError(MANIFEST_UNKNOWN, detail={"digest": digest}) from None

    def revisions(self, name: str) -> list[str]:
        return [f"{digests.ALGORITHM}:{entry.name}" for entry in _entries(self.path(name) / MANIFESTS / "revisions")]

    def manifest(self, name: str, reference: str) -> tuple[str, dict[str, Any], bytes]:
        """(digest, record, bytes as pushed) of a manifest by tag or digest."""
        digest = self.resolve(name, reference)
        return digest, self.revision(name, digest), self.blobs.read(digest)

    def tags(self, name: str) -> dict[str, str]:
        """{tag: digest} of an existing repository."""
        directory = self.require(name) / MANIFESTS / "tags"
        return {entry.name: Path(entry.path).read_text() for entry in _entries(directory)}

    def delete_tag(self, name: str, tag: str) -> None:
        try:
            self._tag(name, tag).unlink()
        except FileNotFoundError:
            raise RegistryError(MANIFEST_UNKNOWN, f"tag {tag} unknown", {"tag": tag}) from None

    def delete_manifest(self, name: str, digest: str) -> None:
        """Remove a manifest: first the tags that name it, then its referrer entry, then the revision."""
        self.require(name)
        record = self.revision(name, digest)
        for tag, tagged in self.tags(name).items():
            if tagged == digest:
                self._tag(name, tag).unlink(missing_ok=True)
        if record.get("subject"):
            self._referrer(name, record["subject"], digest).unlink(missing_ok=True)
        self._revision(name, digest).unlink(missing_ok=True)

    def referrers(self, name: str, subject: str) -> list[dict[str, Any]]:
        """The descriptors of the repository's manifests whose subject is `subject`, oldest first."""
        if not self.exists(name):
            return []
        found = []
        for entry in sorted(_entries(self.path(name) / REFERRERS / digests.hex_of(subject)),
                            key=lambda e: e.stat().st_mtime):
            digest = f"{digests.ALGORITHM}:{entry.name}"
            try:
                record = self.revision(name, digest)
            except RegistryError:
                continue  # deleted in the meantime
            descriptor = {"mediaType": record["mediaType"], "digest": digest, "size": record["size"]}
            for key in ("artifactType", "annotations"):
                if key in record:
                    descriptor[key] = record[key]
            found.append(descriptor)
        return found


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, data)


def _entries(directory: Path) -> list[os.DirEntry[str]]:
    """The files of a metadata directory, without the temporary files of writers at work."""
    try:
        return [entry for entry in os.scandir(directory) if not entry.name.startswith(".")]
    except FileNotFoundError:
        return []
