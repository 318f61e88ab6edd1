"""`berth registry garbage-collect`: mark what the repositories still need, sweep the rest.

Marked (kept): every manifest revision (with `delete_untagged`: only tagged manifests, the manifests
a kept index lists, and the referrers of a kept manifest, as their subject's attachments), the config
and layers of each kept manifest, and every blob linked or written less than `grace` seconds ago (a
push in flight: its blobs come before its manifest). Swept: the other manifests (their revisions and
referrer entries), the blob links no kept manifest needs, the blobs no repository needs, upload
sessions idle for a day, and ingests idle for `grace` that no session owns.

The collection holds the storage's lock exclusively, so a running server's changes wait for it (and
it for them); a push that takes longer than `grace` between its blobs and its manifest may lose them.
"""
from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field

from berth.errdefs import BerthError
from berth.registry import manifests
from berth.registry.storage import Storage
from berth.registry.uploads import Uploads

GRACE = 3600.0


@dataclass
class Report:
    manifests: dict[str, list[str]] = field(default_factory=dict)  # repository -> manifests removed
    links: dict[str, list[str]] = field(default_factory=dict)  # repository -> blob links removed
    blobs: list[str] = field(default_factory=list)
    uploads: list[str] = field(default_factory=list)
    reclaimed: int = 0


def collect(storage: Storage, delete_untagged: bool = False, dry_run: bool = False, grace: float = GRACE) -> Report:
    report = Report()
    fresh = time.time() - grace
    uploads = Uploads(storage)
    kept: set[str] = set()
    with storage.collecting():
        for name in storage.repositories():
            revisions = _parsed(storage, name)
            keep = _kept_manifests(storage, name, revisions, delete_untagged)
            needed = keep | {blob for digest in keep for blob in revisions[digest].blobs}
            links = storage.linked_blobs(name)
            kept |= needed | {digest for digest, linked in links.items() if linked >= fresh}
            report.manifests[name] = sorted(set(revisions) - keep)
            report.links[name] = sorted(d for d, linked in links.items() if d not in needed and linked < fresh)
            if not dry_run:
                for digest in report.manifests[name]:
                    storage.delete_manifest(name, digest)
                for digest in report.links[name]:
                    storage.unlink_blob(name, digest)
        for digest in list(storage.blobs.digests()):
            info = storage.blobs.info(digest)
            if digest not in kept and info.created < fresh:
                report.blobs.append(digest)
                report.reclaimed += info.size
                if not dry_run:
                    storage.blobs.delete(digest)
        if not dry_run:
            report.uploads = uploads.expire()
            _drop_stray_ingests(storage, uploads, fresh)
    report.manifests = {name: found for name, found in report.manifests.items() if found}
    report.links = {name: found for name, found in report.links.items() if found}
    return report


def _parsed(storage: Storage, name: str) -> dict[str, manifests.Manifest]:
    """The repository's manifests, parsed (one whose bytes are gone or unreadable references nothing)."""
    parsed = {}
    for digest in storage.revisions(name):
        try:
            parsed[digest] = manifests.parse(storage.blobs.read(digest), storage.revision(name, digest)["mediaType"])
        except BerthError:
            parsed[digest] = manifests.Manifest("", digest, 0)
    return parsed


def _kept_manifests(storage: Storage, name: str, revisions: dict[str, manifests.Manifest],
                    delete_untagged: bool) -> set[str]:
    if not delete_untagged:
        return set(revisions)
    referrers: defaultdict[str, list[str]] = defaultdict(list)
    for digest, manifest in revisions.items():
        if manifest.subject:
            referrers[manifest.subject].append(digest)
    kept: set[str] = set()
    pending = [digest for digest in storage.tags(name).values() if digest in revisions]
    while pending:
        digest = pending.pop()
        if digest in kept or digest not in revisions:
            continue
        kept.add(digest)
        pending += revisions[digest].children + referrers[digest]
    return kept


def _drop_stray_ingests(storage: Storage, uploads: Uploads, fresh: float) -> None:
    """Ingests idle since before `fresh` that no upload session owns: a crashed monolithic upload's."""
    sessions = {Uploads.ingest_ref(upload_id) for _name, upload_id in uploads.sessions()}
    for ingest in storage.blobs.ingests():
        if ingest.ref not in sessions and ingest.updated < fresh:
            storage.blobs.abort(ingest.ref)
