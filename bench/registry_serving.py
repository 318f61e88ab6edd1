#!/usr/bin/env python3
"""berth's registry beside Debian's docker-registry: 16 clients (busybox wget) pulling one 200 MB blob
at once, on loopback in a private network namespace. Prints each server's throughput and its peak
resident memory (VmHWM), for blobs of two sizes, to show memory stays flat as blobs grow.

Usage: bench/registry_serving.py [SIZE_MB] [CLIENTS]   (run as root)
Target: berth's throughput at least docker-registry's; its memory not growing with the blob.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402

from bench.harness import BIN, isolate  # noqa: E402
from tests.registries import docker_registry, free_port, serving  # noqa: E402

OWN_NETNS = Path("/proc/self/ns/net")


@contextmanager
def berth_registry(root: Path) -> Iterator[str]:
    port = free_port(OWN_NETNS)
    command = [str(BIN / "berth"), "registry", "serve", "-a", f"127.0.0.1:{port}", "--root", str(root),
               "--log-level", "warning"]
    with serving(OWN_NETNS, command, "127.0.0.1", port, root.parent / "berth-registry.log"):
        yield f"127.0.0.1:{port}"


def server_pid(port: str) -> int:
    """The process listening on the port (ss -ltnp)."""
    listing = subprocess.run(["ss", "-Hltnp", f"sport = :{port}"], capture_output=True, text=True).stdout
    return int(listing.split("pid=")[1].split(",")[0])


def peak_memory(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM:"))


def upload(registry: str, blob: Path) -> str:
    digest = "sha256:" + hashlib.file_digest(open(blob, "rb"), "sha256").hexdigest()
    with httpx.Client(base_url=f"http://{registry}", timeout=120) as http:
        location = http.post("/v2/bench/blob/blobs/uploads/").headers["location"]
        url = httpx.URL(location if "://" in location else f"http://{registry}{location}").copy_add_param("digest", digest)
        with open(blob, "rb") as data:
            assert http.put(url, content=data, headers={"Content-Type": "application/octet-stream"}).status_code == 201
    return digest


def concurrent_pulls(registry: str, digest: str, clients: int) -> float:
    """Seconds for `clients` wget processes to each read the whole blob."""
    url = f"http://{registry}/v2/bench/blob/blobs/{digest}"
    started = time.perf_counter()
    processes = [subprocess.Popen(["busybox", "wget", "-q", "-O", "/dev/null", url]) for _ in range(clients)]
    assert all(process.wait() == 0 for process in processes)
    return time.perf_counter() - started


def measure(start: object, scratch: Path, blob: Path, clients: int) -> tuple[float, int]:
    with start(scratch) as registry:  # type: ignore[operator]
        digest = upload(registry, blob)
        concurrent_pulls(registry, digest, 2)  # warm the page cache
        seconds = concurrent_pulls(registry, digest, clients)
        return seconds, peak_memory(server_pid(registry.rsplit(":", 1)[1]))


def main() -> None:
    size_mb = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    clients = int(sys.argv[2]) if len(sys.argv) > 2 else 16
    isolate()
    print(f"{clients} concurrent pulls of one blob, loopback; throughput and the server's peak RSS")
    print(f"{'blob':>8}  {'server':<16}{'seconds':>9}{'MB/s':>9}{'peak RSS':>10}")
    with tempfile.TemporaryDirectory(prefix="bench-registry-", dir="/var/tmp") as scratch:
        for size in (size_mb // 4, size_mb):
            blob = Path(scratch) / f"blob-{size}"
            with open(blob, "wb") as out:
                out.write(os.urandom(size * 1000000))
            for label, start in (("berth registry", berth_registry),
                                 ("docker-registry", lambda root: docker_registry(OWN_NETNS, root))):
                seconds, peak = measure(start, Path(scratch) / f"{label}-{size}".replace(" ", "-"), blob, clients)
                print(f"{size:>6}MB  {label:<16}{seconds:>9.2f}{clients * size / seconds:>9.0f}{peak / 1e6:>9.0f}M")


if __name__ == "__main__":
    main()
