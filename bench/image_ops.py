#!/usr/bin/env python3
"""commit / save / load of an image with a 200 MB random-data layer, through berthd and through a
private dockerd side by side (each driven by its own CLI), with the ratio berthd / dockerd.

Usage: bench/image_ops.py [SIZE_MB] [RUNS]   (run as root)
Target: berthd takes at most half of dockerd's time for each operation.
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import Engine, isolate, side_by_side  # noqa: E402

TARGET_RATIO = 0.5
OPERATIONS = ("commit", "save", "load")


def measure(engine: Engine, size_mb: int, runs: int, scratch: Path) -> dict[str, float]:
    """Median seconds of each operation; the image is removed between runs so each one does the work."""
    engine.run("run", "--name", "big", "busybox", "sh", "-c", f"head -c {size_mb * 1000000} /dev/urandom > /big")
    archive = scratch / f"{engine.name}.tar"
    samples: dict[str, list[float]] = {name: [] for name in OPERATIONS}

    def timed(name: str, *args: str) -> None:
        started = time.perf_counter()
        engine.run(*args)
        samples[name].append(time.perf_counter() - started)

    for _ in range(runs):
        timed("commit", "commit", "big", "big:1")
        timed("save", "save", "-o", str(archive), "big:1")
        engine.run("rmi", "big:1")
        timed("load", "load", "-i", str(archive))
        engine.run("rmi", "big:1")
        archive.unlink()
    engine.run("rm", "big")
    return {name: statistics.median(values) for name, values in samples.items()}


def main() -> None:
    size_mb = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    isolate()
    results = side_by_side(lambda engine, scratch: measure(engine, size_mb, runs, scratch), "bench-images-")
    print(f"{size_mb} MB random-data layer, median of {runs} (target: berthd at most {TARGET_RATIO}x dockerd)")
    for name in OPERATIONS:
        ours, theirs = results["berthd"][name], results["dockerd"][name]
        ratio = ours / theirs
        verdict = "ok" if ratio <= TARGET_RATIO else "SLOW"
        print(f"  {name:7s} berthd {ours:6.3f} s   dockerd {theirs:6.3f} s   ratio {ratio:4.2f}  {verdict}")


if __name__ == "__main__":
    main()
