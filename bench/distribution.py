#!/usr/bin/env python3
"""push and pull of an image with a 200 MB random-data layer to and from Debian's docker-registry,
through berthd and through a private dockerd side by side, with the ratio berthd / dockerd.

Each run uses a new registry (a new port, so neither engine knows it has sent a layer there): the
push sends every layer, and the pull, after `rmi`, downloads the image's own layer.
Usage: bench/distribution.py [SIZE_MB] [RUNS]   (run as root)
Target: berthd takes at most 0.4x dockerd's time for push and for pull.
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import Engine, isolate, side_by_side  # noqa: E402
from tests.registries import docker_registry  # noqa: E402

TARGET_RATIO = 0.4
OPERATIONS = ("first push", "push", "pull")


def measure(engine: Engine, size_mb: int, runs: int, scratch: Path) -> dict[str, float]:
    engine.run("run", "--name", "big", "busybox", "sh", "-c", f"head -c {size_mb * 1000000} /dev/urandom > /big")
    engine.run("commit", "big", "big:1")
    samples: dict[str, list[float]] = {name: [] for name in OPERATIONS}
    for run in range(runs):
        with docker_registry(engine.netns, scratch / f"{engine.name}-{run}") as registry:  # type: ignore[arg-type]
            name = f"{registry}/bench/big:1"
            engine.run("tag", "big:1", name)
            started = time.perf_counter()
            engine.run("push", name)
            samples["first push" if run == 0 else "push"].append(time.perf_counter() - started)
            engine.run("rmi", name, "big:1")
            started = time.perf_counter()
            engine.run("pull", name)
            samples["pull"].append(time.perf_counter() - started)
            engine.run("tag", name, "big:1")
            engine.run("rmi", name)
    engine.run("rm", "big")
    return {name: statistics.median(values) for name, values in samples.items() if values}


def main() -> None:
    size_mb = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    isolate()
    results = side_by_side(lambda engine, scratch: measure(engine, size_mb, runs, scratch), "bench-distribution-")
    print(f"{size_mb} MB random-data layer, docker-registry on loopback, median of {runs} "
          f"(target: berthd at most {TARGET_RATIO}x dockerd)")
    print(f"{'operation':<12}{'berthd':>10}{'dockerd':>10}{'ratio':>8}")
    for operation in OPERATIONS:
        if operation in results["berthd"] and operation in results["dockerd"]:
            berth, docker = results["berthd"][operation], results["dockerd"][operation]
            print(f"{operation:<12}{berth:>9.2f}s{docker:>9.2f}s{berth / docker:>8.2f}")


if __name__ == "__main__":
    main()
