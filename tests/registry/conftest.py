"""A registry served in-process on 127.0.0.1 (an ephemeral port, a temporary storage root), and a small
HTTP client (http.client) that speaks to it as the distribution spec's clients do."""
from __future__ import annotations

import asyncio
import base64
import hashlib
import http.client
import json
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from berth.registry import server

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def error_codes(self) -> list[str]:
        return [error["code"] for error in self.json()["errors"]]


class Client:
    def __init__(self, port: int, auth: tuple[str, str] | None = None, tls: ssl.SSLContext | None = None) -> None:
        self.port = port
        self.auth = auth
        self.tls = tls

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> Reply:
        headers = dict(headers or {})
        if self.auth:
            headers["Authorization"] = "Basic " + base64.b64encode(":".join(self.auth).encode()).decode()
        conn: http.client.HTTPConnection = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.tls) \
            if self.tls else http.client.HTTPConnection("127.0.0.1", self.port)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            return Reply(response.status, response.headers, response.read())
        finally:
            conn.close()

    # --- what a pushing client does ----------------------------------------------------------------
    def push_blob(self, name: str, data: bytes) -> str:
        """POST then PUT, monolithically; returns the digest."""
        started = self.request("POST", f"/v2/{name}/blobs/uploads/")
        assert started.status == 202, started.body
        digest = digest_of(data)
        location = started.header("Location")
        done = self.request("PUT", f"{location}?digest={digest}", data,
                            {"Content-Type": "application/octet-stream"})
        assert done.status == 201, done.body
        return digest

    def push_manifest(self, name: str, reference: str, document: dict, media_type: str | None = None) -> Reply:
        media_type = media_type or document.get("mediaType", OCI_MANIFEST)
        return self.request("PUT", f"/v2/{name}/manifests/{reference}", canonical(document),
                            {"Content-Type": media_type})

    def push_image(self, name: str, tag: str | None = None, layer: bytes = b"layer", **extra: Any) -> tuple[str, dict]:
        """A config, a layer and an OCI manifest naming them; returns (manifest digest, manifest)."""
        config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers"}}).encode()
        document = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                    "config": descriptor(OCI_CONFIG, config, self.push_blob(name, config)),
                    "layers": [descriptor(OCI_LAYER, layer, self.push_blob(name, layer))], **extra}
        reply = self.push_manifest(name, tag or digest_of(canonical(document)), document)
        assert reply.status == 201, reply.body
        return digest_of(canonical(document)), document


def canonical(document: dict) -> bytes:
    return json.dumps(document, separators=(",", ":")).encode()


def descriptor(media_type: str, data: bytes, digest: str | None = None) -> dict:
    return {"mediaType": media_type, "digest": digest or digest_of(data), "size": len(data)}


class RunningRegistry:
    """The registry's server on its own event loop, in a thread of the test process."""

    def __init__(self, config: server.Config) -> None:
        self.config = config
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.server, self.app = asyncio.run_coroutine_threadsafe(server.start(config), self.loop).result()
        self.port: int = self.server.sockets[0].getsockname()[1]

    def client(self, auth: tuple[str, str] | None = None, tls: ssl.SSLContext | None = None) -> Client:
        return Client(self.port, auth, tls)

    def close(self) -> None:
        async def stop() -> None:
            self.server.close()
            await self.server.wait_closed()
            connections = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in connections:
                task.cancel()
            await asyncio.gather(*connections, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()


StartRegistry = Callable[..., RunningRegistry]


@pytest.fixture
def start_registry(tmp_path: Path) -> Iterator[StartRegistry]:
    """Start a registry on 127.0.0.1:<any port> with storage under tmp_path/registry; options as server.Config's."""
    running: list[RunningRegistry] = []

    def start(**options: Any) -> RunningRegistry:
        options.setdefault("root", tmp_path / "registry")
        registry = RunningRegistry(server.Config(address="127.0.0.1:0", **options))
        running.append(registry)
        return registry

    yield start
    for registry in running:
        registry.close()


@pytest.fixture
def registry(start_registry: StartRegistry) -> RunningRegistry:
    return start_registry(delete_enabled=True)


@pytest.fixture
def client(registry: RunningRegistry) -> Client:
    return registry.client()
