"""The Distribution API's routes: each translates one request into calls on the storage (made in worker
threads, so the event loop never waits on the disk) and the storage's answer into the spec's response."""
from __future__ import annotations

import asyncio
import json
import re
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

from berth.image.manifest import OCI_INDEX
from berth.registry import manifests, names
from berth.registry.auth import BasicAuth
from berth.registry.errors import (
    DENIED,
    MANIFEST_UNKNOWN,
    NOT_FOUND,
    PARAMETER_INVALID,
    RANGE_INVALID,
    TOO_LARGE,
    UNSUPPORTED,
    RegistryError,
)
from berth.registry.http import BodyTooLarge, FileBody, Request, Response
from berth.registry.storage import Storage
from berth.registry.uploads import Session, Uploads
from berth.store import BlobWriter
from berth.threadpipe import coalesced

API_VERSION_HEADER = ("Docker-Distribution-API-Version", "registry/2.0")
CHUNK = 1 << 20
_CONTENT_RANGE = re.compile(r"^(?:bytes )?(\d+)-(\d+)(?:/\d+|/\*)?$")
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")

Route = Callable[..., Awaitable[Response]]


class Registry:
    """The handler the HTTP server calls for every request."""

    def __init__(self, storage: Storage, auth: BasicAuth | None = None, delete_enabled: bool = False,
                 read_only: bool = False) -> None:
        self.storage = storage
        self.uploads = Uploads(storage)
        self.auth = auth
        self.delete_enabled = delete_enabled
        self.read_only = read_only
        self._session_locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        name = r"(?P<name>.+)"
        table: list[tuple[str, dict[str, Route]]] = [
            (r"^/v2/?$", {"GET": self.base}),
            (r"^/v2/_catalog$", {"GET": self.catalog}),
            (rf"^/v2/{name}/tags/list$", {"GET": self.tags}),
            (rf"^/v2/{name}/manifests/(?P<reference>[^/]+)$",
             {"GET": self.get_manifest, "PUT": self.put_manifest, "DELETE": self.delete_manifest}),
            (rf"^/v2/{name}/blobs/uploads/$", {"POST": self.start_upload}),
            (rf"^/v2/{name}/blobs/uploads/(?P<upload_id>[^/]+)$",
             {"GET": self.upload_status, "PATCH": self.patch_upload, "PUT": self.finish_upload,
              "DELETE": self.cancel_upload}),
            (rf"^/v2/{name}/blobs/(?P<digest>[^/]+)$", {"GET": self.get_blob, "DELETE": self.delete_blob}),
            (rf"^/v2/{name}/referrers/(?P<digest>[^/]+)$", {"GET": self.referrers}),
        ]
        self._routes = [(re.compile(pattern), methods) for pattern, methods in table]

    async def __call__(self, request: Request) -> Response:
        try:
            if self.auth is not None:
                await asyncio.to_thread(self.auth.check, request.headers.get("authorization"))
            route, params = self._match(request.method, request.path)
            if self.read_only and request.method not in ("GET", "HEAD"):
                raise RegistryError(DENIED, "the registry is read-only")
            return await route(request, **params)
        except RegistryError as err:
            return _error(err)
        except BodyTooLarge as err:
            return _error(RegistryError(TOO_LARGE, str(err)))

    def _match(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        for pattern, methods in self._routes:
            matched = pattern.match(path)
            if matched:
                route = methods.get("GET" if method == "HEAD" else method)
                if route is None:
                    raise RegistryError(UNSUPPORTED, f"{method} is not supported on {path}")
                return route, matched.groupdict()
        raise RegistryError(NOT_FOUND, f"no such endpoint {path}")

    def _check_delete(self) -> None:
        if not self.delete_enabled:
            raise RegistryError(UNSUPPORTED, "deletion is disabled (serve with --delete-enabled)")

    # --- base, catalog, tags -----------------------------------------------------------------------
    async def base(self, request: Request) -> Response:
        return _json({})

    async def catalog(self, request: Request) -> Response:
        repositories = await asyncio.to_thread(self.storage.repositories)
        page, link = _page(request, repositories, "/v2/_catalog", str)
        return _json({"repositories": page}, link)

    async def tags(self, request: Request, name: str) -> Response:
        tags = await asyncio.to_thread(self.storage.tags, name)
        page, link = _page(request, sorted(tags, key=_lexical), f"/v2/{name}/tags/list", _lexical)
        return _json({"name": name, "tags": page}, link)

    # --- manifests ---------------------------------------------------------------------------------
    async def get_manifest(self, request: Request, name: str, reference: str) -> Response:
        digest, record, data = await asyncio.to_thread(self.storage.manifest, name, reference)
        media_type = record["mediaType"]
        if not _acceptable(media_type, request.headers.get("accept", "")):
            raise RegistryError(MANIFEST_UNKNOWN, f"manifest is {media_type}, which the Accept header does not take",
                                {"mediaType": media_type})
        return Response(200, [("Content-Type", media_type), ("Docker-Content-Digest", digest),
                              ("ETag", f'"{digest}"')], data)

    async def put_manifest(self, request: Request, name: str, reference: str) -> Response:
        names.repository(name)
        data = await request.read(manifests.MAX_SIZE)
        manifest = await asyncio.to_thread(self.storage.put_manifest, name, reference, data,
                                           request.headers.get("content-type"))
        headers = [("Location", f"/v2/{name}/manifests/{manifest.digest}"), ("Docker-Content-Digest", manifest.digest)]
        if manifest.subject:
            headers.append(("OCI-Subject", manifest.subject))
        return Response(201, headers)

    async def delete_manifest(self, request: Request, name: str, reference: str) -> Response:
        self._check_delete()
        if names.is_tag(reference):
            await asyncio.to_thread(self._delete_tag, name, reference)
        else:
            await asyncio.to_thread(self.storage.delete_manifest, name, names.digest(reference))
        return Response(202)

    def _delete_tag(self, name: str, tag: str) -> None:
        self.storage.require(name)
        self.storage.delete_tag(name, tag)

    async def referrers(self, request: Request, name: str, digest: str) -> Response:
        names.repository(name)
        found = await asyncio.to_thread(self.storage.referrers, name, names.digest(digest))
        headers = [("Content-Type", OCI_INDEX)]
        artifact_type = request.arg("artifactType")
        if artifact_type is not None:
            found = [d for d in found if d.get("artifactType") == artifact_type]
            headers.append(("OCI-Filters-Applied", "artifactType"))
        body = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": found}
        return Response(200, headers, json.dumps(body).encode())

    # --- blobs -------------------------------------------------------------------------------------
    async def get_blob(self, request: Request, name: str, digest: str) -> Response:
        digest = names.digest(digest)
        size = await asyncio.to_thread(self.storage.blob_size, name, digest)
        headers = [("Content-Type", "application/octet-stream"), ("Docker-Content-Digest", digest),
                   ("Accept-Ranges", "bytes"), ("ETag", f'"{digest}"')]
        wanted = _byte_range(request.headers.get("range"), size)
        blob = await asyncio.to_thread(self.storage.open_blob, digest)  # open now: a delete cannot cut it short
        if wanted is None:
            return Response(200, headers, FileBody(blob, 0, size))
        start, end = wanted
        headers.append(("Content-Range", f"bytes {start}-{end}/{size}"))
        return Response(206, headers, FileBody(blob, start, end + 1 - start))

    async def delete_blob(self, request: Request, name: str, digest: str) -> Response:
        self._check_delete()
        await asyncio.to_thread(self.storage.unlink_blob, name, names.digest(digest))
        return Response(202)

    # --- uploads -----------------------------------------------------------------------------------
    async def start_upload(self, request: Request, name: str) -> Response:
        names.repository(name)
        mount, source = request.arg("mount"), request.arg("from")
        if mount is not None and source is not None:
            digest = names.digest(mount)
            if await asyncio.to_thread(self._mount, name, digest, names.repository(source)):
                return _blob_created(name, digest)
        digest_arg = request.arg("digest")
        if digest_arg is not None:
            digest = names.digest(digest_arg)
            writer = await asyncio.to_thread(self.storage.blobs.writer)
            try:
                await _write_body(request, writer)
                await asyncio.to_thread(self.storage.commit_blob, name, writer, digest)
            finally:
                writer.close()
            return _blob_created(name, digest)
        session = await asyncio.to_thread(self.uploads.start, name)
        return _upload_response(202, session)

    def _mount(self, name: str, digest: str, source: str) -> bool:
        if not self.storage.has_blob(source, digest):
            return False
        self.storage.link_blob(name, digest)
        return True

    async def upload_status(self, request: Request, name: str, upload_id: str) -> Response:
        async with self._session_locks[upload_id]:
            session = await asyncio.to_thread(self.uploads.get, name, upload_id)
            return _upload_response(204, session)

    async def patch_upload(self, request: Request, name: str, upload_id: str) -> Response:
        async with self._session_locks[upload_id]:
            session = await asyncio.to_thread(self.uploads.get, name, upload_id)
            _check_chunk(request, session)
            await _write_body(request, session.writer)
            return _upload_response(202, session)

    async def finish_upload(self, request: Request, name: str, upload_id: str) -> Response:
        digest = names.digest(request.arg("digest"))
        async with self._session_locks[upload_id]:
            session = await asyncio.to_thread(self.uploads.get, name, upload_id)
            _check_chunk(request, session)
            await _write_body(request, session.writer)
            try:
                await asyncio.to_thread(self.uploads.finish, session, digest)
            finally:
                self._session_locks.pop(upload_id, None)
        return _blob_created(name, digest)

    async def cancel_upload(self, request: Request, name: str, upload_id: str) -> Response:
        async with self._session_locks[upload_id]:
            await asyncio.to_thread(self.uploads.cancel, name, upload_id)
            self._session_locks.pop(upload_id, None)
        return Response(204)

    def close_idle_uploads(self, idle: float) -> None:
        """Close the writers of upload sessions no request is using and none used for `idle` seconds."""
        busy = {upload_id for upload_id, lock in self._session_locks.items() if lock.locked()}
        self.uploads.close_idle(idle, busy)


async def _write_body(request: Request, writer: BlobWriter) -> None:
    """Stream the request body into the writer, a megabyte at a time, in a worker thread."""
    async for chunk in coalesced(request.body, CHUNK):
        await asyncio.to_thread(writer.write, chunk)


def _check_chunk(request: Request, session: Session) -> None:
    """A chunk's Content-Range must start where the upload is (416 otherwise, as the spec says)."""
    header = request.headers.get("content-range")
    if header is None:
        return
    matched = _CONTENT_RANGE.match(header.strip())
    length = request.headers.get("content-length")
    if matched is None or int(matched.group(1)) != session.writer.size or int(matched.group(2)) < int(matched.group(1)) \
            or (length is not None and int(length) != int(matched.group(2)) - int(matched.group(1)) + 1):
        raise RegistryError(RANGE_INVALID, f"chunk {header} does not follow the {session.writer.size} bytes uploaded",
                            headers=_upload_headers(session))


def _upload_headers(session: Session) -> list[tuple[str, str]]:
    return [("Location", f"/v2/{session.name}/blobs/uploads/{session.id}"),
            ("Range", f"0-{max(session.writer.size - 1, 0)}"), ("Docker-Upload-UUID", session.id)]


def _upload_response(status: int, session: Session) -> Response:
    return Response(status, _upload_headers(session))


def _blob_created(name: str, digest: str) -> Response:
    return Response(201, [("Location", f"/v2/{name}/blobs/{digest}"), ("Docker-Content-Digest", digest)])


def _byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive (start, end) a `Range: bytes=…` header asks for; None for the whole blob (no
    header, or one that is not a single byte range, which RFC 9110 lets a server ignore); 416 if the
    range is beyond the blob."""
    matched = _RANGE.match((header or "").strip())
    if matched is None or matched.groups() == ("", ""):
        return None
    first, last = matched.groups()
    if first == "":  # the last N bytes
        start, end = max(size - int(last), 0), size - 1
    else:
        start, end = int(first), min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        raise RegistryError(RANGE_INVALID, f"range {header} is not satisfiable", {"size": size},
                            headers=[("Content-Range", f"bytes */{size}")])
    return start, end


def _acceptable(media_type: str, accept: str) -> bool:
    """Whether an Accept header takes `media_type` (no header takes anything)."""
    wanted = set()
    for item in accept.split(","):
        kind, *parameters = [part.strip().lower() for part in item.split(";")]
        if kind and not any(p.replace(" ", "") in ("q=0", "q=0.0", "q=0.00", "q=0.000") for p in parameters):
            wanted.add(kind)
    return not wanted or bool(wanted & {media_type, "*/*", media_type.split("/")[0] + "/*"})


def _lexical(tag: str) -> tuple[str, str]:
    """The spec's order of tags: case-insensitive, ties broken by case."""
    return tag.lower(), tag


def _page(request: Request, items: list[str], path: str, key: Callable[[str], Any]) -> tuple[list[str], str | None]:
    """The items after `last`, at most `n` of them, and the Link header to the next page if there is one."""
    last, count = request.arg("last"), request.arg("n")
    if last is not None:
        items = [item for item in items if key(item) > key(last)]
    if count is None:
        return items, None
    if not count.isdigit():
        raise RegistryError(PARAMETER_INVALID, f"invalid n={count!r}: expected a number from 0")
    number = int(count)
    page = items[:number]
    if number == 0 or len(items) <= number:
        return page, None
    return page, f'<{path}?n={number}&last={page[-1]}>; rel="next"'


def _json(body: Any, link: str | None = None) -> Response:
    headers = [("Content-Type", "application/json")] + ([("Link", link)] if link else [])
    return Response(200, headers, json.dumps(body).encode())


def _error(err: RegistryError) -> Response:
    return Response(err.status, [("Content-Type", "application/json"), *err.headers], err.body())
