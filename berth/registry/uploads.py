"""Blob upload sessions. A session is a file under its repository (`_uploads/<id>`, so one repository
cannot write into another's upload) and a named ingest of the content store (`upload-<id>`), which
hashes what it is given as it is written. The server keeps each session's writer open between its
requests, so a chunked upload is hashed once; after a restart a session is resumed from its ingest."""
from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from berth.atomicfile import write_atomic
from berth.errdefs import NotFound
from berth.registry import names
from berth.registry.errors import BLOB_UPLOAD_UNKNOWN, RegistryError
from berth.registry.storage import UPLOADS, Storage
from berth.store import BlobWriter

# An upload with no request for this long is garbage (berth.registry.gc), as a named ingest is for the store.
UPLOAD_EXPIRY = 24 * 3600.0


@dataclass
class Session:
    name: str
    id: str
    writer: BlobWriter
    used: float


class Uploads:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self._open: dict[str, Session] = {}
        self._lock = threading.Lock()

    def _record(self, name: str, upload_id: str) -> Path:
        return self.storage.path(name) / UPLOADS / upload_id

    @staticmethod
    def ingest_ref(upload_id: str) -> str:
        return f"upload-{upload_id}"

    def start(self, name: str) -> Session:
        """A new session in repository `name`."""
        upload_id = uuid.uuid4().hex
        record = self._record(name, upload_id)
        record.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(record, json.dumps({"started": time.time()}).encode(), durable=False)
        session = Session(name, upload_id, self.storage.blobs.writer(self.ingest_ref(upload_id)), time.time())
        with self._lock:
            self._open[upload_id] = session
        return session

    def get(self, name: str, upload_id: str) -> Session:
        """The open session, or the one a stopped server left (resumed); BLOB_UPLOAD_UNKNOWN otherwise."""
        if not names.is_upload_id(upload_id) or not self._record(name, upload_id).exists():
            raise RegistryError(BLOB_UPLOAD_UNKNOWN, detail={"uuid": upload_id})
        with self._lock:
            session = self._open.get(upload_id)
            if session is None:
                writer = self.storage.blobs.writer(self.ingest_ref(upload_id))
                session = self._open[upload_id] = Session(name, upload_id, writer, time.time())
            session.used = time.time()
            return session

    def finish(self, session: Session, digest: str) -> None:
        """Commit the upload as `digest` into the repository; the session ends either way."""
        try:
            self.storage.commit_blob(session.name, session.writer, digest)
        finally:
            self._forget(session.name, session.id)

    def cancel(self, name: str, upload_id: str) -> None:
        session = self.get(name, upload_id)
        session.writer.abort()
        self._forget(name, upload_id)

    def _forget(self, name: str, upload_id: str) -> None:
        with self._lock:
            self._open.pop(upload_id, None)
        self._record(name, upload_id).unlink(missing_ok=True)

    def close_idle(self, idle: float, busy: set[str]) -> None:
        """Close the writers of sessions unused for `idle` seconds and not `busy` (their data stays for a
        later request)."""
        limit = time.time() - idle
        with self._lock:
            stale = [s for s in self._open.values() if s.used < limit and s.id not in busy]
            for session in stale:
                del self._open[session.id]
        for session in stale:
            session.writer.close()

    def sessions(self) -> list[tuple[str, str]]:
        """(repository, id) of every session on disk, open or not."""
        root = self.storage.repositories_dir
        return [(str(record.parent.parent.relative_to(root)), record.name)
                for record in root.glob(f"**/{UPLOADS}/*") if names.is_upload_id(record.name)]

    def expire(self, expiry: float = UPLOAD_EXPIRY) -> list[str]:
        """Drop the sessions with no write for `expiry` seconds; returns their ids."""
        limit = time.time() - expiry
        dropped = []
        for name, upload_id in self.sessions():
            record = self._record(name, upload_id)
            try:
                updated = record.stat().st_mtime
                updated = max(self.storage.blobs.status(self.ingest_ref(upload_id)).updated, updated)
            except FileNotFoundError:
                continue  # finished or cancelled in the meantime
            except NotFound:
                pass  # no data written yet
            if updated < limit:
                self.storage.blobs.abort(self.ingest_ref(upload_id))
                record.unlink(missing_ok=True)
                dropped.append(upload_id)
        return dropped
