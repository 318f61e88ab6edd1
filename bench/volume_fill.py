#!/usr/bin/env python3
"""An anonymous volume filled from an image path holding 10 000 small files: `create -v /data` and a
`run` of it, through berthd beside a private dockerd, with the ratio berthd / dockerd.

Usage: bench/volume_fill.py [FILES] [RUNS]   (run as root)
Target (issue 11): at most 0.5x dockerd's time.
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import Engine, isolate, side_by_side  # noqa: E402

TARGET_RATIO = 0.5


def measure(engine: Engine, files: int, runs: int) -> dict[str, float]:
    engine.run("run", "--name", "maker", "busybox", "sh", "-c",
               f"mkdir /data && cd /data && i=0; while [ $i -lt {files} ]; do echo $i > f$i; i=$((i+1)); done")
    engine.run("commit", "maker", "many-files")
    engine.run("rm", "maker")
    create, run = [], []
    for _ in range(runs):
        started = time.perf_counter()
        container = engine.run("create", "-v", "/data", "many-files", "true").stdout.decode().strip()
        create.append(time.perf_counter() - started)
        engine.run("rm", "-v", container)
        started = time.perf_counter()
        engine.run("run", "--rm", "-v", "/data", "many-files", "true")
        run.append(time.perf_counter() - started)
    return {"create": statistics.median(create), "run --rm": statistics.median(run)}


def main() -> None:
    files = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    isolate()
    results = side_by_side(lambda engine, scratch: measure(engine, files, runs), "bench-volume-")
    print(f"anonymous volume over an image path of {files} small files, median of {runs} "
          f"(target: berthd at most {TARGET_RATIO}x dockerd)")
    for name in ("create", "run --rm"):
        ours, theirs = results["berthd"][name], results["dockerd"][name]
        print(f"  {name:<9} berthd {ours:.3f} s   dockerd {theirs:.3f} s   ratio {ours / theirs:.2f}")


if __name__ == "__main__":
    main()
