"""HTTP to one registry: the first of its endpoints that answers `/v2/`, authorized as its challenge
asks, and the distribution spec's requests on one repository."""
from __future__ import annotations

import socket
import ssl
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

from berth.distribution.auth import Authorizer, Challenge, Credentials
from berth.distribution.policy import Endpoint, RegistryPolicy
from berth.errdefs import BerthError, Forbidden, NotFound, Unauthorized

TIMEOUT = httpx.Timeout(60.0, connect=15.0)


def registry_error(response: httpx.Response, default: str = "") -> BerthError:
    """The registry's answer as an error of the matching kind, worded as the distribution
    errcodes are (`manifest unknown: manifest unknown`)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    errors = body.get("errors") if isinstance(body, dict) else None
    if errors:
        text = "; ".join(f"{str(e.get('code', 'unknown')).lower().replace('_', ' ')}: {e.get('message', '')}"
                         for e in errors if isinstance(e, dict))
    else:
        text = default or f"unexpected status from {response.request.method} request to {response.request.url}: " \
                          f"{response.status_code} {response.reason_phrase}"
    kind: type[BerthError] = {401: Unauthorized, 403: Forbidden, 404: NotFound}.get(response.status_code, BerthError)
    return kind(text)


class Unreachable(BerthError):
    """No answer from the registry (dockerd answers such a pull with 500, not 503)."""


def transport_error(method: str, url: str, error: Exception) -> Unreachable:
    """A request that got no answer, in Go's words where a Docker user knows them."""
    reason = str(error) or type(error).__name__
    cause = _root_cause(error)
    address = httpx.URL(url).netloc.decode()
    if isinstance(cause, ssl.SSLCertVerificationError):
        reason = f"x509: {cause.verify_message or reason}"
    elif isinstance(cause, socket.gaierror):
        reason = f"dial tcp: lookup {httpx.URL(url).host}: {cause.strerror}"
    elif isinstance(cause, OSError) and cause.strerror:
        reason = f"dial tcp {address}: connect: {cause.strerror.lower()}"
    return Unreachable(f'{method.title()} "{url}": {reason}')


def _root_cause(error: BaseException) -> BaseException:
    """The first error in the chain that is not httpx's or httpcore's wrapping of it."""
    while (error.__cause__ or error.__context__) is not None and type(error).__module__.startswith(("httpx", "httpcore")):
        error = error.__cause__ or error.__context__  # type: ignore[assignment]
    return error


def _speaks_plain_http(url: str) -> Unreachable | None:
    """For an HTTPS endpoint that failed: Go's words if the server answers plain HTTP instead."""
    if not url.startswith("https://"):
        return None
    try:
        httpx.get("http://" + url.removeprefix("https://"), timeout=5)
    except httpx.HTTPError:
        return None
    return Unreachable(f'Get "{url}": http: server gave HTTP response to HTTPS client')


class Registry:
    """A session with one registry host: connect() picks the endpoint, request() authorizes."""

    def __init__(self, policy: RegistryPolicy, host: str, credentials: Credentials) -> None:
        self.host = host
        self.policy = policy
        self.credentials = credentials
        self.endpoint: Endpoint | None = None
        self.http: httpx.Client | None = None
        self.authorizer: Authorizer | None = None

    def __enter__(self) -> Registry:
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def connect(self) -> None:
        """Ping `/v2/` at each endpoint in turn; the first that answers is the one used."""
        failure: BerthError | None = None
        endpoints = self.policy.endpoints(self.host)
        for endpoint in endpoints:
            http = httpx.Client(verify=endpoint.verify, timeout=TIMEOUT, follow_redirects=True)
            url = f"{endpoint.url}/v2/"
            try:
                response = http.get(url)
            except httpx.TransportError as error:
                http.close()
                last = endpoint is endpoints[-1]  # its error is the one reported, as dockerd's
                failure = (_speaks_plain_http(url) if last else None) or transport_error("GET", url, error)
                continue
            if response.status_code not in (200, 401):  # no registry there: the next endpoint
                http.close()
                failure = registry_error(response)
                continue
            self.endpoint, self.http = endpoint, http
            self.authorizer = Authorizer(http, self.credentials)
            self.authorizer.challenge = Challenge.parse(response.headers.get("www-authenticate", ""))
            return
        assert failure is not None
        raise failure

    def close(self) -> None:
        if self.http is not None:
            self.http.close()

    def url(self, path: str) -> str:
        assert self.endpoint is not None
        return path if "://" in path else f"{self.endpoint.url}{path}"

    def request(self, method: str, path: str, scopes: tuple[str, ...], *, headers: dict[str, str] | None = None,
                params: dict[str, str] | None = None, content: bytes | Iterable[bytes] | None = None) -> httpx.Response:
        """One request, authorized for `scopes`; a 401 gets a fresh token and one retry (when the body can be sent again)."""
        with self.stream(method, path, scopes, headers=headers, params=params, content=content) as response:
            response.read()
            return response

    @contextmanager
    def stream(self, method: str, path: str, scopes: tuple[str, ...], *, headers: dict[str, str] | None = None,
               params: dict[str, str] | None = None,
               content: bytes | Iterable[bytes] | None = None) -> Iterator[httpx.Response]:
        """As `request`, with the answer's body left to read."""
        assert self.http is not None and self.authorizer is not None
        url = self.url(path)
        replayable = content is None or isinstance(content, bytes)
        for attempt in (1, 2):
            request = self.http.build_request(method, url, params=params, content=content,
                                              headers={**self.authorizer.headers(scopes), **(headers or {})})
            try:
                response = self.http.send(request, stream=True)
            except httpx.TransportError as error:
                raise transport_error(method, str(request.url), error) from None
            if response.status_code == 401 and attempt == 1 and replayable:
                challenge = Challenge.parse(response.headers.get("www-authenticate", ""))
                response.close()
                if challenge is not None:
                    self.authorizer.challenge = challenge
                self.authorizer.forget(scopes)
                continue
            try:
                yield response
            finally:
                response.close()
            return


@dataclass(frozen=True)
class Fetched:
    """A manifest or index as the registry sent it."""

    data: bytes
    media_type: str
    digest: str | None  # Docker-Content-Digest, when the registry sent one


class Repository:
    """The distribution spec's requests on one repository (`library/busybox`) of a registry."""

    def __init__(self, registry: Registry, path: str, push: bool = False) -> None:
        self.registry = registry
        self.path = path
        self.scopes = (f"repository:{path}:{'pull,push' if push else 'pull'}",)

    def manifest(self, reference: str, accept: Iterable[str]) -> Fetched:
        response = self.registry.request("GET", f"/v2/{self.path}/manifests/{reference}", self.scopes,
                                         headers={"Accept": ", ".join(accept)})
        if response.status_code != 200:
            raise registry_error(response)
        media_type = response.headers.get("content-type", "").split(";")[0].strip()
        return Fetched(response.content, media_type, response.headers.get("docker-content-digest"))

    @contextmanager
    def blob(self, digest: str) -> Iterator[httpx.Response]:
        """The blob's body, to read as a stream."""
        with self.registry.stream("GET", f"/v2/{self.path}/blobs/{digest}", self.scopes) as response:
            if response.status_code != 200:
                response.read()
                raise registry_error(response)
            yield response

    def has_blob(self, digest: str) -> bool:
        response = self.registry.request("HEAD", f"/v2/{self.path}/blobs/{digest}", self.scopes)
        if response.status_code in (200, 404):
            return response.status_code == 200
        raise registry_error(response)

    def start_upload(self, mount: str | None = None, source: str | None = None) -> str | None:
        """Begin an upload; with `mount`, first ask to mount that blob from the repository `source`.

        Returns the upload's location, or None when the blob was mounted.
        """
        scopes = self.scopes + ((f"repository:{source}:pull",) if source else ())
        params = {"mount": mount, "from": source} if mount and source else None
        response = self.registry.request("POST", f"/v2/{self.path}/blobs/uploads/", scopes, params=params)
        if response.status_code == 201 and params:
            return None
        if response.status_code != 202 or "location" not in response.headers:
            raise registry_error(response)
        return self.registry.url(str(response.url.join(response.headers["location"])))

    def upload(self, location: str, chunks: Iterable[bytes], digest_of_sent: Callable[[], str]) -> str:
        """Stream `chunks` into the upload (one PATCH), then close it with their digest."""
        response = self.registry.request("PATCH", location, self.scopes, content=chunks,
                                         headers={"Content-Type": "application/octet-stream"})
        if response.status_code != 202:
            raise registry_error(response)
        digest = digest_of_sent()
        location = str(response.url.join(response.headers.get("location", location)))
        done = self.registry.request("PUT", str(httpx.URL(location).copy_add_param("digest", digest)), self.scopes)
        if done.status_code != 201:
            raise registry_error(done)
        return digest

    def put_blob(self, data: bytes, digest: str) -> None:
        """A small blob (an image config) in one monolithic PUT."""
        location = self.start_upload()
        assert location is not None
        response = self.registry.request("PUT", str(httpx.URL(location).copy_add_param("digest", digest)),
                                         self.scopes, content=data,
                                         headers={"Content-Type": "application/octet-stream"})
        if response.status_code != 201:
            raise registry_error(response)

    def put_manifest(self, reference: str, data: bytes, media_type: str) -> None:
        response = self.registry.request("PUT", f"/v2/{self.path}/manifests/{reference}", self.scopes,
                                         content=data, headers={"Content-Type": media_type})
        if response.status_code != 201:
            raise registry_error(response)

    def tags(self) -> list[str]:
        response = self.registry.request("GET", f"/v2/{self.path}/tags/list", self.scopes)
        if response.status_code != 200:
            raise registry_error(response)
        return list(response.json().get("tags") or [])
