"""Network benchmarks (issue 8), berthd side by side with Debian's dockerd when it is installed:
throughput of 1 GiB over HTTP (busybox httpd and wget) between two containers on the default bridge
and out of a published port to the host through 127.0.0.1 (dockerd: its userland proxy; berth:
DNAT), and 200
containers on one user network: start, reach the first by name, remove, the last 10 against the first 10.

Usage: python bench/network.py [--gib 1] [--containers 200]
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import time

from harness import DOCKER, Engine, isolate, start_berthd, start_dockerd

GIB = 1 << 30


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def _file_server(engine: Engine, gib: int, *publish: str) -> str:
    """A container serving a sparse file of `gib` GiB at /big with busybox httpd (busybox's nc stops
    short on long streams); its ID."""
    server = engine.run("run", "-d", *publish, "busybox", "sh", "-c",
                        f"mkdir /www && dd if=/dev/zero of=/www/big bs=1 count=0 seek={gib}G 2>/dev/null && "
                        "exec httpd -f -p 80 -h /www").stdout.decode().strip()
    time.sleep(1)
    return server


def between_containers(engine: Engine, gib: int) -> float:
    """MiB/s from one container to another on the default bridge."""
    server = _file_server(engine, gib)
    address = engine.run("inspect", "-f", "{{.NetworkSettings.IPAddress}}", server).stdout.decode().strip()
    start_cost = statistics.median(timed(lambda: engine.run("run", "--rm", "busybox", "true")) for _ in range(3))
    took = _median_of_warm(lambda: engine.run("run", "--rm", "busybox", "wget", "-q", "-O", "/dev/null",
                                              f"http://{address}/big"))
    engine.run("rm", "-f", server)
    return gib * 1024 / (took - start_cost)


def _median_of_warm(transfer) -> float:
    """The median of 3 timed transfers after one untimed (the file's first read is the disk's)."""
    transfer()
    return statistics.median(timed(transfer) for _ in range(3))


def into_published_port(engine: Engine, gib: int) -> float:
    """MiB/s from a container's published port to the host, through 127.0.0.1."""
    server = _file_server(engine, gib, "-p", "8081:80")
    took = _median_of_warm(lambda: subprocess.run(["nsenter", f"--net={engine.netns}", "busybox", "wget", "-q", "-O",
                                                   "/dev/null", "http://127.0.0.1:8081/big"], check=True))
    engine.run("rm", "-f", server)
    return gib * 1024 / took


def many_on_one_network(engine: Engine, count: int) -> dict[str, float]:
    """Per-container seconds to start, the first 10 and the last 10 (medians: one start slowed by the
    machine says nothing of the engine), and to remove; whether the
    last reaches the first by name."""
    engine.run("network", "create", "crowd")
    starts = []
    for i in range(count):
        starts.append(timed(lambda i=i: engine.run("run", "-d", "--network", "crowd", "--name", f"crowd{i}",
                                                   "busybox", "sleep", "100000")))
    reached = engine.run("exec", f"crowd{count - 1}", "ping", "-c", "1", "-W", "2", "crowd0").returncode == 0
    removal = timed(lambda: engine.run("rm", "-f", *[f"crowd{i}" for i in range(count)]))
    deadline = time.monotonic() + 120  # dockerd lets go of endpoints a while after their containers
    while subprocess.run([engine.cli, "-H", engine.host, "network", "rm", "crowd"], capture_output=True).returncode:
        if time.monotonic() > deadline:
            raise RuntimeError("network crowd was not removed")
        time.sleep(0.5)
    return {"first 10 start s": statistics.median(starts[:10]), "last 10 start s": statistics.median(starts[-10:]),
            "remove s/container": removal / count, "reached by name": float(reached)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gib", type=int, default=1)
    parser.add_argument("--containers", type=int, default=200)
    args = parser.parse_args()
    isolate()
    engines = [start_berthd(), *([engine] if DOCKER and (engine := start_dockerd()) else [])]
    try:
        for engine in engines:
            print(f"{engine.name}:")
            print(f"  container -> container     {between_containers(engine, args.gib):8.0f} MiB/s")
            print(f"  port -> 127.0.0.1 -> host  {into_published_port(engine, args.gib):8.0f} MiB/s")
            for name, value in many_on_one_network(engine, args.containers).items():
                print(f"  {args.containers} on one network, {name:18} {value:8.3f}")
    finally:
        for engine in engines:
            engine.close()


if __name__ == "__main__":
    main()
